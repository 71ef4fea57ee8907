// The layers above vfio-ccw that create and remove its mdev and hand out device FDs:
// drivers/vfio/mdev/mdev_core.c + mdev_sysfs.c (create_store, remove_store) and the vfio core's
// registration (drivers/vfio/vfio.c: vfio_del_group_dev ≤ v5.13, vfio_unregister_group_dev from
// v5.14; vfio_main.c in the current tree). Read: mdev_core.c @ 062e720c, mdev_sysfs.c @ 0604aa87,
// vfio.c v5.14 (vfio_unregister_group_dev, vfio_group_get_device_fd) and vfio_main.c @ mainline.
// One mdev per subchannel, with QEMU's UUID: a second create with it is -EEXIST in every version.
// The driver's own steps are the port's vfio_ccw_mdev_probe/remove/request, called, not copied.
import {
  order_acquire, order_release,
  HZ, atomic_cmpxchg, atomic_dec_return, atomic_read, atomic_set, complete, mutex_lock, mutex_trylock, mutex_unlock, peek, poke,
  reinit_completion, spin_lock, spin_unlock, wait_for_completion_timeout,
} from '../kernel/index.ts';
import { EAGAIN, EEXIST, ENODEV, ENOENT } from '../uapi/errno.ts';
import { vfio_ccw_mdev_probe, vfio_ccw_mdev_remove, vfio_ccw_mdev_request } from '../driver/ops.ts';
import type { VfioCcwPrivate } from '../driver/private.ts';

import { VfioCore, counted_by_core, type VfioCoreView } from './vfio_device.ts';

export { VfioCore, type VfioCoreView };

/** Rounds of HZ * 10 a remove waits for the FDs at least, before its caller may call it a hang. */
export const UNREGISTER_ROUNDS = 6;

/** Whether to wait another round (the caller's bound: the kernel waits for ever). */
export type KeepWaiting = (round: number) => boolean;
const six_rounds: KeepWaiting = (i) => i < UNREGISTER_ROUNDS;

/**
 * v6.5+ unhook the device from its group before the wait (vfio_device_group_unregister first in
 * vfio_unregister_group_dev), so no new FD can be opened while it waits; before, an open still
 * succeeds while any FD holds a reference (vfio_device_try_get: refcount_inc_not_zero).
 */
const unhooks_first = (p: VfioCcwPrivate): boolean => p.drv.f.vfio_unhooks_before_wait;

/** The registration reference (vfio_register_group_dev / vfio_add_group_dev): refcount = 1. */
export function vfio_register_group_dev(c: VfioCoreView): void {
  const F = 'vfio_register_group_dev';
  reinit_completion(c.comp);
  atomic_set(c.refcount, 1, F);
  mutex_lock(c.device_lock, F);
  c.unhooked.set(0, F);
  mutex_unlock(c.device_lock, F);
}

/** refcount_inc_not_zero: no reference is taken once the last one is gone. */
function vfio_device_try_get(c: VfioCoreView, site: string): boolean {
  for (let n = atomic_read(c.refcount, site); n > 0; n = atomic_read(c.refcount, site)) {
    if (atomic_cmpxchg(c.refcount, n, n + 1, site) === n) return true;
  }
  return false;
}

/** vfio_device_put (_registration): the last reference completes comp. */
export function vfio_device_put(c: VfioCoreView): void {
  const F = 'vfio_device_put';
  spin_lock(c.ref_order, F);
  // the same refcount_dec_and_test order as an FD's put (vfio_device.ts), which takes no ref_order
  order_release(c.refcount.id);
  const last = atomic_dec_return(c.refcount, F) === 0;
  if (last) order_acquire(c.refcount.id);
  spin_unlock(c.ref_order, F);
  if (last) complete(c.comp, F);
}

/**
 * VFIO_GROUP_GET_DEVICE_FD: find the device (-ENODEV when it is not in the group), take a
 * reference, run the open (the port's vfio_device_open, passed in); a failed open puts it back.
 */
export function vfio_group_get_device_fd(c: VfioCoreView, open: () => number): number {
  const F = 'vfio_group_get_device_fd';
  // vfio_device_get_from_name: the list walk and the reference under device_lock
  mutex_lock(c.device_lock, F);
  const got = c.unhooked.get(F) === 0 && vfio_device_try_get(c, F);
  mutex_unlock(c.device_lock, F);
  if (!got) return -ENODEV;
  const rc = counted_by_core(open);
  if (rc !== 0) vfio_device_put(c);
  return rc;
}

