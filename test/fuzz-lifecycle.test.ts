// The mdev lifecycle calls on fuzz user actors (issue 14): mdev_remove waits for every FD as the
// vfio core does, users answer REQ, calls after a remove get the kernel's errnos, a create brings
// the device back, and generated programs with both calls run to the end on several versions.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rig, type RunOutcome } from '../src/system/rig.ts';
import { fuzz_scenario } from '../src/fuzz/exec.ts';
import { lifecycle_of, run_token } from '../src/fuzz/campaign.ts';
import { gen_programs } from '../src/fuzz/gen.ts';
import { calls_of, call_spec, type Call } from '../src/fuzz/syscalls.ts';
import { variant_by_name } from '../src/variants/index.ts';
import { EEXIST, ENOENT } from '../src/uapi/errno.ts';
import { decode_token, encode_token, type FuzzToken } from '../src/fuzz/token.ts';
import { finding_key } from '../src/fuzz/finding-key.ts';
import { classify } from '../src/fuzz/campaign.ts';
import { known_baseline } from '../src/variants/baseline.ts';
import { remove_order } from './programs/remove-order.ts';
import { load_variant_file } from '../src/variants/load.ts';
import { remove_vs_gone } from './programs/remove-vs-gone.ts';
import { gone_open } from './programs/gone-open.ts';

const F = (v: string) => variant_by_name(v)!.features;
/** mainline under its file's path: what the version's features select must not hang on the name */
const RENAMED = new URL('./fixtures/mainline-renamed-variant.ts', import.meta.url).pathname;
const rc = (out: RunOutcome, op: string, answer: string): number => out.report.stats[`user.fuzz.rc.${op}.${answer}`] ?? 0;

describe('the lifecycle calls in the interface table', () => {
  it('are generated only when asked for, and carry the errnos of mdev_core.c / mdev_sysfs.c', () => {
    expect(calls_of(F('mainline')).map((c) => c.op)).not.toContain('mdev_remove');
    expect(calls_of(F('mainline'), true).map((c) => c.op)).toEqual(expect.arrayContaining(['mdev_probe', 'mdev_remove']));
    const view = { closes: true, efd_live: () => false, fault: false };
    expect(call_spec('mdev_probe').expect([], F('mainline'), view)).toContain(-EEXIST);
    expect(call_spec('mdev_remove').expect([], F('v5.3'), view)).toContain(-ENOENT);
    // a program without them is run exactly as before (no vfio core references, no REQ answers)
    expect(lifecycle_of(gen_programs(F('mainline'), 3, 2, 50))).toBe(false);
    expect(lifecycle_of(gen_programs(F('mainline'), 3, 2, 400, undefined, { lifecycle: true }))).toBe(true);
  });
});

