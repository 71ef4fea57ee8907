// The parent's unregistration against an mdev create in progress (test/programs/create-vs-gone.ts):
// v5.3+ create_store holds parent->unreg_sem for read from before the driver's probe until the mdev
// is active (mdev_core.c, 5715c4dd66a3), so the css worker's mdev_unregister_parent waits for it.
// The model's create took no part in unreg_sem: the css worker removed the mdev between the probe
// and the registration, and on v6.2+ freed the private the create then registered; every user
// path on it paired with .release's kfree in `fuzz --lifecycle` (v6.2, v6.3).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rig } from '../src/system/rig.ts';
import { create_vs_gone } from './programs/create-vs-gone.ts';

describe('mdev create against the parent unregistration', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await Rig.start(2, [create_vs_gone.module]);
  }, 60_000);
  afterAll(async () => {
    await rig.close();
  });
  for (const variant of ['v6.2', 'mainline', 'v5.3']) {
    it(`${variant}: the css unregistration waits for a create that holds unreg_sem, then removes its mdev`, async () => {
      for (const sched of [{ strategy: 'random' as const, seed: 3, depth: 3, expected: 2000, max_steps: 400_000 }, undefined]) {
        const out = await rig.run({ variant, scenario: create_vs_gone, users: 2, seed: 3, detectors: ['invariants', 'lockdep'], iterations: 1, duration_s: 60, hang_ms: 30_000, ...(sched !== undefined ? { sched } : {}) });
        const mode = sched === undefined ? 'free' : 'controlled';
        expect(out.report.findings.filter((f) => f.id.startsWith('create-gone.') || f.id === 'hang' || f.id === 'livelock'), `${variant} ${mode}: ${JSON.stringify(out.report.findings.map((f) => f.message))}`).toEqual([]);
        expect(out.results.flatMap((r) => r.checks).filter((k) => k.id.startsWith('create-gone.')).length, `${variant} ${mode}`).toBe(5);
        if (sched !== undefined) expect(out.sched?.abort, `${variant} ${mode}`).toBe('none');
      }
    }, 240_000);
  }
});
