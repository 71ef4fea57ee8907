// Object lifetimes (src/kernel/lifetime.ts) and the eventfd contexts a driver keeps. Each
// schedule is played on the test's own thread: CPU 2's steps run from a hook at the exact point
// of CPU 1 where the kernel allows them (the hook runs before the access it announces).
import { afterEach, describe, expect, it } from 'vitest';
import { CHP_ONLINE } from '../src/cio/index.ts';
import { crw_count } from '../src/driver/crw.ts';
import { vfio_ccw_chp_event, vfio_ccw_sch_io_todo } from '../src/driver/drv.ts';
import { vfio_ccw_mdev_remove, vfio_device_release } from '../src/driver/ops.ts';
import { start_lifetimes } from '../src/detect/lifetime.ts';
import {
  ActorKind, H, Kref, Warn, alloc_global, eventfd_close, eventfd_create, eventfd_ctx_fdget, eventfd_ctx_put, eventfd_stats, kref_get, kref_init,
  kref_put, obj_use, read_warnings, register_hook, set_current, spin_lock_irq, spin_unlock_irq, type Lifetime,
} from '../src/kernel/index.ts';
import { irb_make } from '../src/uapi/irb.ts';
import { SCSW_FCTL_START_FUNC, SCSW_STCTL_PRIM_STATUS, SCSW_STCTL_SEC_STATUS, SCSW_STCTL_STATUS_PEND, scsw_word0 } from '../src/uapi/scsw.ts';
import { IO_REGION_SIZE, VFIO_CCW_IO_IRQ_INDEX, VFIO_DEVICE_SET_IRQS } from '../src/uapi/vfio_ccw.ts';
import { make_irq_set_eventfd } from '../src/uapi/ioctl.ts';
import { OFF_IO, OTHER_ACTOR, TEST_ACTOR, end_rig, g_rig, io_region, type GRig } from './helpers/g_rig.ts';

const T = 'test';
const FINAL = scsw_word0({ fctl: SCSW_FCTL_START_FUNC, stctl: SCSW_STCTL_PRIM_STATUS | SCSW_STCTL_SEC_STATUS | SCSW_STCTL_STATUS_PEND });

afterEach(() => {
  end_rig();
});

describe('kref', () => {
  let g = alloc_global();
  const obj = (): Lifetime => {
    g = alloc_global();
    set_current(g, TEST_ACTOR, ActorKind.test, 't');
    // any free words of the global buffer will do: the warning ring is far above
    return { ref: new Kref(g.i32, 200, 200), what: 'thing' };
  };

  it('a use after the last put names where it was freed and where it is used', () => {
    const o = obj();
    const gen = kref_init(o.ref);
    expect(kref_get(o, gen, 'getter')).toBe(true);
    expect(kref_put(o, gen, 'first_put')).toBe(false);
    expect(obj_use(o, gen, 'reader')).toBe(true);
    expect(kref_put(o, gen, 'last_put')).toBe(true);
    expect(obj_use(o, gen, 'late_reader')).toBe(false);
    const msgs = read_warnings(g).records;
    expect(msgs.map((w) => [w.code, w.msg])).toEqual([[Warn.use_after_free, 'BUG: KASAN: use-after-free in late_reader: access to thing freed at last_put by actor 0']]);
  });

  it('a pointer from an older generation is dead even when the memory is born again', () => {
    const o = obj();
    const old = kref_init(o.ref);
    kref_put(o, old, 'put');
    const gen = kref_init(o.ref);
    expect(obj_use(o, gen, 'new_user')).toBe(true);
    expect(obj_use(o, old, 'stale_user')).toBe(false);
  });
});

/** A device with an I/O eventfd installed and a start running. */
function armed(variant = 'mainline'): { r: GRig; fd: number } {
  const r = g_rig({ variant });
  const fd = eventfd_create(r.g);
  expect(r.ioctl(VFIO_DEVICE_SET_IRQS, make_irq_set_eventfd(VFIO_CCW_IO_IRQ_INDEX, fd))).toBe(0);
  expect(r.write(OFF_IO, io_region())).toBe(IO_REGION_SIZE);
  r.p.sch.hw.set('fctl', 0);
  r.p.sch.hw.set('actl', 0);
  r.p.sch.hw.set('start_open', 0);
  r.p.v.irb.write(0, irb_make({ w0: FINAL, cpa: 0, dstat: 0x0c, cstat: 0, count: 0 }), T);
  return { r, fd };
}

/** CPU 2 (QEMU's unrealize): SET_IRQS(fd = -1), then close the eventfd unless told not to. */
function unrealize(r: GRig, fd: number, close: boolean): void {
  set_current(r.g, OTHER_ACTOR, ActorKind.user, 'qemu');
  try {
    expect(r.ioctl(VFIO_DEVICE_SET_IRQS, make_irq_set_eventfd(VFIO_CCW_IO_IRQ_INDEX, -1))).toBe(0);
    if (close) eventfd_close(r.g, fd);
  } finally {
    set_current(r.g, TEST_ACTOR, ActorKind.test, 't');
  }
}

