// A matrix in one process: check over 2 variants x 2 scenarios starts its threads once: one
// search thread (--jobs 1) whose actor workers serve every controlled cell, and one set of actor
// workers on main for every free run. A change of variant or scenario starts none (child process).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { scenario as s6 } from '../src/scenarios/s06-eagain-contention.ts';
import { scenario as s12 } from '../src/scenarios/s12-clear-then-start.ts';

const BIN = new URL('../bin/vfio-ccw-sim.mjs', import.meta.url).pathname;

it('check over 2 variants x 2 scenarios with one job starts its search thread and actor workers once', () => {
  const rep = join(mkdtempSync(join(tmpdir(), 'vfio-ccw-sim-check-reuse-')), 'check.json');
  // S12 first (one user), then S6 (two): the rig is sized for the larger one from the start
  const r = spawnSync(process.execPath, [BIN, 'check', '--variant', 'v5.13', '--base', 'v5.3', '--scenarios', 'S12,S6', '--budget', '2', '--jobs', '1', '--baseline', 'none', '--quiet', '--report', rep], { encoding: 'utf8', timeout: 600_000 });
  expect([0, 1], r.stderr).toContain(r.status);
  const report = JSON.parse(readFileSync(rep, 'utf8')) as { cells: { variant: string; scenario: string; arm: string; status: string; schedules: number }[]; threads: { search: number; actors: number } };
  // every cell of the matrix ran (2 variants x 2 scenarios x 4 arms)
  expect(report.cells.length).toBe(16);
  for (const c of report.cells) expect(c, JSON.stringify(c)).toMatchObject({ status: 'run' });
  expect(new Set(report.cells.map((c) => `${c.variant}/${c.scenario}`)).size).toBe(4);
  expect(report.threads.search).toBe(1);
  // irq + todo + css + the users of the largest scenario: once for the controlled cells, once for the free runs
  const controlled = 3 + Math.max(s6.users.min, s12.users.min);
  const free = 3 + Math.max(s6.users.default, s12.users.default);
  expect(report.threads.actors).toBe(controlled + free);
}, 600_000);
