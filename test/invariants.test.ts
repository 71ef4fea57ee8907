// The invariant oracles (src/detect/invariants.ts) that had no live check, or none before v5.2: each shown
// firing on a version whose C breaks it and quiet on one whose C does not, under the same
// schedule. The schedule is played on the test's own thread (test/helpers/g_rig.ts): each step
// is a driver function run as the actor that runs it in the kernel, so the interleaving is fixed.
import { afterEach, describe, expect, it } from 'vitest';
import { start_invariants } from '../src/detect/invariants.ts';
import { vfio_ccw_sch_event, vfio_ccw_sch_io_todo, vfio_ccw_sch_probe, vfio_ccw_sch_quiesce } from '../src/driver/drv.ts';
import { vfio_ccw_fsm_event } from '../src/driver/fsm.ts';
import { vfio_ccw_mdev_remove, vfio_device_release } from '../src/driver/ops.ts';
import { ActorKind, H, eventfd_create, register_hook, set_current } from '../src/kernel/index.ts';
import { vfio_dma_do_unmap } from '../src/vfio/iommu.ts';
import { irb_make } from '../src/uapi/irb.ts';
import { EIO } from '../src/uapi/errno.ts';
import {
  SCSW_ACTL_SCHACT, SCSW_FCTL_HALT_FUNC, SCSW_FCTL_START_FUNC, SCSW_STCTL_ALERT_STATUS, SCSW_STCTL_INTER_STATUS, SCSW_STCTL_PRIM_STATUS,
  SCSW_STCTL_SEC_STATUS, SCSW_STCTL_STATUS_PEND, scsw_word0,
} from '../src/uapi/scsw.ts';
import { VFIO_CCW_IO_IRQ_INDEX, VFIO_DEVICE_SET_IRQS } from '../src/uapi/vfio_ccw.ts';
import { make_irq_set_eventfd } from '../src/uapi/ioctl.ts';
import { DATA, OFF_IO, OTHER_ACTOR, TEST_ACTOR, end_rig, g_rig, io_region, start_accepted as start, type GRig } from './helpers/g_rig.ts';

const T = 'test';
const FINAL = scsw_word0({ fctl: SCSW_FCTL_START_FUNC, stctl: SCSW_STCTL_PRIM_STATUS | SCSW_STCTL_SEC_STATUS | SCSW_STCTL_STATUS_PEND });
const HALT_FINAL = scsw_word0({ fctl: SCSW_FCTL_HALT_FUNC, stctl: SCSW_STCTL_PRIM_STATUS | SCSW_STCTL_STATUS_PEND });
const UNSOLICITED = scsw_word0({ stctl: SCSW_STCTL_ALERT_STATUS | SCSW_STCTL_STATUS_PEND });
const INTERMEDIATE = scsw_word0({ fctl: SCSW_FCTL_START_FUNC, actl: SCSW_ACTL_SCHACT, stctl: SCSW_STCTL_INTER_STATUS | SCSW_STCTL_STATUS_PEND });

afterEach(() => {
  end_rig();
});

/** A rig with the oracle attached; `ids()` lists the invariants that fired so far, once each. */
function oracle(variant: string, opts: { open?: boolean } = {}): GRig & { ids(): string[]; msgs(): string[]; off(): void } {
  const r = g_rig({ variant, ...opts });
  r.take_warnings();
  const off = start_invariants([r.p]);
  const seen: string[] = [];
  const collect = (): string[] => {
    for (const w of r.take_warnings()) seen.push(w);
    return seen;
  };
  return Object.assign(r, {
    msgs: collect,
    ids: () => [...new Set(collect().map((w) => /^invariant: (I\d+):/.exec(w)?.[1] ?? w))],
    off,
  });
}

/** CPU 2: the workqueue runs io_todo on the IRB the interrupt left in the slot. */
function io_todo_as(r: GRig, who: number, w0: number): void {
  r.p.v.irb.write(0, irb_make({ w0, cpa: 0, dstat: 0x0c, cstat: 0, count: 0 }), T);
  set_current(r.g, who, ActorKind.todo, 'todo');
  try {
    vfio_ccw_sch_io_todo(r.p);
  } finally {
    set_current(r.g, TEST_ACTOR, ActorKind.test, 't');
  }
}
function hw_idle(r: GRig): void {
  r.p.sch.hw.set('fctl', 0);
  r.p.sch.hw.set('actl', 0);
  r.p.sch.hw.set('start_open', 0);
}

