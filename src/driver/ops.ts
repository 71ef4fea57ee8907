// drivers/s390/cio/vfio_ccw_ops.c: the user-facing file operations, ioctls and mdev lifecycle.
import {
  atomic_dec_if_positive, atomic_dec_return, atomic_inc, atomic_set, cancel_work_sync, complete, init_completion, mutex_lock, mutex_trylock, mutex_unlock, peek,
  spin_lock_irqsave, spin_unlock_irqrestore, wait_for_completion, WARN, Warn, type Field,
} from '../kernel/index.ts';
import { EACCES, EAGAIN, EBADF, EBUSY, EFAULT, EINVAL, EIO, ENODEV, ENOMEM, ENOTTY, EPERM } from '../uapi/errno.ts';
import {
  CAP_TYPE_SIZE, CMD_REGION_SIZE, CRW_REGION_SIZE, DEVICE_INFO_MINSZ, IO_REGION_SIZE, IO_RET_CODE, IRQ_INFO_MINSZ, IRQ_SET_MINSZ,
  REGION_INFO_MINSZ, SCHIB_AREA_SIZE, VFIO_CCW_CONFIG_REGION_INDEX, VFIO_CCW_CRW_IRQ_INDEX, VFIO_CCW_INDEX_TO_OFFSET, VFIO_CCW_IO_IRQ_INDEX,
  VFIO_CCW_OFFSET_MASK, VFIO_CCW_OFFSET_TO_INDEX, VFIO_CCW_REQ_IRQ_INDEX, VFIO_DEVICE_FLAGS_CCW, VFIO_DEVICE_FLAGS_RESET, VFIO_DEVICE_GET_INFO,
  VFIO_DEVICE_GET_IRQ_INFO, VFIO_DEVICE_GET_REGION_INFO, VFIO_DEVICE_RESET, VFIO_DEVICE_SET_IRQS, VFIO_IRQ_INFO_EVENTFD, VFIO_IRQ_SET_ACTION_TRIGGER,
  VFIO_IRQ_SET_DATA_BOOL, VFIO_IRQ_SET_DATA_EVENTFD, VFIO_IRQ_SET_DATA_NONE, VFIO_IRQ_SET_DATA_TYPE_MASK, VFIO_REGION_INFO_CAP_TYPE,
  VFIO_REGION_INFO_FLAG_CAPS, VFIO_REGION_INFO_FLAG_READ, VFIO_REGION_INFO_FLAG_WRITE, VFIO_REGION_SUBTYPE_CCW_ASYNC_CMD, VFIO_REGION_SUBTYPE_CCW_CRW,
  VFIO_REGION_SUBTYPE_CCW_SCHIB, VFIO_REGION_TYPE_CCW,
} from '../uapi/vfio_ccw.ts';
import {
  Kref, eventfd_ctx_deref, eventfd_ctx_fdget, eventfd_ctx_ptr, eventfd_ctx_put, kmem_alloc, kmem_free, kref_gen, kref_init, obj_free, should_fail, type MemRange,
} from '../kernel/index.ts';
import { cio_enable_subchannel } from '../cio/css.ts';
import { vfio_ccw_async_region_read, vfio_ccw_async_region_write } from './async.ts';
import { crw_free_all } from './crw.ts';
import { vfio_ccw_crw_region_read, vfio_ccw_crw_region_write, vfio_ccw_schib_region_read, vfio_ccw_schib_region_write } from './chp.ts';
import { ChannelProgram, cp_free, cp_iova_pinned } from './cp.ts';
import { signal_trigger, trigger_checked, vfio_ccw_fsm_offline_wait, vfio_ccw_sch_quiesce } from './drv.ts';
import { vfio_ccw_fsm_event } from './fsm.ts';
import { VfioCcwPrivate as PrivateLayout, type VfioCcwPrivate } from './private.ts';
import { SITES } from './sites.ts';
import { fsm_returns_state } from './features.ts';
import { vfio_device_fd_get, vfio_device_fd_put, vfio_device_registered } from '../vfio/vfio_device.ts';
import { copy_from_user, copy_to_user as copy_out, type UserPtr } from './uaccess.ts';

type RegionRw = (p: VfioCcwPrivate, buf: UserPtr, count: number, ppos: number) => number;
interface Region {
  subtype: number;
  size: number;
  flags: number;
  read: RegionRw;
  write: RegionRw;
}

