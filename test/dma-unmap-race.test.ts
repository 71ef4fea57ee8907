// The DMA-unmap path against the I/O path (issue 14, fuzz findings on mainline). The vfio core
// calls the driver's .dma_unmap holding only its own container lock: type1's
// vfio_notify_dma_unmap takes iommu->device_list_lock and drops iommu->lock (torvalds/linux @
// 3f803abf2e49 drivers/vfio/vfio_iommu_type1.c), which no device read, write or ioctl takes.
// vfio_ccw_dma_unmap (vfio_ccw_ops.c @ 008a011d6803, as in the current tree) walks the chains in
// cp_iova_pinned with no lock and then resets: CLOSE, whose fsm_close calls cp_free after
// dropping sch->lock, never holding io_mutex. fsm_io_request (cp_init, cp_prefetch) runs under
// io_mutex and the current io_todo frees the cp under io_mutex: nothing orders either against
// the unmap. Each schedule is played on the test's own thread: CPU 2's steps run from a hook at
// the point of CPU 1 where the kernel allows them (the hook runs before the access it announces).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { start_invariants } from '../src/detect/invariants.ts';
import { vfio_ccw_fsm_event } from '../src/driver/fsm.ts';
import { run_token } from '../src/fuzz/campaign.ts';
import { fuzz_scenario } from '../src/fuzz/exec.ts';
import { finding_key } from '../src/fuzz/finding-key.ts';
import { decode_token } from '../src/fuzz/token.ts';
import { Rig } from '../src/system/rig.ts';
import { vfio_ccw_sch_io_todo } from '../src/driver/drv.ts';
import { ActorKind, H, peek, register_hook, set_current } from '../src/kernel/index.ts';
import { make_orb } from '../src/client/guest.ts';
import { CCW_CMD, CCW_FLAG, ccw, ccw_chain } from '../src/uapi/ccw.ts';
import { irb_make } from '../src/uapi/irb.ts';
import { SCSW_FCTL_START_FUNC, SCSW_STCTL_PRIM_STATUS, SCSW_STCTL_SEC_STATUS, SCSW_STCTL_STATUS_PEND, scsw_word0 } from '../src/uapi/scsw.ts';
import { IO_REGION_SIZE } from '../src/uapi/vfio_ccw.ts';
import { known_baseline } from '../src/variants/baseline.ts';
import { VARIANT_NAMES } from '../src/variants/registry.ts';
import { guest_write } from '../src/vfio/guest.ts';
import { vfio_dma_do_unmap } from '../src/vfio/iommu.ts';
import { DATA, OFF_IO, OTHER_ACTOR, TEST_ACTOR, end_rig, g_rig, io_region, type GRig } from './helpers/g_rig.ts';

const PAGE = 0x1000;
const I21_TOKEN =
  'fz1.fVXdjrIwEH2XuZ4Lpi0ovooxpAsVmyj4tXXNZrPv_qUULGAxXjl_Z-b0zPAL39Jo2Tk4wE3q7qo7BQhWqQYOnKgQebkjhvCwylg4cIS76VsjbxYOx-MRrHKVNv8sYE7IBWaYISE_4RFa5SqjWt13le7OPWCJREjepc5NVV97qyD8N0o2VW2egL7CHjNvvDyru3QXQB6C2gA1FqMCeYh7w-HMt5F0FTRlDZDS_nQ1IEXQhZkjE4RELPh8194_Nv002qnK1hf9Begh87H0MFl1bmCrO5phDVPzxNQ0UWOVg4inewgks0A2-zDMh4w4SywwD6RUgxtjsznaIvyExzmUmJCtbjt5nRmCn2-CvlhhUVvjiy5mfXGw9xyE2aJEmUA-yGaS6Copi0lz6gruOSkwQ4HFgi2BfBd4TQo0W-smSxC4exHY3GT16G7yDiiycod7Kt96ic-4LaGkcVg5o6RT8D5hrFokY7-GeWt3BaScUfFOKx83X2yXzpPrIMSwDiulrKSfWqKRtPXrsqGNKOqEUNcpFH7LzinHMheDvPwTrbdMpOneT8YoUK-DlWiyqJkUVXzjfnJaXI6XbFnyeGE-mRf3aIuUy7N6dLa_6lo75V_gdSYWyzo7ytmWMlZbVZQcSZR-sG1xfHDR2lXMsk4nBFtf_OfqF6wz0qn2Bw5wr13iO_b39x8';