/** The FD's release (vfio_device_fops_release): the driver's close, then the FD's reference. */
export function vfio_device_fops_release(c: VfioCoreView, release: () => void): void {
  counted_by_core(release);
  vfio_device_put(c);
}

/**
 * vfio_unregister_group_dev (vfio_del_group_dev ≤ v5.13, same loop over vfio.release_q): drop the
 * registration, then until the last FD is closed ask the driver for the device back
 * (device->ops->request(i++); vfio-ccw has .request from v5.11, the port's vfio_ccw_mdev_request
 * signals the REQ eventfd where the variant has it) and wait up to HZ * 10. The kernel loops for
 * ever; here `more` bounds it and false says the FDs were still open (the caller's hang).
 */
export function vfio_unregister_group_dev(p: VfioCcwPrivate, c: VfioCoreView, more: KeepWaiting = six_rounds): boolean {
  const F = 'vfio_unregister_group_dev';
  if (unhooks_first(p)) {
    mutex_lock(c.device_lock, F);
    c.unhooked.set(1, F);
    mutex_unlock(c.device_lock, F);
  }
  vfio_device_put(c);
  // try_wait_for_completion, as a wait of no time: the seam's try_wait reports no wake, and the
  // kernel's takes comp's wait.lock, which orders the last put before everything after it
  let done = wait_for_completion_timeout(c.comp, 0, F) > 0;
  for (let i = 0; !done && more(i); ) {
    vfio_ccw_mdev_request(p, i++);
    done = wait_for_completion_timeout(c.comp, HZ * 10, F) > 0;
  }
  return done;
}

/** What create_store answers: 0, or a negative errno. */
export function mdev_create(p: VfioCcwPrivate, c: VfioCoreView): number {
  const F = 'mdev_device_create';
  // No parent (the subchannel is gone, or back but not probed yet): the type's create attribute
  // does not exist, and open() fails -ENOENT before create_store could run.
  mutex_lock(p.sch.d.parent_lock, 'create_store');
  const parent = p.v.parent_registered.get('create_store') !== 0;
  mutex_unlock(p.sch.d.parent_lock, 'create_store');
  if (!parent) return -ENOENT;
  mutex_lock(c.list_lock, F);
  if (c.listed.get(F) !== 0) {
    mutex_unlock(c.list_lock, F);
    return -EEXIST;
  }
  c.listed.set(1, F);
  mutex_unlock(c.list_lock, F);
  // v5.3+ (5715c4dd66a3): down_read_trylock(&parent->unreg_sem) from here until the mdev is
  // active, so the parent's unregistration (down_write) waits for a create in progress instead of
  // removing an mdev whose probe has run and whose registration has not.
  const sem = p.drv.f.mdev_unreg_sem;
  if (sem && mutex_trylock(c.unreg_sem, F) === 0) {
    mdev_device_release(c);
    return -ENODEV;
  }
  // v5.14+: device_add (the "remove" attribute) before the driver is attached; before, the
  // parent's .create ran first and the attribute came with mdev_create_sysfs_files.
  const attr_first = !p.drv.f.per_fd_open;
  if (attr_first) atomic_set(c.remove_attr, 1, F);
  const rc = vfio_ccw_mdev_probe(p);
  if (rc !== 0) {
    if (attr_first) atomic_set(c.remove_attr, 0, F);
    if (sem) mutex_unlock(c.unreg_sem, F);
    mdev_device_release(c);
    return rc;
  }
  vfio_register_group_dev(c);
  if (!attr_first) atomic_set(c.remove_attr, 1, F);
  // mdev->active = true: a plain store, outside mdev_list_lock; then up_read
  c.active.set(1, F);
  if (sem) mutex_unlock(c.unreg_sem, F);
  return 0;
}

/** mdev_device_release (the last put_device): off mdev_list. */
function mdev_device_release(c: VfioCoreView): void {
  const F = 'mdev_device_release';
  mutex_lock(c.list_lock, F);
  c.listed.set(0, F);
  mutex_unlock(c.list_lock, F);
}

/** The outcome of a remove: its answer, and false when the FDs never closed (the harness's bound). */
export interface RemoveResult {
  rc: number;
  closed: boolean;
}

/**
 * remove_store: with no mdev there is no attribute to write (-ENOENT at open); of two writers only
 * the one whose device_remove_file_self() removed it goes on, the other returns count (0 here).
 * Then mdev_device_remove: -EAGAIN while a create has not finished (the attribute is gone by then,
 * as in the kernel); v5.3+ -ENODEV once the parent's unregistration holds unreg_sem; device_del
 * runs the vfio core's unregister (waiting for every FD) and the driver's remove; the last put
 * takes the mdev off the list.
 */