/** The extra regions in the order open registers them: async, then schib and crw (v5.8+). */
const ASYNC: Region = { subtype: VFIO_REGION_SUBTYPE_CCW_ASYNC_CMD, size: CMD_REGION_SIZE, flags: VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE, read: vfio_ccw_async_region_read, write: vfio_ccw_async_region_write };
const SCHIB: Region = { subtype: VFIO_REGION_SUBTYPE_CCW_SCHIB, size: SCHIB_AREA_SIZE, flags: VFIO_REGION_INFO_FLAG_READ, read: vfio_ccw_schib_region_read, write: vfio_ccw_schib_region_write };
const CRW: Region = { subtype: VFIO_REGION_SUBTYPE_CCW_CRW, size: CRW_REGION_SIZE, flags: VFIO_REGION_INFO_FLAG_READ, read: vfio_ccw_crw_region_read, write: vfio_ccw_crw_region_write };

export function extra_regions(p: VfioCcwPrivate): readonly Region[] {
  const r = p.drv.f.regions;
  return r === 'io' ? [] : r === 'io+async' ? [ASYNC] : [ASYNC, SCHIB, CRW];
}

/** region[i] after `sets` registrations: per-FD opens (<= v5.14) append the same entries again. */
function region_at(p: VfioCcwPrivate, i: number): Region | undefined {
  const base = extra_regions(p);
  return base.length === 0 ? undefined : base[i % base.length];
}

// ---- the I/O region ----

function vfio_ccw_mdev_read_io_region(p: VfioCcwPrivate, buf: UserPtr, count: number, ppos: number): number {
  const F = 'vfio_ccw_mdev_read_io_region';
  const pos = p.drv.f.offset_shift ? ppos & VFIO_CCW_OFFSET_MASK : ppos;
  if (pos + count > IO_REGION_SIZE) return -EINVAL;
  if (p.drv.f.io_mutex) mutex_lock(p.v.io_mutex, F);
  const ret = copy_out(buf, p.v.io_region.read(pos, count, F)) === 0 ? count : -EFAULT;
  if (p.drv.f.io_mutex) mutex_unlock(p.v.io_mutex, F);
  return ret;
}

function vfio_ccw_mdev_write_io_region(p: VfioCcwPrivate, buf: UserPtr, count: number, ppos: number): number {
  const F = SITES.vfio_ccw_mdev_write_io_region;
  const f = p.drv.f;
  const pos = f.offset_shift ? ppos & VFIO_CCW_OFFSET_MASK : ppos;
  if (pos + count > IO_REGION_SIZE) return -EINVAL;
  // v4.12 ... v5.1: an unlocked pre-check ("the state machine will handle this" replaced it in v5.2).
  if (f.write_prefilter_eacces && p.v.state.get(F) !== p.drv.S.IDLE) return -EACCES;
  if (f.io_mutex && !mutex_trylock(p.v.io_mutex, F)) return -EAGAIN;
  let ret: number;
  const data = copy_from_user(buf, count);
  if (data === null) ret = -EFAULT;
  else {
    p.v.io_region.write(pos, data, F);
    vfio_ccw_fsm_event(p, p.drv.R.EV_IO_REQ);
    const rc = p.v.io_region.get_i32(IO_RET_CODE, F);
    if (rc !== 0 && f.write_resets_idle_on_error) p.v.state.set(p.drv.S.IDLE, F);
    ret = rc !== 0 ? rc : count;
  }
  if (f.io_mutex) mutex_unlock(p.v.io_mutex, F);
  return ret;
}

// ---- read()/write() dispatch ----

export function vfio_ccw_mdev_read(p: VfioCcwPrivate, buf: UserPtr, count: number, ppos: number): number {
  if (!p.drv.f.offset_shift) return vfio_ccw_mdev_read_io_region(p, buf, count, ppos);
  const index = VFIO_CCW_OFFSET_TO_INDEX(ppos);
  if (index >= 1 + p.v.num_regions.get('vfio_ccw_mdev_read')) return -EINVAL;
  if (index === VFIO_CCW_CONFIG_REGION_INDEX) return vfio_ccw_mdev_read_io_region(p, buf, count, ppos);
  const r = region_at(p, index - 1);
  return r === undefined ? -EINVAL : r.read(p, buf, count, ppos);
}