const CP_FREE_TOKEN =
  'fz1.jVXJjqMwEP2XOtfBGxj4FYSQGxxiKYGMTU_UavW_j4wTdug55OKqPNdbynzDX2WNanvI4K5MezOtBgSndQ0Zj6WQjCQ8Qvh02jrIOMLDdo1VdwdZnufQ6L407aUDpDGSAnN4WtPr0nSABCkTw48gwcgXP1Rdmq7qb4A0YjT2Z1arulTuq60AKRJMAs6AbP9M6HSOv-xHFoCc7mGErOwTkE-A88HIOBY7Lg3T6YtH0qrXsL5lMYn_S7qHRwkbEfkb0Q8IZ3fz9d1k5BVaUxl6V8cvzXdPh97rs3yo_uqV-e36mbfRsYQslKpb53R5qaEoMM_BBfccIOfI49AfYP_THG_tkgdDyZOJSX1X5Wd7Vw9AHiexQBrzRBxGhJ6H58SVNFnqMnFjErnwCrzDua_5xsc122iK4oDgqqv5gAE4Yr_F_sTB_VL0NtfqxnTty2NJUB6KRGdWvIYTs-F2LT1aYK-GM02rboBHdtE5tQ3pIWGTYTu38RRZGHnDUzDkc55rdcTKYuETPITxdKZzIw7fvU1W9kH2qXCG212IOBMJJjRlqwJlLJkKS73EMsFn2zl_09frMGgV1kGcPO1HGZ8sFePa-GflYGtm0pyUDhebcpSR5yLRR18WRYHgqqv_9H2D663qdfMFGTyqfueb-PPzDw';
const TODO_ACTOR = 2;
const FINAL = scsw_word0({ fctl: SCSW_FCTL_START_FUNC, stctl: SCSW_STCTL_PRIM_STATUS | SCSW_STCTL_SEC_STATUS | SCSW_STCTL_STATUS_PEND });
type At = (k: number, o: number, s: string) => boolean;
/** The versions with .dma_unmap and reset = CLOSE + OPEN (fsm_close frees the cp): v6.0 on. */
const VARIANTS = ['v6.0', 'v6.1', 'v6.2', 'v6.3', 'mainline'];
const KEYS = [
  'use-after-free in cp_iova_pinned',
  'use-after-free in ccwchain_fetch_one',
  'use-after-free in cp_update_scsw',
  'use-after-free in cp_free',
  'invariant I21 in cp_free',
  'invariant I9 in fsm_io_request',
  'invariant I9 in vfio_ccw_sch_io_todo',
];

afterEach(() => {
  end_rig();
});

const as = (r: GRig, id: number, kind: ActorKind, name: string): void => void set_current(r.g, id, kind, name);

/** Run `body` as another actor, then be the test again. */
function acting<T>(r: GRig, id: number, kind: ActorKind, name: string, body: () => T): T {
  as(r, id, kind, name);
  try {
    return body();
  } finally {
    as(r, TEST_ACTOR, ActorKind.test, 't');
  }
}

/** CPU 1 runs `cpu1`; CPU 2 runs `cpu2` once, at CPU 1's first hook event `at` matches (null: after CPU 1). */
function racing(at: At | null, cpu1: () => void, cpu2: () => void): void {
  if (at === null) {
    cpu1();
    cpu2();
    return;
  }
  let done = false;
  const off = register_hook((k, o, s) => {
    if (done || !at(k, o, s)) return;
    done = true;
    cpu2();
  });
  try {
    cpu1();
  } finally {
    off();
  }
  expect(done).toBe(true);
}