describe('lifecycle programs on the rig', () => {
  let rig: Rig;
  beforeAll(async () => {
    await load_variant_file(RENAMED, { check: false });
    rig = await Rig.start(3, [fuzz_scenario.module, remove_order.module, remove_vs_gone.module, gone_open.module]);
  }, 60_000);
  afterAll(async () => {
    await rig.close();
  });

  it('after a remove: no FD (-EBADF), no device to open (-ENODEV), nothing to remove (-ENOENT); a create brings it back', async () => {
    const prog: Call[][] = [[
      { op: 'mdev_remove', a: [] },
      { op: 'get_info', a: [16, 0] },
      { op: 'open_fd', a: [] },
      { op: 'mdev_remove', a: [] },
      { op: 'mdev_probe', a: [] },
      { op: 'mdev_probe', a: [] },
      { op: 'open_fd', a: [] },
      { op: 'get_info', a: [16, 0] },
    ]];
    for (const variant of ['mainline', 'v6.1', 'v5.3']) {
      const out = await run_token(rig, { variant, seed: 1, users: 1, programs: prog }, ['invariants', 'lockdep']);
      const msg = `${variant}: ${JSON.stringify(out.report.findings.map((f) => f.id))}`;
      expect(out.report.findings.filter((f) => f.id.startsWith('fuzz.')), msg).toEqual([]);
      expect(rc(out, 'mdev_remove', '0'), msg).toBe(1);
      expect(rc(out, 'get_info', '-EBADF'), msg).toBe(1);
      expect(rc(out, 'open_fd', '-ENODEV'), msg).toBe(1);
      expect(rc(out, 'mdev_remove', '-ENOENT'), msg).toBe(1);
      expect(rc(out, 'mdev_probe', '0'), msg).toBe(1);
      expect(rc(out, 'mdev_probe', '-EEXIST'), msg).toBe(1);
      expect(rc(out, 'open_fd', '0'), msg).toBe(1);
      expect(rc(out, 'get_info', '0'), msg).toBe(1);
    }
  }, 120_000);

  // A fixed seed under a controlled schedule: the same interleaving on every run.
  for (const variant of ['mainline', 'v6.2', 'v5.3', 'v4.18']) {
    it(`${variant}: a generated program with removes and creates under load runs to the end, with no JS exception and no hang`, async () => {
      const programs = gen_programs(F(variant), 21, 3, 40, undefined, { lifecycle: true });
      // make sure both calls are in it, in the middle of the other users' calls
      programs[1]!.splice(10, 0, { op: 'mdev_remove', a: [] });
      programs[2]!.splice(20, 0, { op: 'mdev_probe', a: [] });
      const out = await run_token(rig, { variant, seed: 21, users: 3, programs, sched: { strategy: 'random', seed: 21 } }, ['invariants', 'lockdep', 'race']);
      const ids = out.report.findings.map((f) => f.id);
      expect(ids.filter((id) => id.startsWith('fuzz.exception') || id.startsWith('fuzz.lifecycle') || id === 'hang' || id === 'livelock'), JSON.stringify(ids)).toEqual([]);
      expect(out.report.stats['user.fuzz.calls']).toBe(programs.flat().length);
      expect(rc(out, 'mdev_remove', '0')).toBeGreaterThanOrEqual(1);
    }, 300_000);
  }

  // An Atomics-gated order (test/programs/remove-order.ts): QEMU sees the remover inside its wait
  // (the REQ signal, or its registration gone before v5.11), checks the driver's remove has not
  // run, closes; the remove returns only after that. Controlled, fixed seed; and free.
  for (const variant of ['mainline', 'v6.1', 'v5.3', 'v4.18', RENAMED]) {
    it(`${variant === RENAMED ? 'mainline renamed' : variant}: mdev remove waits until the FD is closed`, async () => {
      for (const sched of [{ strategy: 'random' as const, seed: 3, depth: 3, expected: 2000, max_steps: 400_000 }, undefined]) {
        const out = await rig.run({ variant, scenario: remove_order, users: 2, seed: 3, detectors: ['invariants', 'lockdep'], iterations: 1, duration_s: 60, ...(sched !== undefined ? { sched } : {}) });
        const checks = out.report.findings.filter((f) => f.id.startsWith('order.') || f.id.startsWith('check'));
        expect(checks, `${variant} ${sched === undefined ? 'free' : 'controlled'}: ${JSON.stringify(out.report.findings.map((f) => f.message))}`).toEqual([]);
        expect(out.report.findings.filter((f) => f.id === 'hang' || f.id === 'livelock')).toEqual([]);
      }
    }, 180_000);
  }

  // The current tree's .release cancel_work_sync()s io_work before the private is freed: an io_todo
  // that returned before it is ordered before the next probe's fresh private (the model reuses the
  // object). Without the cancel's edge every seed showed vfio_ccw_private_init / io_todo here.
  it('mainline: io_todo that returned before remove\'s cancel_work_sync does not race with the next probe\'s init', async () => {
    const programs: Call[][] = [
      [{ op: 'hw_unsolicited', a: [0x0c] }, { op: 'hw_unsolicited', a: [0x0c] }, { op: 'mdev_remove', a: [] }, { op: 'mdev_probe', a: [] }, { op: 'mdev_remove', a: [] }, { op: 'mdev_probe', a: [] }],
      [{ op: 'hw_unsolicited', a: [0x0c] }, { op: 'hw_unsolicited', a: [0x0c] }, { op: 'hw_unsolicited', a: [0x0c] }],
    ];
    for (const seed of [2, 4]) {
      const out = await run_token(rig, { variant: 'mainline', seed, users: 2, programs, sched: { strategy: 'random', seed } }, ['invariants', 'lockdep', 'race']);
      const keys = out.report.findings.map((f) => finding_key(classify(f, '', 0)));
      expect(rc(out, 'mdev_remove', '0'), `seed ${seed}`).toBe(2);
      // io_todo ran under the detector (its known race with the interrupt path)
      expect(keys, `seed ${seed}`).toContain('data-race: fsm_irq / vfio_ccw_sch_io_todo (private->irb)');
      expect(keys.filter((k) => k.includes('vfio_ccw_private_init') && k.includes('vfio_ccw_sch_io_todo')), `seed ${seed}`).toEqual([]);
    }
  }, 180_000);
  // The device goes while a remove waits (test/programs/remove-vs-gone.ts): the css worker's
  // unregistration waits for that remove (v5.3+ parent->unreg_sem) or leaves the mdev to it
  // (≤ v5.2); it never drops the registration a second time, which took the FD's reference and
  // left one of the two waiting for ever (the slow `fuzz --lifecycle` run).
  for (const variant of ['mainline', 'v5.3', 'v5.2']) {
    it(`${variant}: the css unregistration does not remove an mdev a remove is removing`, async () => {
      for (const sched of [{ strategy: 'random' as const, seed: 5, depth: 3, expected: 2000, max_steps: 400_000 }, undefined]) {
        const out = await rig.run({ variant, scenario: remove_vs_gone, users: 2, seed: 5, detectors: ['invariants', 'lockdep'], iterations: 1, duration_s: 60, hang_ms: 30_000, ...(sched !== undefined ? { sched } : {}) });
        const mode = sched === undefined ? 'free' : 'controlled';
        expect(out.report.findings.filter((f) => f.id.startsWith('gone.') || f.id === 'hang' || f.id === 'livelock'), `${variant} ${mode}: ${JSON.stringify(out.report.findings.map((f) => f.message))}`).toEqual([]);
        expect(out.results.flatMap((r) => r.checks).filter((k) => k.id.startsWith('gone.')).length, `${variant} ${mode}`).toBe(6);
        if (sched !== undefined) expect(out.sched?.abort, `${variant} ${mode}`).toBe('none');
      }
    }, 240_000);
  }

  // QEMU keeps its FD when the device goes (test/programs/gone-open.ts): the css worker waits for
  // it for ever, as the kernel does. The run ends once the users have, the wait is its finding,
  // and the rig starts again.
  it('v5.3: a css unregistration still waiting after the users ended is reported, and the run ends', async () => {
    const out = await rig.run({ variant: 'v5.3', scenario: gone_open, users: 1, seed: 1, detectors: ['invariants'], iterations: 1, duration_s: 30, grace_ms: 2_000, hang_ms: 30_000 });
    const ids = out.report.findings.map((f) => f.id);
    expect(ids.filter((id) => id.startsWith('gone-open.')), JSON.stringify(out.report.findings)).toEqual([]);
    expect(ids.some((id) => id === 'livelock' || id === 'no-progress'), JSON.stringify(ids)).toBe(true);
    expect(rig.dead).toBe(true);
    await rig.close();
    rig = await Rig.start(3, [fuzz_scenario.module, remove_order.module, remove_vs_gone.module, gone_open.module]);
  }, 120_000);

  // v6.2 and v6.3 free private at .release with no cancel: the model reuses its memory for the
  // next probe's private. The race detector treats the kfree as a write to private and the
  // allocation as fresh memory (src/kernel/kmem.ts), so io_todo pairs with the free (a race the
  // kernel can show, on the known list), never with the new private's init.
  for (const variant of ['v6.2', 'v6.3']) {
    it(`${variant}: io_todo races with .release's kfree of private, not with the next probe's init`, async () => {
      const programs: Call[][] = [
        [{ op: 'hw_unsolicited', a: [0x0c] }, { op: 'hw_unsolicited', a: [0x0c] }, { op: 'mdev_remove', a: [] }, { op: 'mdev_probe', a: [] }, { op: 'mdev_remove', a: [] }, { op: 'mdev_probe', a: [] }],
        [{ op: 'hw_unsolicited', a: [0x0c] }, { op: 'hw_unsolicited', a: [0x0c] }, { op: 'hw_unsolicited', a: [0x0c] }],
      ];
      const known = new Set(known_baseline(variant).known.map((k) => k.key));
      const seed = 2;
      const out = await run_token(rig, { variant, seed, users: 2, programs, sched: { strategy: 'random', seed } }, ['invariants', 'lockdep', 'race']);
      const keys = out.report.findings.map((f) => finding_key(classify(f, '', 0)));
      expect(keys.filter((k) => k.includes('vfio_ccw_private_init'))).toEqual([]);
      const freed = keys.filter((k) => k.startsWith('data-race: vfio_ccw_mdev_release_dev / vfio_ccw_sch_io_todo'));
      expect(freed).toContain('data-race: vfio_ccw_mdev_release_dev / vfio_ccw_sch_io_todo (private->io_region)');
      expect(freed.filter((k) => !known.has(k))).toEqual([]);
    }, 180_000);
  }

  // mdev_remove beside an unsolicited interrupt reaches v5.3's unlocked test of private->mdev in
  // io_todo against remove's NULL store: a real race of the C, in the known list with its why.
  it('v5.3: the lifecycle race on private->mdev replays from its token and is a known finding', async () => {
    const key = 'data-race: vfio_ccw_mdev_remove / vfio_ccw_sch_io_todo (private->mdev)';
    const t: FuzzToken = {
      variant: 'v5.3', seed: 1, users: 2,
      programs: [[{ op: 'mdev_remove', a: [] }, { op: 'mdev_probe', a: [] }], [{ op: 'hw_unsolicited', a: [0x0c] }, { op: 'hw_unsolicited', a: [0x0c] }]],
      sched: { strategy: 'random', seed: 1 },
    };
    const keys = async (tok: FuzzToken): Promise<string[]> => (await run_token(rig, tok, ['invariants', 'lockdep', 'race'])).report.findings.map((f) => finding_key(classify(f, '', 0)));
    expect(await keys(t)).toContain(key);
    const back = decode_token(encode_token(t));
    expect(typeof back).not.toBe('string');
    expect(await keys(back as FuzzToken)).toContain(key);
    expect(known_baseline('v5.3').known.map((k) => k.key)).toContain(key);
    // v6.0 removed private->mdev ("Remove private->mdev"): the same program does not show it
    expect(await keys({ ...t, variant: 'v6.0' })).not.toContain(key);
  }, 180_000);
});