export function vfio_ccw_mdev_write(p: VfioCcwPrivate, buf: UserPtr, count: number, ppos: number): number {
  if (!p.drv.f.offset_shift) return vfio_ccw_mdev_write_io_region(p, buf, count, ppos);
  const index = VFIO_CCW_OFFSET_TO_INDEX(ppos);
  if (index >= 1 + p.v.num_regions.get('vfio_ccw_mdev_write')) return -EINVAL;
  if (index === VFIO_CCW_CONFIG_REGION_INDEX) return vfio_ccw_mdev_write_io_region(p, buf, count, ppos);
  const r = region_at(p, index - 1);
  return r === undefined ? -EINVAL : r.write(p, buf, count, ppos);
}

// ---- ioctls ----

const be = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** An ioctl's copy-back: -EFAULT on a fault, but v4.12 hands back copy_to_user's "bytes not copied" (vfio_ccw_mdev_ioctl, vfio_ccw_ops.c). */
function copy_back(p: VfioCcwPrivate, arg: UserPtr, src: Uint8Array, off = 0): number {
  if (copy_out(arg, src, off) === 0) return 0;
  if (p.drv.f.ioctl_copyback_fault === '-EFAULT') return -EFAULT;
  return Math.min(src.length, src.length + off - Math.min(arg?.length ?? 0, src.length + off));
}

function get_info(p: VfioCcwPrivate, arg: UserPtr): number {
  const info = copy_from_user(arg, DEVICE_INFO_MINSZ);
  if (info === null) return -EFAULT;
  const d = be(info);
  if (d.getUint32(0) < DEVICE_INFO_MINSZ) return -EINVAL;
  d.setUint32(4, VFIO_DEVICE_FLAGS_CCW | VFIO_DEVICE_FLAGS_RESET);
  d.setUint32(8, 1 + (p.drv.f.offset_shift ? p.v.num_regions.get('vfio_ccw_mdev_get_device_info') : 0));
  d.setUint32(12, p.drv.f.irqs);
  return copy_back(p, arg, info);
}

function get_region_info(p: VfioCcwPrivate, arg: UserPtr): number {
  const F = 'vfio_ccw_mdev_ioctl_get_region_info';
  const info = copy_from_user(arg, REGION_INFO_MINSZ);
  if (info === null) return -EFAULT;
  const d = be(info);
  const argsz = d.getUint32(0);
  if (argsz < REGION_INFO_MINSZ) return -EINVAL;
  const index = d.getUint32(8);
  if (index === VFIO_CCW_CONFIG_REGION_INDEX) {
    d.setBigUint64(24, 0n);
    d.setBigUint64(16, BigInt(IO_REGION_SIZE));
    d.setUint32(4, VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE);
    return copy_back(p, arg, info);
  }
  if (!p.drv.f.offset_shift) return -EINVAL;
  if (index >= 1 + p.v.num_regions.get(F)) return -EINVAL;
  const r = region_at(p, index - 1);
  if (r === undefined) return -EINVAL;
  d.setBigUint64(24, BigInt(VFIO_CCW_INDEX_TO_OFFSET(index)));
  d.setBigUint64(16, BigInt(r.size));
  d.setUint32(4, r.flags | VFIO_REGION_INFO_FLAG_CAPS);
  const cap = new Uint8Array(CAP_TYPE_SIZE);
  const c = be(cap);
  c.setUint16(0, VFIO_REGION_INFO_CAP_TYPE);
  c.setUint16(2, 1);
  c.setUint32(4, 0);
  c.setUint32(8, VFIO_REGION_TYPE_CCW);
  c.setUint32(12, r.subtype);
  if (argsz < REGION_INFO_MINSZ + CAP_TYPE_SIZE) {
    d.setUint32(0, REGION_INFO_MINSZ + CAP_TYPE_SIZE);
    d.setUint32(12, 0);
  } else {
    if (copy_out(arg, cap, REGION_INFO_MINSZ) !== 0) return -EFAULT;
    d.setUint32(12, REGION_INFO_MINSZ);
  }
  return copy_back(p, arg, info);
}