/** A start the machine took and finished: its final IRB waits in the slot for io_todo. */
function finished_start(variant: string): GRig {
  const r = g_rig({ variant });
  expect(r.write(OFF_IO, io_region())).toBe(IO_REGION_SIZE);
  // the cp is built (before v5.2 there is no initialized flag: its chain is on the list)
  expect(r.p.cp.v.nchains.get('test')).toBe(1);
  r.p.sch.hw.set('fctl', 0);
  r.p.sch.hw.set('actl', 0);
  r.p.sch.hw.set('start_open', 0);
  r.p.v.irb.write(0, irb_make({ w0: FINAL, cpa: 0, dstat: 0x0c, cstat: 0, count: 0 }), 'test');
  return r;
}

const unmap_data_page = (r: GRig): number => vfio_dma_do_unmap(r.p, r.gm, DATA, PAGE);
const kasan = (r: GRig): string[] => r.take_warnings().filter((w) => w.startsWith('use_after_free') || w.includes('I21'));

// Every version: the IOMMU notifier up to v5.19 walks the same chains with no lock (v4.12 vfio_ccw_ops.c).
describe.each(VARIANT_NAMES)('%s: the unmap walks the chains while io_todo frees them', (variant) => {
  //   CPU 1 (QEMU: VFIO_IOMMU_UNMAP_DMA)          CPU 2 (io_work)
  //   vfio_ccw_dma_unmap
  //     cp_iova_pinned: initialized, first chain
  //                                               vfio_ccw_sch_io_todo: mutex_lock(io_mutex)
  //                                                 cp_free: chains kfree()d
  //     chain->ch_pa[i]  use-after-free
  const in_walk = (r: GRig): At => (k, o, s) => k === H.read && s === 'cp_iova_pinned' && o === r.p.cp.pa_tag.at(0).id;
  const run = (at: ((r: GRig) => At) | null): string[] => {
    const r = finished_start(variant);
    racing(at?.(r) ?? null, () => void unmap_data_page(r), () => acting(r, TODO_ACTOR, ActorKind.todo, 'todo', () => vfio_ccw_sch_io_todo(r.p)));
    return kasan(r);
  };

  it('CPU 2 frees the cp inside the walk: use-after-free in cp_iova_pinned, freed by io_todo\'s cp_free', () => {
    expect(run(in_walk)).toEqual([`use_after_free: BUG: KASAN: use-after-free in cp_iova_pinned: read of ccwchain freed at cp_free by actor ${TODO_ACTOR}`]);
  });

  // (v6.0 on: before, io_todo's free and the notifier's reset take other paths on the test's thread)
  it.runIf(VARIANTS.includes(variant))('the same two calls one after the other: quiet', () => {
    expect(run(null)).toEqual([]);
  });
});

describe.each(VARIANTS)('%s: io_todo walks the chains for the SCSW while the unmap frees them', (variant) => {
  //   CPU 1 (io_work)                              CPU 2 (QEMU: VFIO_IOMMU_UNMAP_DMA)
  //   vfio_ccw_sch_io_todo: mutex_lock(io_mutex)
  //     cp_update_scsw: initialized, first chain
  //                                               vfio_ccw_dma_unmap: cp_iova_pinned -> true
  //                                                 reset: CLOSE in CP_PENDING: fsm_close
  //                                                   cp_free: kfree chains (no io_mutex)
  //     chain->ch_ccw  use-after-free
  const in_update_walk = (r: GRig): At => (k, o, s) => k === H.read && s === 'cp_update_scsw' && o === r.p.cp.ch_len[0]!.id;
  const run = (at: ((r: GRig) => At) | null): string[] => {
    const r = finished_start(variant);
    const todo = (): void => acting(r, TODO_ACTOR, ActorKind.todo, 'todo', () => vfio_ccw_sch_io_todo(r.p));
    racing(at?.(r) ?? null, todo, () => acting(r, OTHER_ACTOR, ActorKind.user, 'qemu', () => void unmap_data_page(r)));
    return kasan(r);
  };

  it('CPU 2\'s reset frees the chains inside CPU 1\'s walk: use-after-free in cp_update_scsw', () => {
    expect(run(in_update_walk)).toEqual([`use_after_free: BUG: KASAN: use-after-free in cp_update_scsw: read of ccwchain freed at cp_free by actor ${OTHER_ACTOR}`]);
  });

  it('the same two calls one after the other: quiet', () => {
    expect(run(null)).toEqual([]);
  });
});

