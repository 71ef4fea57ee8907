// The current tree (torvalds/linux @ 16b0798024c0) against v6.3: the CRW list under
// private->crw_lock, and close/.release cancelling the work items. Each schedule is played on the
// test's own thread: CPU 2's steps run from a hook at a point of CPU 1 where the kernel allows
// them. The CRW test tries every such point of one region read (an exhaustive bound of one
// preemption), so it needs no luck.
import { afterEach, describe, expect, it } from 'vitest';
import { CHP_ONLINE } from '../src/cio/index.ts';
import { crw_count } from '../src/driver/crw.ts';
import { vfio_ccw_chp_event } from '../src/driver/drv.ts';
import { vfio_ccw_mdev_remove, vfio_device_release } from '../src/driver/ops.ts';
import { ActorKind, queue_work, register_hook, set_current, spin_is_locked, spin_lock_irq, spin_unlock_irq, work_pending } from '../src/kernel/index.ts';
import { irb_make } from '../src/uapi/irb.ts';
import { SCSW_FCTL_START_FUNC, SCSW_STCTL_PRIM_STATUS, SCSW_STCTL_SEC_STATUS, SCSW_STCTL_STATUS_PEND, scsw_word0 } from '../src/uapi/scsw.ts';
import { IO_REGION_SIZE } from '../src/uapi/vfio_ccw.ts';
import { OFF_CRW, OFF_IO, OTHER_ACTOR, TEST_ACTOR, end_rig, g_rig, io_region, type GRig } from './helpers/g_rig.ts';

const T = 'test';

afterEach(() => {
  end_rig();
});

/** CPU 2: the css's chp_event for another CHPID, sch->lock held: vfio_ccw_queue_crw appends one CRW. */
function chp_online(r: GRig, chpid: number): void {
  set_current(r.g, OTHER_ACTOR, ActorKind.irq, 'css');
  try {
    spin_lock_irq(r.p.sch.v.lock, T);
    expect(vfio_ccw_chp_event(r.p, r.p.sch, { chpid, mask: 0x80 }, CHP_ONLINE)).toBe(0);
    spin_unlock_irq(r.p.sch.v.lock, T);
  } finally {
    set_current(r.g, TEST_ACTOR, ActorKind.user, 'qemu');
  }
}

/**
 * One CRW queued; CPU 1 reads the CRW region; CPU 2 queues a second CRW before CPU 1's hook point
 * `at` (or, while CPU 1 holds crw_lock, at its first point after the unlock: CPU 2 spins on it
 * there). Returns the CRWs left on the list (1 unless the second one was lost).
 */
function read_with_append_at(variant: string, at: number): { left: number; points: number } {
  const r = g_rig({ variant, open: true });
  chp_online(r, 0x40);
  set_current(r.g, TEST_ACTOR, ActorKind.user, 'qemu');
  let points = 0;
  let inside = false;
  let done = false;
  const off = register_hook(() => {
    if (inside || done) return;
    // CPU 2 needs crw_lock (and the allocator's crw_slab): while CPU 1 holds either it spins
    if (++points < at || spin_is_locked(r.p.v.crw_lock) || spin_is_locked(r.p.v.crw_slab)) return;
    inside = true;
    chp_online(r, 0x41);
    inside = false;
    done = true;
  });
  try {
    expect(r.read(OFF_CRW, 4)).toBe(4);
  } finally {
    off();
  }
  if (!done) chp_online(r, 0x41); // past CPU 1's last point: one after the other
  const left = crw_count(r.p);
  end_rig();
  return { left, points };
}

describe('S9.crw-fifo in two columns: vfio_ccw_crw_region_read against vfio_ccw_queue_crw', () => {
  const lost_at = (variant: string): number[] => {
    const { points } = read_with_append_at(variant, Number.MAX_SAFE_INTEGER);
    expect(points).toBeGreaterThan(5);
    const lost: number[] = [];
    for (let at = 1; at <= points + 1; at++) if (read_with_append_at(variant, at).left !== 1) lost.push(at);
    return lost;
  };

  it('v6.3: some point between list_first_entry_or_null and list_del loses the appended CRW', () => {
    // CPU 1 (QEMU)                        CPU 2 (css, sch->lock)
    // vfio_ccw_crw_region_read()
    //   crw = first, next = NULL
    //                                     vfio_ccw_queue_crw()  list_add_tail: first->next = new
    //   list_del: head = next (NULL)
    expect(lost_at('v6.3').length).toBeGreaterThan(0);
  });

  it('mainline: no point loses it; list_del and list_add_tail are both under private->crw_lock', () => {
    expect(lost_at('mainline')).toEqual([]);
  });
});

describe('close_device and .release cancel io_work (mainline) or leave it queued on a freed private (v6.3)', () => {
  const FINAL = scsw_word0({ fctl: SCSW_FCTL_START_FUNC, stctl: SCSW_STCTL_PRIM_STATUS | SCSW_STCTL_SEC_STATUS | SCSW_STCTL_STATUS_PEND });
  it.each([
    ['v6.3', true],
    ['mainline', false],
  ])('%s: final interrupt queued io_work; close and mdev remove run before the workqueue -> still pending: %s', (variant, pending) => {
    const r = g_rig({ variant, open: true });
    expect(r.write(OFF_IO, io_region())).toBe(IO_REGION_SIZE);
    // CPU 1 (IRQ): the final interrupt; fsm_irq filled the slot and queued io_work.
    r.p.sch.hw.set('fctl', 0);
    r.p.sch.hw.set('actl', 0);
    r.p.sch.hw.set('start_open', 0);
    r.p.v.irb.write(0, irb_make({ w0: FINAL, cpa: 0, dstat: 0x0c, cstat: 0, count: 0 }), T);
    expect(queue_work(r.p.wq, r.p.v.io_work, 'fsm_irq')).toBe(true);
    // CPU 2 (QEMU, then the admin): close the device fd, remove the mdev.
    vfio_device_release(r.p);
    vfio_ccw_mdev_remove(r.p);
    expect(work_pending(r.p.v.io_work)).toBe(pending);
  });
});