function irq_index_ok(p: VfioCcwPrivate, index: number): boolean {
  return index === VFIO_CCW_IO_IRQ_INDEX || (index === VFIO_CCW_CRW_IRQ_INDEX && p.drv.f.irqs >= 2) || (index === VFIO_CCW_REQ_IRQ_INDEX && p.drv.f.irqs >= 3);
}

function get_irq_info(p: VfioCcwPrivate, arg: UserPtr): number {
  const info = copy_from_user(arg, IRQ_INFO_MINSZ);
  if (info === null) return -EFAULT;
  const d = be(info);
  const index = d.getUint32(8);
  if (d.getUint32(0) < IRQ_INFO_MINSZ || index >= p.drv.f.irqs) return -EINVAL;
  if (!irq_index_ok(p, index)) return -EINVAL;
  d.setUint32(12, 1);
  d.setUint32(4, VFIO_IRQ_INFO_EVENTFD);
  return copy_back(p, arg, info);
}

function trigger_field(p: VfioCcwPrivate, index: number) {
  if (index === VFIO_CCW_IO_IRQ_INDEX) return p.v.io_trigger;
  if (index === VFIO_CCW_CRW_IRQ_INDEX && p.drv.f.irqs >= 2) return p.v.crw_trigger;
  if (index === VFIO_CCW_REQ_IRQ_INDEX && p.drv.f.irqs >= 3) return p.v.req_trigger;
  return null;
}

/** `if (*ctx) eventfd_ctx_put(*ctx);` of vfio_ccw_mdev_set_irqs: two loads, no lock. */
function put_trigger(p: VfioCcwPrivate, slot: Field, site: string): void {
  const ptr = trigger_checked(slot, site);
  if (ptr !== 0) eventfd_ctx_put(eventfd_ctx_deref(p.g, ptr), site);
}

/** VFIO_DEVICE_SET_IRQS: vfio_set_irqs_validate_and_prepare, then vfio_ccw_mdev_set_irqs. */
function set_irqs(p: VfioCcwPrivate, arg: UserPtr): number {
  const F = 'vfio_ccw_mdev_set_irqs';
  const hdr = copy_from_user(arg, IRQ_SET_MINSZ);
  if (hdr === null) return -EFAULT;
  const d = be(hdr);
  const argsz = d.getUint32(0);
  const flags = d.getUint32(4);
  const index = d.getUint32(8);
  const start = d.getUint32(12);
  const count = d.getUint32(16);
  const max = p.drv.f.irqs;
  if (argsz < IRQ_SET_MINSZ || index >= max || count >= 0xffffffff - start || (flags & ~0x3f) !== 0) return -EINVAL;
  if (start >= 1 || start + count > 1) return -EINVAL;
  const type = flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
  const size = type === VFIO_IRQ_SET_DATA_NONE ? 0 : type === VFIO_IRQ_SET_DATA_BOOL ? 1 : type === VFIO_IRQ_SET_DATA_EVENTFD ? 4 : -1;
  if (size < 0) return -EINVAL;
  if (size !== 0 && argsz - IRQ_SET_MINSZ < count * size) return -EINVAL;
  if ((flags & VFIO_IRQ_SET_ACTION_TRIGGER) === 0) return -EINVAL;
  const slot = trigger_field(p, index);
  if (slot === null) return -EINVAL;
  switch (type) {
    case VFIO_IRQ_SET_DATA_NONE:
      signal_trigger(p, slot, F);
      return 0;
    case VFIO_IRQ_SET_DATA_BOOL: {
      const b = copy_from_user(arg, 1, IRQ_SET_MINSZ);
      if (b === null) return -EFAULT;
      if (b[0] !== 0) signal_trigger(p, slot, F);
      return 0;
    }
    default: {
      // The data word is read even when count = 0.
      const w = copy_from_user(arg, 4, IRQ_SET_MINSZ);
      if (w === null) return -EFAULT;
      const fd = be(w).getInt32(0);
      // No lock (R5): the old context is put before the new pointer is stored, and a signaller
      // that loaded the old pointer has no reference of its own (v6.8 vfio_ccw_mdev_set_irqs).
      // Two setters that both load the old pointer both put it (v4.18 … v6.8 alike): the
      // second put is refcount_t's underflow, a use-after-free (test/set-irqs-race.test.ts).
      if (fd === -1) {
        put_trigger(p, slot, F);
        slot.set(0, F);
        return 0;
      }
      if (fd < -1) return -EINVAL;
      const ctx = should_fail('eventfd_ctx') ? -EBADF : eventfd_ctx_fdget(p.g, fd);
      if (typeof ctx === 'number') return ctx;
      put_trigger(p, slot, F);
      slot.set(eventfd_ctx_ptr(ctx), F);
      return 0;
    }
  }
}

