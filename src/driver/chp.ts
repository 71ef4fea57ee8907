// drivers/s390/cio/vfio_ccw_chp.c: the schib and CRW regions (v5.8+).
import { mutex_lock, mutex_unlock } from '../kernel/index.ts';
import { EFAULT, EINVAL, ENODEV } from '../uapi/errno.ts';
import { CRW_REGION_SIZE, SCHIB_AREA_SIZE, VFIO_CCW_OFFSET_MASK } from '../uapi/vfio_ccw.ts';
import { cio_update_schib } from '../cio/css.ts';
import { signal_trigger } from './drv.ts';
import { crw_dequeue, crw_free, crw_list_empty, crw_value } from './crw.ts';
import type { VfioCcwPrivate } from './private.ts';
import { copy_to_user, type UserPtr } from './uaccess.ts';

export function vfio_ccw_schib_region_read(p: VfioCcwPrivate, buf: UserPtr, count: number, ppos: number): number {
  const F = 'vfio_ccw_schib_region_read';
  const pos = ppos & VFIO_CCW_OFFSET_MASK;
  if (pos + count > SCHIB_AREA_SIZE) return -EINVAL;
  mutex_lock(p.v.io_mutex, F);
  let ret: number;
  if (cio_update_schib(p.sch) !== 0) ret = -ENODEV;
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
  // Dequeue with no lock: the producer appends under sch->lock, which we do not take (§11.5).
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

export function vfio_ccw_crw_region_write(): number {
  return -EINVAL;
}
