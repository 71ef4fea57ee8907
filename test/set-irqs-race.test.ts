// Two SET_IRQS on one device at once. vfio_ccw_mdev_set_irqs takes no lock in any version (v4.18
// vfio_ccw_ops.c and v6.8 alike): `if (*ctx) eventfd_ctx_put(*ctx); *ctx = efdctx;`, and the vfio
// core's ioctl path takes none either. Two setters that both load the old pointer both put it:
// the second put is refcount_t's underflow, a use-after-free that names the put that freed it.
// Each schedule is played on the test's own thread: CPU 2's SET_IRQS runs from a hook at the
// point of CPU 1 where the kernel allows it (the hook runs before the access it announces).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { run_token } from '../src/fuzz/campaign.ts';
import { fuzz_scenario } from '../src/fuzz/exec.ts';
import { finding_key } from '../src/fuzz/finding-key.ts';
import type { Call } from '../src/fuzz/syscalls.ts';
import type { FuzzToken } from '../src/fuzz/token.ts';
import { Rig } from '../src/system/rig.ts';
import { ActorKind, H, eventfd_close, eventfd_create, register_hook, set_current } from '../src/kernel/index.ts';
import { VARIANT_NAMES } from '../src/variants/registry.ts';
import { known_baseline } from '../src/variants/baseline.ts';
import { VFIO_CCW_IO_IRQ_INDEX, VFIO_DEVICE_SET_IRQS } from '../src/uapi/vfio_ccw.ts';
import { make_irq_set_eventfd } from '../src/uapi/ioctl.ts';
import { OTHER_ACTOR, TEST_ACTOR, end_rig, g_rig, type GRig } from './helpers/g_rig.ts';

const F = 'vfio_ccw_mdev_set_irqs';
const KEY = `use-after-free in ${F}`;

afterEach(() => {
  end_rig();
});

const set_irqs = (r: GRig, fd: number): number => r.ioctl(VFIO_DEVICE_SET_IRQS, make_irq_set_eventfd(VFIO_CCW_IO_IRQ_INDEX, fd));

/** A device whose io_trigger holds eventfd `old` (the user's file closed unless `keep`), and two new eventfds. */
function installed(variant: string, keep: boolean): { r: GRig; old: number; a: number; b: number } {
  const r = g_rig({ variant, open: true });
  const old = eventfd_create(r.g);
  expect(set_irqs(r, old)).toBe(0);
  if (!keep) eventfd_close(r.g, old);
  return { r, old, a: eventfd_create(r.g), b: eventfd_create(r.g) };
}

/** CPU 1: SET_IRQS(fd); CPU 2: SET_IRQS(fd2) in full, at the first event of CPU 1's that `at` matches. */
function racing(r: GRig, fd: number, at: (kind: number, obj: number, site: string) => boolean, fd2: number): number[] {
  let rc2 = NaN;
  const off = register_hook((k, o, s) => {
    if (!Number.isNaN(rc2) || !at(k, o, s)) return;
    rc2 = 0;
    set_current(r.g, OTHER_ACTOR, ActorKind.user, 'qemu2');
    try {
      rc2 = set_irqs(r, fd2);
    } finally {
      set_current(r.g, TEST_ACTOR, ActorKind.test, 't');
    }
  });
  let rc1: number;
  try {
    rc1 = set_irqs(r, fd);
  } finally {
    off();
  }
  expect(Number.isNaN(rc2)).toBe(false);
  return [rc1, rc2];
}

/** CPU 1's store of the new pointer: it has loaded and put the old one. */
const at_store = (r: GRig) => (k: number, o: number, s: string): boolean => k === H.write && o === r.p.v.io_trigger.id && s === F;