export function vfio_ccw_mdev_ioctl(p: VfioCcwPrivate, cmd: number, arg: UserPtr): number {
  switch (cmd) {
    case VFIO_DEVICE_GET_INFO:
      return get_info(p, arg);
    case VFIO_DEVICE_GET_REGION_INFO:
      return get_region_info(p, arg);
    case VFIO_DEVICE_GET_IRQ_INFO:
      return get_irq_info(p, arg);
    case VFIO_DEVICE_SET_IRQS:
      return set_irqs(p, arg);
    case VFIO_DEVICE_RESET:
      return vfio_ccw_mdev_reset(p);
    default:
      return -ENOTTY;
  }
}

// ---- reset, open/close, DMA unmap, request ----

export function vfio_ccw_mdev_reset(p: VfioCcwPrivate): number {
  const F = 'vfio_ccw_mdev_reset';
  const f = p.drv.f;
  if (f.reset === 'close+open') {
    vfio_ccw_fsm_event(p, p.drv.E.CLOSE);
    vfio_ccw_fsm_event(p, p.drv.E.OPEN);
    return p.v.state.get(F) === p.drv.R.NOT_OPER ? -EINVAL : 0;
  }
  if (f.reset === 'offline+online') {
    // morel-2018 [inferred from the 2018 series]: offline (waiting out QUIESCING), then ONLINE; the answer is ours: -EIO unless IDLE.
    vfio_ccw_fsm_offline_wait(p);
    vfio_ccw_fsm_event(p, p.drv.E.ONLINE);
    return p.v.state.get(F) === p.drv.S.IDLE ? 0 : -EIO;
  }
  // B, C, D: quiesce (NOT_OPER), then enable; the cp is not freed here. The enable runs without
  // sch->lock: vfio_ccw_mdev_reset (vfio_ccw_ops.c) takes no lock around cio_enable_subchannel.
  const ret = vfio_ccw_sch_quiesce(p);
  if (ret !== 0) return ret;
  const en = cio_enable_subchannel(p.sch, p.sch.v.schid.get(F));
  if (en === 0) p.v.state.set(p.drv.S.IDLE, F);
  return en;
}

/** vfio_ccw_register_{async,schib,crw}_dev_regions in turn: -1, or the index of the one whose krealloc failed. */
function register_regions(p: VfioCcwPrivate): number {
  const F = 'vfio_ccw_register_regions';
  const n = extra_regions(p).length;
  if (n === 0) return -1;
  for (let k = 0; k < n; k++) {
    if (should_fail('region_register')) return k;
    p.v.num_regions.set(p.v.num_regions.get(F) + 1, F);
  }
  p.v.region_sets.set(p.v.region_sets.get(F) + 1, F);
  return -1;
}

function unregister_regions(p: VfioCcwPrivate): void {
  const F = 'vfio_ccw_unregister_regions';
  p.v.num_regions.set(0, F);
  p.v.region_sets.set(0, F);
}

/** The IOMMU DMA-unmap notifier (≤ v5.19, and F): registered at open, per FD before v5.15 (I16). */
function notifier_register(p: VfioCcwPrivate, delta: 1 | -1): void {
  const F = 'vfio_register_notifier';
  if (p.drv.f.dma_unmap === 'notifier-exact') p.v.notifier_registered.set(p.v.notifier_registered.get(F) + delta, F);
}

