// A hang whose cause is an actor that threw with a lock held: the report names the exception
// beside the actors it left waiting (before, the users' and workers' errors were read only when
// every actor had ended, and a hang dropped them).
import { describe, expect, it } from 'vitest';
import { Rig } from '../src/system/rig.ts';
import { throw_holding } from './programs/throw-holding.ts';

describe('a hang after an exception', () => {
  for (const throws of [1, 0]) {
    it(throws === 1 ? 'reports the exception of the user that holds io_mutex, and the waiter' : 'the twin that unlocks ends with no finding', async () => {
      const rig = await Rig.start(2, [throw_holding.module]);
      try {
        const out = await rig.run({ variant: 'mainline', scenario: throw_holding, users: 2, seed: 1, detectors: ['invariants'], iterations: 1, hang_ms: 1500, params: { throws } });
        const ids = out.report.findings.map((f) => f.id);
        if (throws === 0) return void expect(ids).toEqual([]);
        expect(ids).toContain('no-progress');
        const failed = out.report.findings.find((f) => f.id === 'user-failed');
        expect(failed?.message, JSON.stringify(out.report.findings.map((f) => f.message))).toMatch(/^user 1: .*reading 'cpa'/);
        // where it threw: the program's frame heads the stack
        expect(failed?.trace?.[0]).toMatch(/throw-holding/);
        expect(out.report.findings.find((f) => f.id === 'no-progress')?.message).toMatch(/user0: waits on private->io_mutex/);
      } finally {
        await rig.close();
      }
    }, 60_000);
  }

  it("keeps the failed checks of a user that returned with io_mutex held", async () => {
    const rig = await Rig.start(2, [throw_holding.module]);
    try {
      const out = await rig.run({ variant: 'mainline', scenario: throw_holding, users: 2, seed: 1, detectors: ['invariants'], iterations: 1, hang_ms: 1500, params: { throws: 2 } });
      expect(out.report.findings.map((f) => f.id)).toEqual(expect.arrayContaining(['no-progress', 'held.oops']));
    } finally {
      await rig.close();
    }
  }, 60_000);
});
