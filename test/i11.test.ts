// I11: one quiesce issues at most 1 cancel + 3 halts + 255 clears and then terminates. v4.12's
// quiesce resets its retry count on every pass (M-B3 fixed that in v5.0/stable), so against a
// device that ignores halt and clear it never ends; mainline gives up with -EIO.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rig } from '../src/system/rig.ts';
import { scenario } from './programs/quiesce-scenario.ts';

let rig: Rig;
beforeAll(async () => {
  rig = await Rig.start(1, [scenario.module]);
});
afterAll(() => rig.close());

const run = (variant: string) => rig.run({ variant, scenario, users: 1, seed: 1, detectors: ['invariants'], sched: { strategy: 'pct', seed: 1, depth: 1, expected: 1000, max_steps: 150_000 } });

describe('I11 (controlled mode: the 3 s waits pass in virtual time)', () => {
  it('v4.12: the quiesce never terminates: I11 fires, and the schedule ends as a livelock', async () => {
    const o = await run('v4.12');
    const ids = o.report.findings.map((f) => f.id);
    expect(ids).toContain('I11');
    expect(ids).toContain('livelock');
  });

  it('mainline: the quiesce gives up within the bound; no I11', async () => {
    const o = await run('mainline');
    expect(o.report.findings.map((f) => f.id)).not.toContain('I11');
    expect(o.sched?.abort).toBe('none');
  });
});
