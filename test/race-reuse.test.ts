// A matrix in one process: race over several variants and strategies starts its actor workers
// once per search thread, not once per job (child process, small budget).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const BIN = new URL('../bin/vfio-ccw-sim.mjs', import.meta.url).pathname;

it('race over 2 variants x 2 strategies x 2 seeds on one search thread starts irq, todo, css and one user once', () => {
  const rep = join(mkdtempSync(join(tmpdir(), 'vfio-ccw-sim-reuse-')), 'race.json');
  const r = spawnSync(process.execPath, [BIN, 'race', '--variant', 'mainline,v5.3', '--strategy', 'random,pct', '--seeds', '2', '--budget', '16', '--all', '--workers', '1', '--no-shrink', '--quiet', '--report', rep], { encoding: 'utf8', timeout: 300_000 });
  expect([0, 1], r.stderr).toContain(r.status);
  const report = JSON.parse(readFileSync(rep, 'utf8')) as { jobs: number; stats: { schedules: number; actor_threads_started: number } };
  expect(report.jobs).toBe(8);
  expect(report.stats.schedules).toBe(16);
  expect(report.stats.actor_threads_started).toBe(4);
}, 300_000);