describe.each(VARIANTS)('%s: the unmap frees the chains cp_prefetch is translating', (variant) => {
  // Two data CCWs, so that the unmap of the first one's page comes while the second is fetched.
  const CPA2 = 0x2000;
  const DATA2 = DATA + PAGE;
  //   CPU 1 (QEMU: write of the I/O region)        CPU 2 (QEMU: VFIO_IOMMU_UNMAP_DMA)
  //   mutex_trylock(io_mutex); IO_REQ: fsm_io_request
  //     cp_init; cp_prefetch: CCW 0 pinned
  //                                               vfio_ccw_dma_unmap: cp_iova_pinned -> true
  //                                                 reset: CLOSE in CP_PROCESSING: fsm_close
  //                                                   cp_free: kfree chains (no io_mutex)
  //     CCW 1: chain->ch_ccw[1]  use-after-free
  const after_first_pin = (r: GRig): At => (_k, _o, s) => s === 'ccwchain_fetch_one' && peek(r.p.cp.v.pinned_pages) === 1;
  const run = (at: ((r: GRig) => At) | null): { w: string[]; r: GRig } => {
    const r = g_rig({ variant });
    guest_write(r.gm, CPA2, ccw_chain([ccw(CCW_CMD.WRITE, CCW_FLAG.SLI, 16, DATA), ccw(CCW_CMD.WRITE, CCW_FLAG.SLI, 16, DATA2)]));
    const start = (): void => void r.write(OFF_IO, io_region({ orb: make_orb(CPA2) }));
    racing(at?.(r) ?? null, start, () => acting(r, OTHER_ACTOR, ActorKind.user, 'qemu', () => void unmap_data_page(r)));
    return { w: kasan(r), r };
  };

  it('CPU 2\'s reset frees the chains between CPU 1\'s two CCWs: use-after-free in ccwchain_fetch_one', () => {
    const { w, r } = run(after_first_pin);
    expect(w).toEqual([`use_after_free: BUG: KASAN: use-after-free in ccwchain_fetch_one: access to ccwchain freed at cp_free by actor ${OTHER_ACTOR}`]);
    // the start then finds the cp freed: cp_get_orb has no ORB, the write answers -EIO
    expect(r.ret_code()).toBe(-5);
  });

  it('the same two calls one after the other: quiet', () => {
    expect(run(null).w).toEqual([]);
  });
});