describe('I2 and I3 before v5.2 (no cp->initialized: the cp is live while chains or pinned pages hang on it)', () => {
  it.each([
    ['v4.18', ['I2']],
    ['v5.13', []],
  ])('%s: start; an unsolicited interrupt; io_todo -> I2 %j', (variant, want) => {
    const r = oracle(variant);
    start(r);
    io_todo_as(r, OTHER_ACTOR, UNSOLICITED); // B: IDLE with the chain still listed
    r.off();
    expect(r.ids()).toEqual(want);
  });

  it.each([
    ['v4.12', ['I3']],
    ['v5.0', []],
  ])('%s: start; an intermediate interrupt while the channel runs the program -> %j', (variant, want) => {
    const r = oracle(variant);
    start(r);
    expect(r.p.sch.hw.get('start_open')).toBe(1);
    io_todo_as(r, OTHER_ACTOR, INTERMEDIATE); // v4.12 frees on any solicited interrupt
    r.off();
    expect(r.ids().filter((i) => i === 'I3')).toEqual(want);
  });
});

describe('I4: cp_free by someone other than the owner while CP_PROCESSING', () => {
  it.each([
    ['v5.2', ['I4']],
    ['v5.3', []],
  ])('%s: the next request is translating when a halt\'s final interrupt is processed -> %j', (variant, want) => {
    const r = oracle(variant);
    start(r);
    hw_idle(r);
    r.p.v.state.set(r.S.CP_PROCESSING, T); // CPU 1 is in fsm_io_request for its next start
    io_todo_as(r, OTHER_ACTOR, HALT_FINAL); // C52 frees on any final; C53 only in CP_PENDING
    r.off();
    expect(r.ids().filter((i) => i === 'I4')).toEqual(want);
  });
});

describe('I5: cp_init entered on a live channel program', () => {
  it.each([
    ['v5.3', ['I2', 'I5']],
    ['v4.18', ['I2', 'I5']],
    ['v5.13', []],
  ])('%s: start; unsolicited final; start again -> %j', (variant, want) => {
    const r = oracle(variant);
    start(r);
    io_todo_as(r, OTHER_ACTOR, UNSOLICITED);
    hw_idle(r);
    r.write(OFF_IO, io_region()); // v5.13 answers -EBUSY (still CP_PENDING): cp_init is never entered
    r.off();
    expect(r.ids().filter((i) => i === 'I2' || i === 'I5')).toEqual(want);
  });
});

describe('I13: io_trigger signalled for a completed start before IDLE', () => {
  it.each([
    ['v5.2', ['I13']],
    ['v5.3', []],
  ])('%s -> %j', (variant, want) => {
    const r = oracle(variant);
    const fd = eventfd_create(r.g);
    expect(r.ioctl(VFIO_DEVICE_SET_IRQS, make_irq_set_eventfd(VFIO_CCW_IO_IRQ_INDEX, fd))).toBe(0);
    start(r);
    hw_idle(r);
    io_todo_as(r, OTHER_ACTOR, FINAL);
    r.off();
    expect(r.ids()).toEqual(want);
  });

  it('v5.2: an intermediate interrupt\'s signal (nothing completed) is not I13', () => {
    const r = oracle('v5.2');
    const fd = eventfd_create(r.g);
    expect(r.ioctl(VFIO_DEVICE_SET_IRQS, make_irq_set_eventfd(VFIO_CCW_IO_IRQ_INDEX, fd))).toBe(0);
    start(r);
    io_todo_as(r, OTHER_ACTOR, INTERMEDIATE);
    r.off();
    expect(r.ids()).toEqual([]);
  });
});