/** open_device (first FD, v5.15+) or open (every FD, <= v5.14). */
export function vfio_ccw_mdev_open_device(p: VfioCcwPrivate): number {
  const F = 'vfio_ccw_mdev_open_device';
  const R = p.drv.R;
  notifier_register(p, 1);
  const failed = register_regions(p);
  if (failed >= 0) {
    // v5.2 … v5.7: the notifier only; v5.8+: out_unregister drops every region (the other FDs'
    // too, ≤ v5.14) and the notifier; v6.0+: a failed async region returns at once.
    if (p.drv.f.regions === 'io+async+schib+crw' && !(p.drv.f.dma_unmap === 'callback-range' && failed === 0)) unregister_regions(p);
    notifier_register(p, -1);
    return -ENOMEM;
  }
  if (!p.drv.f.open_close_fsm_events) return 0;
  // v6.0+ and F: the FSM opens the subchannel; a dead device cannot be opened.
  if (p.v.state.get(F) === R.NOT_OPER) {
    unregister_regions(p);
    notifier_register(p, -1);
    return -EINVAL;
  }
  vfio_ccw_fsm_event(p, p.drv.E.OPEN);
  if (p.v.state.get(F) === R.NOT_OPER) {
    unregister_regions(p);
    notifier_register(p, -1);
    return -EINVAL;
  }
  return 0;
}

/** close_device (last FD, v5.15+) or release (every FD, <= v5.14). */
export function vfio_ccw_mdev_close_device(p: VfioCcwPrivate): void {
  const F = 'vfio_ccw_mdev_close_device';
  const S = p.drv.S;
  if (p.drv.f.open_close_fsm_events) {
    vfio_ccw_fsm_event(p, p.drv.E.CLOSE);
    // The current tree drains the work items in case the device is opened again (notoper_work,
    // flushed here too, is not modelled: see the mainline variant).
    if (p.drv.f.close_cancels_work) cancel_work_items(p, F);
    unregister_regions(p);
  } else if (p.drv.f.release_frees_cp) {
    // v5.2+ (M-B4): reset, free the cp, drop the regions. B leaves the cp and its pins as they are.
    const st = p.v.state.get(F);
    if (st !== S.NOT_OPER && st !== S.STANDBY && vfio_ccw_mdev_reset(p) === 0) p.v.state.set(S.STANDBY, F);
    cp_free(p.cp);
    unregister_regions(p);
  }
  notifier_register(p, -1);
}

/** The vfio core's open: serialised by the device-set lock; first open runs open_device (v5.15+). */
export function vfio_device_open(p: VfioCcwPrivate): number {
  const F = 'vfio_device_open';
  mutex_lock(p.v.open_lock, F);
  const n = p.v.open_count.get(F);
  let ret = 0;
  if (p.v.mdev.get(F) === 0) ret = -ENODEV;
  else if (n === 0 || p.drv.f.per_fd_open) ret = vfio_ccw_mdev_open_device(p);
  if (ret === 0) p.v.open_count.set(n + 1, F);
  mutex_unlock(p.v.open_lock, F);
  // the open FD holds the device until it is released (what unregistering waits for)
  if (ret === 0) vfio_device_fd_get(p.core);
  return ret;
}

export function vfio_device_release(p: VfioCcwPrivate): void {
  const F = 'vfio_device_release';
  mutex_lock(p.v.open_lock, F);
  const n = p.v.open_count.get(F);
  if (n <= 0) {
    mutex_unlock(p.v.open_lock, F);
    WARN(Warn.driver, p.v.open_count.id, 'vfio_device_release without an open FD');
    return;
  }
  if (n === 1 || p.drv.f.per_fd_open) vfio_ccw_mdev_close_device(p);
  p.v.open_count.set(n - 1, F);
  mutex_unlock(p.v.open_lock, F);
  vfio_device_fd_put(p.core, F);
}

/** DMA unmap of guest memory overlapping pinned channel-program pages. */
export function vfio_ccw_dma_unmap(p: VfioCcwPrivate, iova: number, length: number): number {
  if (p.drv.f.dma_unmap === 'callback-range') {
    if (cp_iova_pinned(p.cp, iova, length)) vfio_ccw_mdev_reset(p);
    return 0;
  }
  // IOMMU notifier: exact iova match; a failed reset is NOTIFY_BAD.
  if (!cp_iova_pinned(p.cp, iova, length)) return 0;
  if (vfio_ccw_mdev_reset(p) !== 0) return -EBUSY;
  cp_free(p.cp);
  return 0;
}

/** The vfio core's request callback while unregistering an open device. */
export function vfio_ccw_mdev_request(p: VfioCcwPrivate, _count: number): void {
  // The kernel only logs on every 10th call (count % 10 == 0); it signals every time.
  const F = 'vfio_ccw_mdev_request';
  if (p.drv.f.irqs < 3) return;
  signal_trigger(p, p.v.req_trigger, F);
}