/** CPU 1 runs io_todo; CPU 2 runs `cpu2` once, at the first hook event `at` matches. */
function io_todo_racing(r: GRig, at: (kind: number, obj: number, site: string) => boolean, cpu2: () => void): void {
  let done = false;
  const off = register_hook((k, o, s) => {
    if (done || !at(k, o, s)) return;
    done = true;
    cpu2();
  });
  try {
    vfio_ccw_sch_io_todo(r.p);
  } finally {
    off();
  }
  expect(done).toBe(true);
}

describe('eventfd contexts: SET_IRQS puts the old context; signallers hold no reference', () => {
  const at_signal = (k: number, _o: number, s: string): boolean => k === H.signal && s === 'vfio_ccw_sch_io_todo';

  it('CPU 1 io_todo loaded io_trigger; CPU 2 SET_IRQS(-1) and close free the context; CPU 1 signals it: use-after-free', () => {
    const { r, fd } = armed();
    io_todo_racing(r, at_signal, () => unrealize(r, fd, true));
    const w = r.take_warnings();
    expect(w).toHaveLength(1);
    expect(w[0]).toBe('use_after_free: BUG: KASAN: use-after-free in vfio_ccw_sch_io_todo: eventfd_signal on eventfd_ctx freed at eventfd_release by actor 5');
    expect(eventfd_stats(r.g, fd).signals).toBe(0);
  });

  it('the same, but QEMU keeps its fd open: the file\'s reference keeps the context alive: quiet', () => {
    const { r, fd } = armed();
    io_todo_racing(r, at_signal, () => unrealize(r, fd, false));
    expect(r.take_warnings()).toEqual([]);
    expect(eventfd_stats(r.g, fd).signals).toBe(1);
  });

  it('the same steps with the teardown after the signal: quiet', () => {
    const { r, fd } = armed();
    vfio_ccw_sch_io_todo(r.p);
    unrealize(r, fd, true);
    expect(r.take_warnings()).toEqual([]);
    expect(eventfd_stats(r.g, fd).signals).toBe(1);
  });

  it('SET_IRQS between the NULL check and the second load: the signaller follows NULL', () => {
    const { r, fd } = armed();
    let loads = 0;
    const io = r.p.v.io_trigger.id;
    io_todo_racing(r, (k, o) => k === H.read && o === io && ++loads === 2, () => unrealize(r, fd, true));
    expect(r.take_warnings()).toEqual([
      'use_after_free: BUG: kernel NULL pointer dereference in vfio_ccw_sch_io_todo: private->io_trigger reloaded as NULL after its check',
    ]);
  });

  it('a replaced context is put before the new pointer is stored; the driver\'s own reference keeps a closed fd\'s context alive', () => {
    const { r, fd } = armed();
    eventfd_close(r.g, fd); // QEMU closed its fd; the driver still holds the context
    vfio_ccw_sch_io_todo(r.p);
    expect(eventfd_stats(r.g, fd).signals).toBe(1);
    const b = eventfd_create(r.g);
    expect(b).not.toBe(fd); // the old context is alive: its slot is not handed out again
    expect(r.ioctl(VFIO_DEVICE_SET_IRQS, make_irq_set_eventfd(VFIO_CCW_IO_IRQ_INDEX, b))).toBe(0);
    // the driver's put was the last: the context is gone, and a stale reference shows it
    const stale = eventfd_ctx_fdget(r.g, fd);
    expect(stale).toBe(-9);
    const c = eventfd_ctx_fdget(r.g, b);
    expect(typeof c).toBe('object');
    if (typeof c !== 'number') eventfd_ctx_put(c, T);
    expect(r.take_warnings()).toEqual([]);
  });
});

describe('v6.2+: private is per mdev and freed at .release; a late io_work uses it', () => {
  it.each([
    ['v6.3', 1],
    ['v6.2', 1],
    ['v6.1', 0],
  ])('%s: an interrupt queued io_work; close and mdev remove run first; then io_work -> %i use-after-free', (variant, n) => {
    const r = g_rig({ variant });
    const off = start_lifetimes([r.p]);
    try {
      expect(r.write(OFF_IO, io_region())).toBe(IO_REGION_SIZE);
      // CPU 1 (IRQ): the final interrupt; fsm_irq left the IRB in the slot and queued io_work.
      r.p.sch.hw.set('fctl', 0);
      r.p.sch.hw.set('actl', 0);
      r.p.sch.hw.set('start_open', 0);
      r.p.v.irb.write(0, irb_make({ w0: FINAL, cpa: 0, dstat: 0x0c, cstat: 0, count: 0 }), T);
      // CPU 2 (QEMU, then the admin): close the device fd, remove the mdev.
      vfio_device_release(r.p);
      vfio_ccw_mdev_remove(r.p);
      // CPU 3 (the workqueue): io_work runs now.
      set_current(r.g, OTHER_ACTOR, ActorKind.todo, 'todo');
      try {
        vfio_ccw_sch_io_todo(r.p);
      } finally {
        set_current(r.g, TEST_ACTOR, ActorKind.test, 't');
      }
    } finally {
      off();
    }
    const w = r.take_warnings().filter((x) => x.startsWith('use_after_free'));
    expect(w).toHaveLength(n);
    if (n === 1) expect(w[0]).toMatch(/^use_after_free: BUG: KASAN: use-after-free in vfio_ccw_sch_io_todo: access to private->irb freed at vfio_ccw_mdev_release_dev by actor 0$/);
  });
});