describe('I9: a state that owns the subchannel while it is disabled', () => {
  it('v5.13: reset has quiesced (NOT_OPER, disabled) when a subchannel event arrives: sch_event rewrites IDLE', () => {
    const r = oracle('v5.13');
    expect(vfio_ccw_sch_quiesce(r.p)).toBe(0); // CPU 1: VFIO_DEVICE_RESET, before its enable
    expect(r.p.sch.hw.get('enabled')).toBe(0);
    expect(vfio_ccw_sch_event(r.p, r.p.sch)).toBe(0); // CPU 2: the css's sch_event
    r.off();
    expect(r.state()).toBe(r.S.IDLE);
    expect(r.ids()).toEqual(['I9']);
  });

  it('v6.0: close disables (STANDBY), sch_event leaves it: quiet', () => {
    const r = oracle('v6.0');
    vfio_device_release(r.p);
    expect(r.p.sch.hw.get('enabled')).toBe(0);
    expect(vfio_ccw_sch_event(r.p, r.p.sch)).toBe(0);
    r.off();
    expect(r.state()).toBe(r.S.STANDBY);
    expect(r.ids()).toEqual([]);
  });
});

describe('I14: a DMA unmap returns with pinned pages in its range', () => {
  it.each([
    ['v5.13', ['I14']],
    ['v6.0', []],
  ])('%s: unmap [DATA - 4 KiB, +8 KiB) while the cp pins DATA\'s page -> %j', (variant, want) => {
    const r = oracle(variant);
    start(r);
    hw_idle(r);
    vfio_dma_do_unmap(r.p, r.gm, DATA - 0x1000, 0x2000); // v5.13 matches only a page starting at iova
    r.off();
    expect(r.ids().filter((i) => i === 'I14')).toEqual(want);
  });
});

describe('I15: a log record points at the UUID mdev remove frees', () => {
  it.each([
    ['v5.13', ['I15']],
    ['v6.0', []],
  ])('%s: an I/O error is logged, then the mdev goes -> %j', (variant, want) => {
    const r = oracle(variant, { open: false });
    r.p.v.state.set(r.S.NOT_OPER, T);
    vfio_ccw_fsm_event(r.p, r.E.IO_REQ); // fsm_io_error logs
    vfio_ccw_mdev_remove(r.p);
    r.off();
    expect(r.ids().filter((i) => i === 'I15')).toEqual(want);
  });
});

describe('I19: the mdev parent is visible before probe finished the device', () => {
  it.each([
    ['v4.12', ['I19']],
    ['v5.0', []],
    ['mainline', []],
  ])('%s -> %j', (variant, want) => {
    const r = oracle(variant, { open: false });
    r.p.v.parent_registered.set(0, T);
    vfio_ccw_sch_probe(r.p);
    r.off();
    expect(r.ids().filter((i) => i === 'I19')).toEqual(want);
  });
});

describe('I1 before io_mutex: a second writer while a request sits in the I/O region', () => {
  it.each([
    ['v4.12', ['I1']],
    ['v5.3', []],
  ])('%s: io_todo copies an IRB into the region between the user\'s copy and its IO_REQ -> %j', (variant, want) => {
    const r = oracle(variant);
    // CPU 2 runs at CPU 1's IO_REQ dispatch, right after CPU 1's copy_from_user into the region.
    // From v5.2 io_todo needs io_mutex for its copy, held by CPU 1: it runs after the write instead.
    let done = false;
    const off = register_hook((k, _o, site) => {
      if (done || k !== H.fsm || site !== 'vfio_ccw_fsm_event' || r.p.drv.f.io_mutex) return;
      done = true;
      io_todo_as(r, OTHER_ACTOR, UNSOLICITED);
    });
    start(r);
    off();
    if (r.p.drv.f.io_mutex) io_todo_as(r, OTHER_ACTOR, UNSOLICITED);
    r.off();
    expect(r.ids().filter((i) => i === 'I1')).toEqual(want);
  });
});

