// drivers/s390/cio/vfio_ccw_async.c: the async command region (hsch/csch, v5.2+).
import { mutex_lock, mutex_trylock, mutex_unlock } from '../kernel/index.ts';
import { EAGAIN, EFAULT, EINVAL } from '../uapi/errno.ts';
import { CMD_REGION_SIZE, CMD_RET_CODE, VFIO_CCW_OFFSET_MASK, VFIO_CCW_OFFSET_TO_INDEX } from '../uapi/vfio_ccw.ts';
import { vfio_ccw_fsm_event } from './fsm.ts';
import type { VfioCcwPrivate } from './private.ts';
import { copy_from_user, copy_to_user, type UserPtr } from './uaccess.ts';

export function vfio_ccw_async_region_read(p: VfioCcwPrivate, buf: UserPtr, count: number, ppos: number): number {
  const F = 'vfio_ccw_async_region_read';
  const i = VFIO_CCW_OFFSET_TO_INDEX(ppos) - 1;
  const pos = ppos & VFIO_CCW_OFFSET_MASK;
  if (pos + count > CMD_REGION_SIZE) return -EINVAL;
  mutex_lock(p.v.io_mutex, F);
  let ret: number;
  if (i >= p.v.num_regions.get(F)) ret = -EINVAL;
  else ret = copy_to_user(buf, p.v.cmd_region.read(pos, count, F)) === 0 ? count : -EFAULT;
  mutex_unlock(p.v.io_mutex, F);
  return ret;
}

export function vfio_ccw_async_region_write(p: VfioCcwPrivate, buf: UserPtr, count: number, ppos: number): number {
  const F = 'vfio_ccw_async_region_write';
  const i = VFIO_CCW_OFFSET_TO_INDEX(ppos) - 1;
  const pos = ppos & VFIO_CCW_OFFSET_MASK;
  if (pos + count > CMD_REGION_SIZE) return -EINVAL;
  if (!mutex_trylock(p.v.io_mutex, F)) return -EAGAIN;
  let ret: number;
  if (i >= p.v.num_regions.get(F)) ret = -EINVAL;
  else {
    const data = copy_from_user(buf, count);
    if (data === null) ret = -EFAULT;
    else {
      p.v.cmd_region.write(pos, data, F);
      vfio_ccw_fsm_event(p, p.drv.E.ASYNC_REQ);
      const rc = p.v.cmd_region.get_i32(CMD_RET_CODE, F);
      ret = rc !== 0 ? rc : count;
    }
  }
  mutex_unlock(p.v.io_mutex, F);
  return ret;
}