export function mdev_remove(p: VfioCcwPrivate, c: VfioCoreView, more: KeepWaiting = six_rounds): RemoveResult {
  const F = 'mdev_device_remove';
  if (atomic_read(c.remove_attr, F) === 0) return { rc: -ENOENT, closed: true };
  if (atomic_cmpxchg(c.remove_attr, 1, 0, F) !== 1) return { rc: 0, closed: true };
  mutex_lock(c.list_lock, F);
  if (c.listed.get(F) === 0) {
    mutex_unlock(c.list_lock, F);
    return { rc: -ENODEV, closed: true };
  }
  if (c.active.get(F) === 0) {
    mutex_unlock(c.list_lock, F);
    return { rc: -EAGAIN, closed: true };
  }
  c.active.set(0, F);
  mutex_unlock(c.list_lock, F);
  const sem = p.drv.f.mdev_unreg_sem;
  if (sem && mutex_trylock(c.unreg_sem, F) === 0) return { rc: -ENODEV, closed: true };
  const closed = vfio_unregister_group_dev(p, c, more);
  if (closed) {
    vfio_ccw_mdev_remove(p);
    mdev_device_release(c);
  }
  // (not closed: the harness gave up on the kernel's endless wait; it lets the semaphore go)
  if (sem) mutex_unlock(c.unreg_sem, F);
  return { rc: 0, closed };
}

/** The mdev main made at set-up (init_driver, before the core existed): listed, active, removable, registered. */
export function mdev_adopt(c: VfioCoreView): void {
  const F = 'mdev_device_create';
  c.listed.set(1, F);
  atomic_set(c.remove_attr, 1, F);
  vfio_register_group_dev(c);
  c.active.set(1, F);
}

/** The css worker's unregister is the kernel's: it waits for the users as long as they take. */
const for_ever: KeepWaiting = () => true;

/**
 * vfio_ccw_mdev_unreg (≤ v6.1; mdev_unregister_parent in v6.2+), from the css remove
 * (vfio_ccw_sch_remove): the mdev core removes the parent's mdev, whose vfio device
 * unregistration first waits for the users to close their FDs (asking through .request, v5.11+),
 * then runs the driver's mdev remove; the parent goes. An mdev a remove_store is already removing
 * is not removed twice: v5.3+ down_write(unreg_sem) waits for that removal to end, and the mdev
 * is gone after it; before, mdev_device_remove(dev, true) finds it taken (-EAGAIN / -ENODEV)
 * and goes on without waiting. Read in mdev_core.c v5.2 and v5.3 (5715c4dd66a3).
 */
export function vfio_ccw_mdev_unreg(p: VfioCcwPrivate): void {
  const F = p.drv.f.parent_split ? 'mdev_unregister_parent' : 'mdev_unregister_device';
  const c = p.core;
  const sem = p.drv.f.mdev_unreg_sem;
  if (sem) mutex_lock(c.unreg_sem, F);
  // the mdev core's own list of the parent's mdevs, not a driver field: read unhooked
  if (peek(p.v.mdev) !== 0 && (sem || take_for_remove(c, F))) {
    // mdev_device_remove_common: the remove attribute goes, the device is unregistered and
    // removed; the last put takes it off mdev_list (a later mdev's active starts false)
    atomic_set(c.remove_attr, 0, 'mdev_device_remove_common');
    vfio_unregister_group_dev(p, c, for_ever);
    vfio_ccw_mdev_remove(p);
    c.active.set(0, 'mdev_device_release');
    mdev_device_release(c);
  }
  if (sem) mutex_unlock(c.unreg_sem, F);
  // the parent's registration is the mdev core's (v6.2+ the parent outlives the freed private): unhooked
  poke(p.v.parent_registered, 0);
}

/**
 * ≤ v5.2 mdev_device_remove's claim: the mdev is active (no remove has it, no create is still
 * running). One the run never listed (set up by main, no lifecycle calls) has no other remover.
 */
function take_for_remove(c: VfioCoreView, site: string): boolean {
  mutex_lock(c.list_lock, site);
  const listed = c.listed.get(site) !== 0;
  const mine = !listed || c.active.get(site) !== 0;
  if (listed && mine) c.active.set(0, site);
  mutex_unlock(c.list_lock, site);
  return mine;
}