// ---- mdev probe / remove, and the vfio_device's references ----

/** mdev create / probe (vfio_ccw_mdev_probe, vfio_ccw_ops.c). */
export function vfio_ccw_mdev_probe(p: VfioCcwPrivate): number {
  const F = 'vfio_ccw_mdev_probe';
  const f = p.drv.f;
  // Before the css probe registers the parent there is no "create" attribute to write. The
  // kernel's probe reads no such word (the attribute's existence is the mdev core's and sysfs's,
  // create_store checked it under parent_lock): the model's bookkeeping, read unhooked.
  if (peek(p.v.parent_registered) === 0) return -ENODEV;
  if (f.parent_split) {
    // v6.2+: a fresh private per mdev (vfio_alloc_device + .init), state STANDBY.
    kref_init(private_ref(p));
    kmem_alloc(private_memory(p), 'vfio_alloc_device');
    vfio_ccw_private_init(p, p.drv.S.STANDBY);
    atomic_set(p.v.vdev_refs, 1, F);
    vfio_device_registered(p.core);
    p.v.mdev.set(1, F);
    return 0;
  }
  if (f.mdev_probe_checks_notoper && p.v.state.get(F) === p.drv.R.NOT_OPER) return -ENODEV;
  if (f.avail_accounting && atomic_dec_if_positive(p.v.avail, F) < 0) return -EPERM;
  if (f.release_completion) init_completion(p.v.release_comp); // v6.1's .init op
  atomic_set(p.v.vdev_refs, 1, F);
  vfio_device_registered(p.core);
  p.v.mdev.set(1, F);
  if (!f.mdev_create_sets_idle) return 0;
  // A moves every state change into the FSM: ONLINE (fsm_online enables, IDLE) [inferred].
  if (fsm_returns_state(f)) vfio_ccw_fsm_event(p, p.drv.E.ONLINE);
  else p.v.state.set(p.drv.S.IDLE, F);
  return 0;
}

/**
 * mdev remove (vfio_ccw_mdev_remove, vfio_ccw_ops.c). The vfio core has already waited for every FD to close (unregister).
 * B resets, C … D quiesce (and free the cp), A goes offline; F and E leave it to close_device.
 * v6.1 then waits until every other reference to the vfio_device is gone (release_comp).
 */
export function vfio_ccw_mdev_remove(p: VfioCcwPrivate): void {
  const F = SITES.vfio_ccw_mdev_remove;
  const f = p.drv.f;
  const S = p.drv.S;
  // Only the v4.12 … v5.19 remove tests private->state (twice, as the C's two comparisons do);
  // v6.0's and later's, and A's, never read it here.
  const active = (): boolean => p.v.state.get(F) !== S.NOT_OPER && p.v.state.get(F) !== S.STANDBY;
  if (f.mdev_remove === 'offline-event') vfio_ccw_fsm_offline_wait(p);
  else if (f.mdev_remove === 'reset' && active() && vfio_ccw_mdev_reset(p) === 0) p.v.state.set(S.STANDBY, F);
  else if (f.mdev_remove === 'quiesce+cp_free') {
    if (active() && vfio_ccw_sch_quiesce(p) === 0) p.v.state.set(S.STANDBY, F);
    cp_free(p.cp);
  }
  // private->mdev = NULL, or (v6.2+) the parent's drvdata cleared without sch->lock.
  p.v.mdev.set(0, F);
  if (f.avail_accounting) atomic_inc(p.v.avail, F);
  vfio_put_device(p);
  if (f.release_completion) wait_for_completion(p.v.release_comp, F);
}

/** Another holder of the vfio_device (a sysfs reader, the vfio core's open path): get_device. */
export function vfio_device_get(p: VfioCcwPrivate): void {
  atomic_inc(p.v.vdev_refs, 'vfio_device_get');
}

/** vfio_put_device: the last reference runs the driver's .release (v6.1: complete release_comp). */
export function vfio_put_device(p: VfioCcwPrivate): void {
  const F = 'vfio_put_device';
  if (atomic_dec_return(p.v.vdev_refs, F) !== 0) return;
  // v6.1 .release: memset the embedded vdev (its references are already 0), complete release_comp.
  // v6.2's frees the buffers and the core frees private: the parent no longer points at it.
  if (p.drv.f.release_completion) complete(p.v.release_comp, F);
  if (p.drv.f.parent_split) vfio_ccw_mdev_release_dev(p);
}

