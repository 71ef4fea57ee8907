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

interface RaceJson {
  scenario: string;
  scenarios?: string[];
  jobs: number;
  findings: { signature: string; count?: number }[];
  stats: { schedules: number; steps: number; actor_threads_started: number };
}

function race_json(args: string[]): RaceJson {
  const rep = join(mkdtempSync(join(tmpdir(), 'vfio-ccw-sim-reuse-')), 'race.json');
  const r = spawnSync(process.execPath, [BIN, 'race', ...args, '--strategy', 'random', '--seeds', '1', '--all', '--workers', '1', '--no-shrink', '--baseline', 'none', '--quiet', '--report', rep], { encoding: 'utf8', timeout: 300_000 });
  expect([0, 1], r.stderr).toContain(r.status);
  return JSON.parse(readFileSync(rep, 'utf8')) as RaceJson;
}

/** signature -> times seen, over reports */
function seen(...rs: RaceJson[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rs) for (const f of r.findings) out[f.signature] = (out[f.signature] ?? 0) + (f.count ?? 1);
  return out;
}

it('race over 2 variants x 2 scenarios starts the threads of one run, and searches what two separate runs search', () => {
  // S12 first (one user), then S6 (two): the rig is sized for S6 from the first job
  const both = race_json(['--variant', 'v5.3,mainline', '--scenario', 'S12,S6', '--budget', '8']);
  const s12 = race_json(['--variant', 'v5.3,mainline', '--scenario', 'S12', '--budget', '4']);
  const s6 = race_json(['--variant', 'v5.3,mainline', '--scenario', 'S6', '--budget', '4']);
  expect(both.scenario).toBe('S12,S6');
  expect(both.scenarios).toEqual(['S12', 'S6']);
  expect(both.jobs).toBe(4);
  // irq, todo, css and S6's two users, once: what the S6 run alone starts
  expect(s6.stats.actor_threads_started).toBe(5);
  expect(both.stats.actor_threads_started).toBe(s6.stats.actor_threads_started);
  // controlled mode: the same schedules, step for step, and the same findings
  expect(both.stats.schedules).toBe(s12.stats.schedules + s6.stats.schedules);
  expect(both.stats.steps).toBe(s12.stats.steps + s6.stats.steps);
  expect(Object.keys(seen(both)).length).toBeGreaterThan(0);
  expect(seen(both)).toEqual(seen(s12, s6));
}, 600_000);