describe('I9: a start against a reset on another thread (fuzz --devices 4 seed 3, and one device)', () => {
  // vfio_ccw_mdev_reset (vfio_ccw_ops.c, v6.0 to the current tree) is CLOSE then OPEN with no
  // lock; the region write holds io_mutex, which neither event takes. fsm_io_request writes the
  // state with no lock (CP_PROCESSING at entry, IDLE at err_out).
  //   CPU 1 (QEMU: write of the I/O region)        CPU 2 (VFIO_DEVICE_RESET, or an unmap's reset)
  //   mutex_trylock(io_mutex)
  //   vfio_ccw_fsm_event: state IDLE -> fsm_io_request
  //                                               CLOSE: fsm_close: disable, STANDBY, cp_free
  //   fsm_io_request: state = CP_PROCESSING  (I9: the subchannel is disabled)
  //   cp_init, cp_prefetch, fsm_io_helper: ssch fails; cp_free; state = IDLE (I9)
  //                                               OPEN in IDLE: fsm_notoper -> NOT_OPER
  function start_vs_reset(variant: string, raced: boolean): GRig & { ids(): string[] } {
    const r = g_rig({ variant });
    r.take_warnings();
    const off_inv = start_invariants([r.p]);
    const reset_half = (ev: number): void => acting(r, OTHER_ACTOR, ActorKind.user, 'reset', () => vfio_ccw_fsm_event(r.p, ev));
    const io_req = (o: number, arg: number, actor: number): boolean => o === r.p.v.state.id && actor === TEST_ACTOR && (arg & 0xff) === r.p.drv.R.EV_IO_REQ;
    let step = 0;
    const off = register_hook((k, o, _s, actor, arg) => {
      if (!raced || !io_req(o, arg, actor)) return;
      if (k === H.fsm && step === 0) {
        step = 1;
        reset_half(r.E.CLOSE);
      } else if (k === H.fsm_exit && step === 1) {
        step = 2;
        reset_half(r.E.OPEN);
      }
    });
    try {
      r.write(OFF_IO, io_region());
      if (!raced) {
        reset_half(r.E.CLOSE);
        reset_half(r.E.OPEN);
      }
    } finally {
      off();
      off_inv();
    }
    if (raced) expect(step).toBe(2);
    const ids = (): string[] => [...new Set(r.take_warnings().map((w) => /^invariant: (I\d+):/.exec(w)?.[1] ?? w.split(':')[0]!))];
    return Object.assign(r, { ids });
  }

  it.each(VARIANTS)('%s: the start writes its states over the reset\'s disable: I9, and the reset\'s OPEN finds IDLE: NOT_OPER', (variant) => {
    const r = start_vs_reset(variant, true);
    expect(r.ids()).toContain('I9');
    expect(r.state()).toBe(r.p.drv.R.NOT_OPER);
  });

  it.each(VARIANTS)('%s: the start, then the reset: IDLE, no I9', (variant) => {
    const r = start_vs_reset(variant, false);
    expect(r.ids()).not.toContain('I9');
    expect(r.state()).toBe(r.S.IDLE);
  });

  //   CPU 1 (io_work, the start's final IRB)       CPU 2 (VFIO_DEVICE_RESET, or an unmap's reset)
  //   vfio_ccw_sch_io_todo: cp_free
  //                                               CLOSE in CP_PENDING: fsm_close: disable, STANDBY
  //   state = IDLE  (I9: the subchannel is disabled)
  //                                               OPEN in IDLE: fsm_notoper -> NOT_OPER
  it.each(VARIANTS)('%s: io_todo\'s IDLE after a reset\'s CLOSE: I9 in vfio_ccw_sch_io_todo, and the reset\'s OPEN makes it NOT_OPER', (variant) => {
    const r = finished_start(variant);
    r.take_warnings();
    const reset_half = (ev: number): void => acting(r, OTHER_ACTOR, ActorKind.user, 'reset', () => vfio_ccw_fsm_event(r.p, ev));
    const idle_write: At = (k, o, s) => k === H.write && o === r.p.v.state.id && s === 'vfio_ccw_sch_io_todo';
    // the oracle comes after the schedule's hook: it records CPU 1's write once CPU 2 has run
    let off_inv = (): void => {};
    try {
      racing(idle_write, () => {
        off_inv = start_invariants([r.p]);
        acting(r, TODO_ACTOR, ActorKind.todo, 'todo', () => vfio_ccw_sch_io_todo(r.p));
      }, () => reset_half(r.E.CLOSE));
      reset_half(r.E.OPEN);
    } finally {
      off_inv();
    }
    expect(r.take_warnings().filter((w) => w.includes('I9'))).toEqual([`invariant: I9: state set to IDLE at vfio_ccw_sch_io_todo while the subchannel is disabled (dev0, ${variant})`]);
    expect(r.state()).toBe(r.p.drv.R.NOT_OPER);
  });

  //   CPU 1 (VFIO_DEVICE_RESET)                    CPU 2 (QEMU: write of the I/O region)
  //   CLOSE in CP_PENDING: fsm_close
  //     spin_lock_irq(sch->lock); disable
  //                                               IO_REQ in CP_PENDING: fsm_io_busy; event ends
  //     state = STANDBY; unlock
  // No state is written while the subchannel is disabled: the end of CPU 2's event is no I9.
  // CPU 1 is shown by what it has done at that point (the machine's pmcw.ena cleared, the state
  // not yet written); a start written then (CPU 2 in IDLE) is an I9 at its own write.
  it.each([
    ['CP_PENDING', 'fsm_io_busy writes no state: quiet', []],
    ['IDLE', 'fsm_io_request writes CP_PROCESSING: I9', ['I9']],
  ])('mainline: inside fsm_close\'s disable-then-STANDBY, in %s, another user\'s start: %s', (state, _what, want) => {
    const r = g_rig({ variant: 'mainline' });
    if (state === 'CP_PENDING') expect(r.write(OFF_IO, io_region())).toBe(IO_REGION_SIZE);
    expect(r.state()).toBe(r.S[state as 'IDLE']);
    r.take_warnings();
    const off_inv = start_invariants([r.p]);
    try {
      r.p.sch.hw.set('enabled', 0);
      acting(r, OTHER_ACTOR, ActorKind.user, 'qemu', () => void r.write(OFF_IO, io_region()));
    } finally {
      off_inv();
    }
    const i9 = r.take_warnings().filter((w) => w.includes('I9'));
    expect([...new Set(i9.map((w) => /^invariant: (I\d+):/.exec(w)?.[1]))]).toEqual(want);
  });
});

