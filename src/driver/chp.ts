// drivers/s390/cio/vfio_ccw_chp.c: the schib and CRW regions (v5.8+).
import { mutex_lock, mutex_unlock, spin_lock_irqsave, spin_unlock_irqrestore } from '../kernel/index.ts';
import { EFAULT, EINVAL, ENODEV } from '../uapi/errno.ts';
import { CRW_REGION_SIZE, SCHIB_AREA_SIZE, VFIO_CCW_NUM_REGIONS, VFIO_CCW_OFFSET_MASK, VFIO_CCW_OFFSET_TO_INDEX } from '../uapi/vfio_ccw.ts';
import { cio_update_schib } from '../cio/css.ts';
import { signal_trigger } from './drv.ts';
import { crw_dequeue, crw_free, crw_list_empty, crw_value } from './crw.ts';
import type { VfioCcwPrivate } from './private.ts';
import { copy_to_user, type UserPtr } from './uaccess.ts';

/**
 * The current tree (@ 16b0798024c0) checks the region index again under io_mutex
 * (`i >= private->num_regions` -> -EINVAL); before, only vfio_ccw_mdev_read checked it, unlocked.
 */
function region_gone(p: VfioCcwPrivate, ppos: number, site: string): boolean {
  return p.drv.f.crw_lock && VFIO_CCW_OFFSET_TO_INDEX(ppos) - VFIO_CCW_NUM_REGIONS >= p.v.num_regions.get(site);
}

export function vfio_ccw_schib_region_read(p: VfioCcwPrivate, buf: UserPtr, count: number, ppos: number): number {
  const F = 'vfio_ccw_schib_region_read';
  const pos = ppos & VFIO_CCW_OFFSET_MASK;
  if (pos + count > SCHIB_AREA_SIZE) return -EINVAL;
  mutex_lock(p.v.io_mutex, F);
  let ret: number;
  if (region_gone(p, ppos, F)) ret = -EINVAL;
  else if (cio_update_schib(p.sch) !== 0) ret = -ENODEV;
  else {
    p.v.schib_region.copy_from(p.sch.v.schib, F, SCHIB_AREA_SIZE);
    ret = copy_to_user(buf, p.v.schib_region.read(pos, count, F)) === 0 ? count : -EFAULT;
  }
  mutex_unlock(p.v.io_mutex, F);
  return ret;
}

export function vfio_ccw_schib_region_write(): number {
  return -EINVAL;
}

export function vfio_ccw_crw_region_read(p: VfioCcwPrivate, buf: UserPtr, count: number, ppos: number): number {
  const F = 'vfio_ccw_crw_region_read';
  const pos = ppos & VFIO_CCW_OFFSET_MASK;
  if (pos + count > CRW_REGION_SIZE) return -EINVAL;
  if (p.drv.f.crw_lock) return crw_region_read_locked(p, buf, count, ppos);
  // Dequeue with no lock: the producer appends under sch->lock, which we do not take (vfio_ccw_crw_region_read in vfio_ccw_chp.c).
  const crw = crw_dequeue(p, F);
  mutex_lock(p.v.io_mutex, F);
  if (crw !== 0) p.v.crw_region.set_u32(0, crw_value(p, crw, F), F);
  const ret = copy_to_user(buf, p.v.crw_region.read(pos, count, F)) === 0 ? count : -EFAULT;
  p.v.crw_region.set_u32(0, 0, F);
  mutex_unlock(p.v.io_mutex, F);
  if (crw !== 0) crw_free(p, crw, F);
  // Notify the guest if more CRWs are on our queue
  if (!crw_list_empty(p, F)) signal_trigger(p, p.v.crw_trigger, F);
  return ret;
}

/**
 * The current tree's CRW region read (torvalds/linux @ 16b0798024c0 vfio_ccw_chp.c): all of it
 * under io_mutex; the first entry unlinked under crw_lock, dropped for the copy to the user, and
 * taken again for the "more CRWs" test and signal. kfree(NULL) is a no-op.
 */
function crw_region_read_locked(p: VfioCcwPrivate, buf: UserPtr, count: number, ppos: number): number {
  const F = 'vfio_ccw_crw_region_read';
  const pos = ppos & VFIO_CCW_OFFSET_MASK;
  mutex_lock(p.v.io_mutex, F);
  let ret: number;
  if (region_gone(p, ppos, F)) ret = -EINVAL;
  else {
    let flags = spin_lock_irqsave(p.v.crw_lock, F);
    const crw = crw_dequeue(p, F);
    spin_unlock_irqrestore(p.v.crw_lock, flags, F);
    if (crw !== 0) p.v.crw_region.set_u32(0, crw_value(p, crw, F), F);
    ret = copy_to_user(buf, p.v.crw_region.read(pos, count, F)) === 0 ? count : -EFAULT;
    p.v.crw_region.set_u32(0, 0, F);
    if (crw !== 0) crw_free(p, crw, F);
    flags = spin_lock_irqsave(p.v.crw_lock, F);
    if (!crw_list_empty(p, F)) signal_trigger(p, p.v.crw_trigger, F);
    spin_unlock_irqrestore(p.v.crw_lock, flags, F);
  }
  mutex_unlock(p.v.io_mutex, F);
  return ret;
}

export function vfio_ccw_crw_region_write(): number {
  return -EINVAL;
}
