// stress over several variants and scenarios runs every (variant, scenario) on one set of actor
// workers: a change of either starts no thread (child processes, --iterations: one run per cell).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const BIN = new URL('../bin/vfio-ccw-sim.mjs', import.meta.url).pathname;

interface StressJson {
  variant: string;
  scenario: string;
  scenarios: string[];
  runs: number;
  stats: { actor_threads_started: number };
}

function stress_json(args: string[]): StressJson {
  const rep = join(mkdtempSync(join(tmpdir(), 'vfio-ccw-sim-stress-reuse-')), 'stress.json');
  const r = spawnSync(process.execPath, [BIN, 'stress', ...args, '--iterations', '2', '--baseline', 'none', '--quiet', '--report', rep], { encoding: 'utf8', timeout: 300_000 });
  expect([0, 1], r.stderr).toContain(r.status);
  return JSON.parse(readFileSync(rep, 'utf8')) as StressJson;
}

it('stress over 2 variants x 2 scenarios runs each once and starts the threads of one run', () => {
  const both = stress_json(['--variant', 'v5.3,mainline', '--mix', 'S2,S6']);
  const one = stress_json(['--variant', 'mainline', '--scenario', 'S6']);
  expect(both.variant).toBe('v5.3,mainline');
  expect(both.scenarios.sort()).toEqual(['S2', 'S6']);
  expect(both.runs).toBe(4);
  expect(one.runs).toBe(1);
  // irq, todo, the css worker and two users (both scenarios' default), once
  expect(one.stats.actor_threads_started).toBe(5);
  expect(both.stats.actor_threads_started).toBe(one.stats.actor_threads_started);
}, 600_000);