describe('two SET_IRQS at once: both put the old context', () => {
  //   CPU 1 (actor 0)                         CPU 2 (actor 5)
  //   SET_IRQS(a): *ctx is old
  //   eventfd_ctx_put(old)  -> 0, freed
  //                                           SET_IRQS(b): *ctx is still old
  //                                           eventfd_ctx_put(old)  use-after-free
  //   *ctx = a                                *ctx = b
  it.each(VARIANT_NAMES)('%s: the user closed its fd: the second put is a use-after-free in set_irqs, freed by the first', (variant) => {
    const { r, a, b } = installed(variant, false);
    expect(racing(r, a, at_store(r), b)).toEqual([0, 0]);
    expect(r.take_warnings()).toEqual([`use_after_free: BUG: KASAN: ${KEY}: kref_put on eventfd_ctx freed at ${F} by actor ${TEST_ACTOR}`]);
  });

  it.each(VARIANT_NAMES)('%s: QEMU keeps its fd: the double put frees the context under the open file, and the file\'s release is the use-after-free', (variant) => {
    const { r, old, a, b } = installed(variant, true);
    expect(racing(r, a, at_store(r), b)).toEqual([0, 0]);
    expect(r.take_warnings()).toEqual([]);
    eventfd_close(r.g, old);
    expect(r.take_warnings()).toEqual([`use_after_free: BUG: KASAN: use-after-free in eventfd_release: kref_put on eventfd_ctx freed at ${F} by actor ${OTHER_ACTOR}`]);
  });

  it('v4.18: the same two calls one after the other: quiet (the detector needs the interleaving)', () => {
    const { r, a, b } = installed('v4.18', false);
    expect(set_irqs(r, a)).toBe(0);
    expect(set_irqs(r, b)).toBe(0);
    expect(r.take_warnings()).toEqual([]);
  });

  //   CPU 1                                   CPU 2
  //   if (*ctx)  (old)
  //                                           SET_IRQS(-1): put(old), *ctx = NULL
  //   eventfd_ctx_put(*ctx)  (NULL)
  it('v4.18: SET_IRQS(-1) between the check and the put\'s load: the put follows NULL', () => {
    const { r, a } = installed('v4.18', true);
    let loads = 0;
    const at = (k: number, o: number): boolean => k === H.read && o === r.p.v.io_trigger.id && ++loads === 2;
    expect(racing(r, a, at, -1)).toEqual([0, 0]);
    expect(r.take_warnings()).toEqual([`use_after_free: BUG: kernel NULL pointer dereference in ${F}: private->io_trigger reloaded as NULL after its check`]);
  });

  it('every variant lists both as known (SET_IRQS takes no lock in any of them)', () => {
    for (const v of VARIANT_NAMES) expect(known_baseline(v).known.map((k) => k.key), v).toEqual(expect.arrayContaining([KEY, 'use-after-free in eventfd_release']));
  });
});

describe('the fuzzer finds it: three users installing eventfds, a controlled schedule', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await Rig.start(3, [fuzz_scenario.module]);
  }, 120_000);
  afterAll(async () => {
    await rig.close();
  });
  const E = (slot: number): Call => ({ op: 'efd_create', a: [slot] });
  const S = (slot: number): Call => ({ op: 'set_irqs', a: [24, 0x24, VFIO_CCW_IO_IRQ_INDEX, 0, 1, slot] });
  const prog = [E(0), S(0), E(1), S(1), E(2), S(2)];
  // random seed 12: found by trying seeds 1…40 (9 of them show one of the two signatures)
  const token: FuzzToken = { variant: 'v4.18', seed: 1, users: 3, programs: [prog, prog, prog], sched: { strategy: 'random', seed: 12 } };

  it('v4.18, random seed 12: the use-after-free in set_irqs, freed by another user\'s set_irqs; it replays', async () => {
    for (let k = 0; k < 2; k++) {
      const out = await run_token(rig, token, ['invariants', 'lockdep']);
      const uaf = out.report.findings.filter((f) => f.kind === 'use-after-free').map((f) => [finding_key(f), f.message.replace(/actor \d+/, 'actor N')]);
      expect(uaf).toEqual([
        [KEY, `BUG: KASAN: ${KEY}: kref_put on eventfd_ctx freed at ${F} by actor N`],
        ['use-after-free in eventfd_release', `BUG: KASAN: use-after-free in eventfd_release: kref_put on eventfd_ctx freed at ${F} by actor N`],
      ]);
    }
  }, 300_000);

  it('the same calls by one user: nothing freed twice', async () => {
    const out = await run_token(rig, { ...token, users: 1, programs: [prog] }, ['invariants', 'lockdep']);
    expect(out.report.findings.filter((f) => f.kind === 'use-after-free')).toEqual([]);
  }, 300_000);
});