/** The private of one mdev as an object with a lifetime (v6.2+; before, it lives as long as the subchannel). */
export const private_ref = (p: VfioCcwPrivate): Kref => p.v.life.sub(0, Kref);

/**
 * Fields of the port's private that v6.2's struct vfio_ccw_private does not hold: the parent's
 * (registration, drvdata, avail), the CRW entries (each its own kzalloc, crw.ts), the driver's one
 * s390dbf log, the model's counters and lifetime word. kfree(private) leaves them alone.
 */
const NOT_IN_PRIVATE = new Set([
  'life', 'parent_registered', 'mdev', 'avail', 'crw_next', 'crw_val', 'crw_life', 'crw_slab', 'dbf_lock', 'log_count', 'log',
  'irqs', 'irbs_to_region', 'io_signals', 'quiesce_halts', 'quiesce_clears', 'quiesce_cancels',
]);
/** The embedded struct channel_program's own fields; the chains are kmalloc'ed apart (cp.ts). */
const CP_IN_PRIVATE = ['initialized', 'list_valid', 'nchains', 'orb'] as const;

/** The object ids kfree(private) ends and vfio_alloc_device hands out again (v6.2+). */
export function private_memory(p: VfioCcwPrivate): MemRange[] {
  const out: MemRange[] = [];
  const base = p.v.state.id; // the first field
  for (const f of PrivateLayout.list) {
    if (NOT_IN_PRIVATE.has(f.name) || f.name.startsWith('o_')) continue;
    const last = out[out.length - 1];
    if (last !== undefined && last.hi === base + f.off) out[out.length - 1] = { lo: last.lo, hi: base + f.off + f.words };
    else out.push({ lo: base + f.off, hi: base + f.off + f.words });
  }
  for (const name of CP_IN_PRIVATE) {
    const f = p.cp.v[name];
    out.push({ lo: f.id, hi: f.id + ChannelProgram.fields[name].words });
  }
  return out;
}

/** cancel_work_sync(&private->io_work); cancel_work_sync(&private->crw_work) (the current tree). */
function cancel_work_items(p: VfioCcwPrivate, site: string): void {
  cancel_work_sync(p.wq, p.v.io_work, site);
  cancel_work_sync(p.wq, p.v.crw_work, site);
}

/**
 * v6.2+ .release (v6.2 vfio_ccw_ops.c): free the CRWs and regions, and the vfio core kfree()s
 * private. No work item is cancelled: an io_work or an interrupt that still holds the pointer
 * runs on freed memory (src/detect/lifetime.ts sees its accesses). The current tree
 * (@ 16b0798024c0) cancels io_work and crw_work first and empties the list under crw_lock.
 */
function vfio_ccw_mdev_release_dev(p: VfioCcwPrivate): void {
  const F = 'vfio_ccw_mdev_release_dev';
  if (p.drv.f.close_cancels_work) cancel_work_items(p, F);
  if (p.drv.f.crw_lock) {
    const flags = spin_lock_irqsave(p.v.crw_lock, F);
    crw_free_all(p, F);
    spin_unlock_irqrestore(p.v.crw_lock, flags, F);
  } else crw_free_all(p, F);
  const ref = private_ref(p);
  kmem_free(private_memory(p), F);
  obj_free({ ref, what: 'vfio_ccw_private' }, kref_gen(ref), F);
}

/** Fresh private state (kzalloc + the .init op): main at set-up, mdev probe in v6.2+. */
export function vfio_ccw_private_init(p: VfioCcwPrivate, state: number): void {
  const F = SITES.vfio_ccw_private_init;
  p.v.state.set(state, F);
  for (const f of [p.v.completion, p.v.num_regions, p.v.region_sets, p.v.crw_first, p.v.crw_last, p.v.io_trigger, p.v.crw_trigger, p.v.req_trigger, p.v.open_count, p.v.notifier_registered]) f.set(0, F);
  p.v.io_region.fill(0, F);
  p.v.cmd_region.fill(0, F);
}