describe('I22: no mdev, yet a state other than STANDBY or NOT_OPER', () => {
  // CPU 1 (the workqueue) has tested "private->mdev && is_final" (no lock) and is about to store
  // IDLE; CPU 2 closes the device and removes the mdev in between. The race hook is installed
  // before the oracle, as the scheduler is: the oracle sees the store when it lands.
  function io_todo_vs_remove(variant: string, racing: boolean): string[] {
    const r = g_rig({ variant });
    r.take_warnings();
    const remove = (): void => {
      set_current(r.g, OTHER_ACTOR + 1, ActorKind.user, 'admin');
      try {
        vfio_device_release(r.p);
        vfio_ccw_mdev_remove(r.p);
      } finally {
        set_current(r.g, OTHER_ACTOR, ActorKind.todo, 'todo');
      }
    };
    let done = !racing;
    const offRace = register_hook((k, o, site) => {
      if (done || k !== H.write || o !== r.p.v.state.id || site !== 'vfio_ccw_sch_io_todo') return;
      done = true;
      remove();
    });
    const off = start_invariants([r.p]);
    try {
      start(r);
      hw_idle(r);
      io_todo_as(r, OTHER_ACTOR, FINAL);
      if (!racing) {
        remove();
        set_current(r.g, TEST_ACTOR, ActorKind.test, 't');
      }
    } finally {
      off();
      offRace();
    }
    expect(done).toBe(true);
    return r.take_warnings().filter((m) => m.includes('I22:'));
  }

  it.each(['v5.0', 'v5.3'])('%s: the remove lands between io_todo\'s mdev test and its IDLE store -> I22', (variant) => {
    const w = io_todo_vs_remove(variant, true);
    expect(w).toHaveLength(1);
    expect(w[0]).toMatch(/^invariant: I22: no mdev but state IDLE \(set at vfio_ccw_sch_io_todo\)/);
  });

  it.each(['v5.0', 'v5.3'])('%s: the same close and remove after io_todo: quiet', (variant) => {
    expect(io_todo_vs_remove(variant, false)).toEqual([]);
  });
});

describe('I17: CLOSE delivered in STANDBY', () => {
  // No shipped version does it: the v6.0 development series between "Create a CLOSE FSM event"
  // (M-E5) and M-E7 fired CLOSE from the remove handlers too, after close_device had (vfio_ccw_mdev_remove, vfio_ccw_ops.c).
  // That remove is played here as its C did it; v6.0 as shipped removes without an FSM event.
  it.each([
    ['v6.0 dev series (remove fires CLOSE)', ['I17'], true],
    ['v6.0', [], false],
  ])('%s: open, close, remove -> %j', (_name, want, dev_series) => {
    const r = oracle('v6.0');
    vfio_device_release(r.p);
    if (dev_series) vfio_ccw_fsm_event(r.p, r.E.CLOSE);
    vfio_ccw_mdev_remove(r.p);
    r.off();
    expect(r.ids().filter((i) => i === 'I17')).toEqual(want);
  });
});

describe('invariants broken together by one state write: each reported once, the oracle does not re-enter itself', () => {
  // v5.3 (vfio_ccw_mdev_write_io_region, vfio_ccw_ops.c v5.3 … v5.12): a request the FSM refuses
  // leaves ret_code != 0 and the writer stores IDLE itself. After a start and a quiesce (NOT_OPER,
  // disabled, the cp still initialised) that one store breaks I2, I8 and I9. Each WARN of the
  // oracle is a hook event on the state word: it must not start a second settle from inside the
  // first (it did, until the stack ran out: the v5.3 --lifecycle fuzz's hang).
  it('v5.3: start; quiesce; a refused write -> I2, I8, I9, once each', () => {
    const r = oracle('v5.3');
    start(r);
    hw_idle(r);
    expect(vfio_ccw_sch_quiesce(r.p)).toBe(0);
    expect(r.p.sch.hw.get('enabled')).toBe(0);
    expect(r.state()).toBe(r.S.NOT_OPER);
    expect(r.cp_initialized()).toBe(1);
    expect(r.write(OFF_IO, io_region())).toBe(-EIO);
    r.off();
    expect(r.state()).toBe(r.S.IDLE);
    const fired = r.msgs().filter((m) => /^invariant: I(2|8|9):/.test(m));
    expect(fired.map((m) => /^invariant: (I\d+):/.exec(m)?.[1])).toEqual(['I2', 'I8', 'I9']);
  });
});