describe('CRW entries (v6.3): kzalloc under sch->lock, list_del with no lock, kfree after the copy', () => {
  const OFF_CRW = 0xc00;
  function queued(variant: string, n: number): GRig {
    const r = g_rig({ variant });
    for (let k = 0; k < n; k++) {
      spin_lock_irq(r.p.sch.v.lock, T);
      expect(vfio_ccw_chp_event(r.p, r.p.sch, { chpid: 0x40 + k, mask: 0x80 }, CHP_ONLINE)).toBe(0);
      spin_unlock_irq(r.p.sch.v.lock, T);
    }
    expect(crw_count(r.p)).toBe(n);
    return r;
  }
  const read_as = (r: GRig, who: number): number => {
    set_current(r.g, who, ActorKind.user, 'reader');
    try {
      return r.read(OFF_CRW, 4);
    } finally {
      set_current(r.g, TEST_ACTOR, ActorKind.test, 't');
    }
  };

  it('two readers one after the other take one CRW each and free them: quiet', () => {
    const r = queued('v6.3', 2);
    expect([read_as(r, TEST_ACTOR), read_as(r, OTHER_ACTOR), crw_count(r.p)]).toEqual([4, 4, 0]);
    expect(r.take_warnings()).toEqual([]);
  });

  it('CPU 1 has loaded the first entry; CPU 2 reads the region whole (list_del, copy, kfree); CPU 1 follows the freed entry', () => {
    const r = queued('v6.3', 2);
    const first = r.p.v.crw_first.id;
    let loads = 0;
    let done = false;
    const off = register_hook((k, o, s) => {
      // CPU 1's second access in the list code is its load of the entry's next pointer: CPU 2 runs first.
      if (done || s !== 'vfio_ccw_crw_region_read' || k !== H.read || (o !== first && loads === 0)) return;
      if (++loads < 2) return;
      done = true;
      read_as(r, OTHER_ACTOR);
    });
    try {
      read_as(r, TEST_ACTOR);
    } finally {
      off();
    }
    expect(done).toBe(true);
    const w = r.take_warnings();
    expect(w[0]).toMatch(/^use_after_free: BUG: KASAN: use-after-free in vfio_ccw_crw_region_read: list_del of vfio_ccw_crw freed at vfio_ccw_crw_region_read by actor 5$/);
  });
});

describe('channel-program chains: ccwchain_alloc in cp_init, ccwchain_free in cp_free', () => {
  type At = (r: GRig) => (k: number, o: number, s: string) => boolean;
  const TODO_ACTOR = 2;
  /** CPU 1 (the workqueue) runs io_todo on the start's final IRB; CPU 2 (QEMU closing the device) runs at `at`, or after io_todo. */
  function io_todo_vs_close(variant: string, at: At | null): string[] {
    const { r } = armed(variant);
    const as = (id: number, kind: ActorKind, name: string): void => void set_current(r.g, id, kind, name);
    const close = (): void => {
      as(OTHER_ACTOR, ActorKind.user, 'qemu');
      try {
        vfio_device_release(r.p);
      } finally {
        as(TODO_ACTOR, ActorKind.todo, 'todo');
      }
    };
    as(TODO_ACTOR, ActorKind.todo, 'todo');
    try {
      if (at === null) {
        vfio_ccw_sch_io_todo(r.p);
        close();
      } else io_todo_racing(r, at(r), close);
    } finally {
      as(TEST_ACTOR, ActorKind.test, 't');
    }
    return r.take_warnings().filter((x) => x.startsWith('use_after_free'));
  }
  // cp_update_scsw has tested cp->initialized and walks the chains with no lock (v5.3 … mainline)
  const in_update_walk: At = (r) => (k, o, s) => k === H.read && s === 'cp_update_scsw' && o === r.p.cp.ch_len[0]!.id;

  it.each(['v5.3', 'mainline'])('%s: CPU 1 io_todo walks the chains for the SCSW; CPU 2 closes the device and its cp_free frees them: use-after-free', (variant) => {
    const w = io_todo_vs_close(variant, in_update_walk);
    expect(w[0]).toBe('use_after_free: BUG: KASAN: use-after-free in cp_update_scsw: read of ccwchain freed at cp_free by actor 5');
  });

  it.each(['v5.3', 'mainline'])('%s: the same steps with the close after io_todo: quiet', (variant) => {
    expect(io_todo_vs_close(variant, null)).toEqual([]);
  });
});