describe('the fuzzer finds them: controlled PCT schedules of mainline (fuzz --strategy pct --seed 2 --calls 20000)', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await Rig.start(3, [fuzz_scenario.module]);
  }, 120_000);
  afterAll(async () => {
    await rig.close();
  });
  const sigs = async (token: string): Promise<string[]> => {
    const t = decode_token(token);
    if (typeof t === 'string') throw new Error(t);
    const out = await run_token(rig, t, ['invariants', 'lockdep']);
    return [...new Set(out.report.findings.map((f) => finding_key(f)))];
  };

  // CPU 3's start was fetching when CPU 5's reset freed its chains (use-after-free in
  // ccwchain_fetch_one); the fetch went on recording pins, and a later cp_free unpinned a page
  // with no pin left (I21). The kernel reaches I21 in the same race by its own route:
  // page_array_alloc sets pa_nr and pa_iova before page_array_pin, and a cp_free between them
  // unpins pages not yet pinned (vfio_ccw_cp.c, v6.0 to the current tree).
  it('the prefetch use-after-free, then a page unpinned with no pin left (I21); it replays', async () => {
    for (let k = 0; k < 2; k++) expect(await sigs(I21_TOKEN)).toEqual(expect.arrayContaining(['use-after-free in ccwchain_fetch_one', 'invariant I21 in cp_free']));
  }, 300_000);

  // io_todo's cp_free and the reset's cp_free (fsm_close, no io_mutex) both pass the unlocked
  // test of cp->initialized: the second walk frees chains the first freed.
  it('two cp_free at once: use-after-free in cp_free; it replays', async () => {
    for (let k = 0; k < 2; k++) expect(await sigs(CP_FREE_TOKEN)).toContain('use-after-free in cp_free');
  }, 300_000);
});

describe('known lists', () => {
  it.each(VARIANTS)('%s lists the unmap and reset findings the C allows', (variant) => {
    expect(known_baseline(variant).known.map((k) => k.key)).toEqual(expect.arrayContaining(KEYS));
  });
  it('every variant lists the unmap walk\'s use-after-free', () => {
    for (const v of VARIANT_NAMES) expect(known_baseline(v).known.map((k) => k.key), v).toContain('use-after-free in cp_iova_pinned');
  });
});
