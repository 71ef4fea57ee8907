// The schedules' fingerprint (src/bench/fingerprint.ts), the guard of work on the schedule's
// speed: the same searches on the same rig give the same hash, and it tells searches apart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rig } from '../src/system/rig.ts';
import { scenario as s12 } from '../src/scenarios/s12-clear-then-start.ts';
import { sched_fingerprint } from '../src/bench/fingerprint.ts';

let rig: Rig;
beforeAll(async () => {
  rig = await Rig.start(1, [s12.module]);
});
afterAll(() => rig.close());

describe('sched_fingerprint', () => {
  it('hashes every schedule of each search the same way twice, and differently per search and variant', async () => {
    const opts = { variants: ['v5.3', 'mainline'], searches: ['pct', 'random', 'dfs'], budget: 8, seed: 7, detectors: ['invariants', 'trace'] as const };
    const a = await sched_fingerprint(rig, s12, opts);
    const b = await sched_fingerprint(rig, s12, opts);
    expect(a.rows.map((r) => r.schedules)).toEqual([8, 8, 8, 8, 8, 8]);
    expect(b.rows).toEqual(a.rows);
    expect(b.lines).toEqual(a.lines);
    expect(new Set(a.rows.map((r) => r.hash)).size).toBe(6);
    // every line carries the schedule's decisions
    for (const l of a.lines) expect(l).toMatch(/ dec=\d+,/);
  });
});
