// include/uapi/linux/vfio.h: the ioctl argument structs vfio-ccw uses,
// big-endian as on s390. make_* builds what a user passes to the ioctl; read_* decodes it.
import {
  CAP_TYPE_SIZE,
  DEVICE_INFO_MINSZ,
  IRQ_INFO_MINSZ,
  IRQ_SET_MINSZ,
  REGION_INFO_MINSZ,
  VFIO_IRQ_SET_ACTION_TRIGGER,
  VFIO_IRQ_SET_DATA_EVENTFD,
  VFIO_REGION_INFO_CAP_TYPE,
} from './vfio_ccw.ts';

const dv = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);
/** A buffer of at least `min` bytes (the user's buffer may be larger than argsz says, never smaller than the struct) */
const buf = (argsz: number, min: number): Uint8Array => new Uint8Array(Math.max(argsz, min));

// struct vfio_device_info
export interface VfioDeviceInfo {
  argsz: number;
  flags: number;
  num_regions: number;
  num_irqs: number;
}

export function make_device_info(f: Partial<VfioDeviceInfo> = {}): Uint8Array {
  const argsz = f.argsz ?? DEVICE_INFO_MINSZ;
  const b = buf(argsz, DEVICE_INFO_MINSZ);
  const d = dv(b);
  d.setUint32(0, argsz >>> 0);
  d.setUint32(4, (f.flags ?? 0) >>> 0);
  d.setUint32(8, (f.num_regions ?? 0) >>> 0);
  d.setUint32(12, (f.num_irqs ?? 0) >>> 0);
  return b;
}

export function read_device_info(b: Uint8Array): VfioDeviceInfo {
  const d = dv(b);
  return { argsz: d.getUint32(0), flags: d.getUint32(4), num_regions: d.getUint32(8), num_irqs: d.getUint32(12) };
}

// struct vfio_region_info; capabilities follow at cap_offset (from the start of the struct)
export interface VfioRegionInfo {
  argsz: number;
  flags: number;
  index: number;
  cap_offset: number;
  size: number;
  offset: number;
}

export function make_region_info(f: Partial<VfioRegionInfo> & { index: number }): Uint8Array {
  const argsz = f.argsz ?? REGION_INFO_MINSZ;
  const b = buf(argsz, REGION_INFO_MINSZ);
  const d = dv(b);
  d.setUint32(0, argsz >>> 0);
  d.setUint32(4, (f.flags ?? 0) >>> 0);
  d.setUint32(8, f.index >>> 0);
  d.setUint32(12, (f.cap_offset ?? 0) >>> 0);
  d.setBigUint64(16, BigInt(f.size ?? 0));
  d.setBigUint64(24, BigInt(f.offset ?? 0));
  return b;
}

export function read_region_info(b: Uint8Array): VfioRegionInfo {
  const d = dv(b);
  return {
    argsz: d.getUint32(0),
    flags: d.getUint32(4),
    index: d.getUint32(8),
    cap_offset: d.getUint32(12),
    size: Number(d.getBigUint64(16)),
    offset: Number(d.getBigUint64(24)),
  };
}

// struct vfio_info_cap_header
export interface VfioInfoCapHeader {
  id: number;
  version: number;
  next: number;
}

export function read_cap_header(b: Uint8Array, off: number): VfioInfoCapHeader {
  const d = dv(b);
  return { id: d.getUint16(off), version: d.getUint16(off + 2), next: d.getUint32(off + 4) };
}

// struct vfio_region_info_cap_type
export interface VfioRegionInfoCapType {
  header: VfioInfoCapHeader;
  type: number;
  subtype: number;
}

export function make_cap_type(type: number, subtype: number, next = 0): Uint8Array {
  const b = new Uint8Array(CAP_TYPE_SIZE);
  const d = dv(b);
  d.setUint16(0, VFIO_REGION_INFO_CAP_TYPE);
  d.setUint16(2, 1);
  d.setUint32(4, next >>> 0);
  d.setUint32(8, type >>> 0);
  d.setUint32(12, subtype >>> 0);
  return b;
}

export function read_cap_type(b: Uint8Array, off: number): VfioRegionInfoCapType {
  const d = dv(b);
  return { header: read_cap_header(b, off), type: d.getUint32(off + 8), subtype: d.getUint32(off + 12) };
}

/** Walk the capability chain of a region-info buffer; stops at next = 0, a bad offset, or a loop. */
export function read_region_caps(b: Uint8Array): VfioRegionInfoCapType[] {
  const out: VfioRegionInfoCapType[] = [];
  const seen = new Set<number>();
  for (let off = read_region_info(b).cap_offset; off !== 0 && off + CAP_TYPE_SIZE <= b.length && !seen.has(off); ) {
    seen.add(off);
    const c = read_cap_type(b, off);
    if (c.header.id === VFIO_REGION_INFO_CAP_TYPE) out.push(c);
    off = c.header.next;
  }
  return out;
}

// struct vfio_irq_info
export interface VfioIrqInfo {
  argsz: number;
  flags: number;
  index: number;
  count: number;
}

export function make_irq_info(f: Partial<VfioIrqInfo> & { index: number }): Uint8Array {
  const argsz = f.argsz ?? IRQ_INFO_MINSZ;
  const b = buf(argsz, IRQ_INFO_MINSZ);
  const d = dv(b);
  d.setUint32(0, argsz >>> 0);
  d.setUint32(4, (f.flags ?? 0) >>> 0);
  d.setUint32(8, f.index >>> 0);
  d.setUint32(12, (f.count ?? 0) >>> 0);
  return b;
}

export function read_irq_info(b: Uint8Array): VfioIrqInfo {
  const d = dv(b);
  return { argsz: d.getUint32(0), flags: d.getUint32(4), index: d.getUint32(8), count: d.getUint32(12) };
}

// struct vfio_irq_set; data[] follows at 20 (DATA_EVENTFD: s32 fds, DATA_BOOL: u8 each)
export interface VfioIrqSet {
  argsz: number;
  flags: number;
  index: number;
  start: number;
  count: number;
  data: Uint8Array;
}

export function make_irq_set(f: Partial<VfioIrqSet> & { flags: number; index: number }): Uint8Array {
  const data = f.data ?? new Uint8Array(0);
  const argsz = f.argsz ?? IRQ_SET_MINSZ + data.length;
  const b = buf(argsz, IRQ_SET_MINSZ + data.length);
  const d = dv(b);
  d.setUint32(0, argsz >>> 0);
  d.setUint32(4, f.flags >>> 0);
  d.setUint32(8, f.index >>> 0);
  d.setUint32(12, (f.start ?? 0) >>> 0);
  d.setUint32(16, (f.count ?? 0) >>> 0);
  b.set(data, IRQ_SET_MINSZ);
  return b;
}

/** data is everything after the header up to argsz (or the buffer's end) */
export function read_irq_set(b: Uint8Array): VfioIrqSet {
  const d = dv(b);
  const argsz = d.getUint32(0);
  const end = Math.min(Math.max(argsz, IRQ_SET_MINSZ), b.length);
  return { argsz, flags: d.getUint32(4), index: d.getUint32(8), start: d.getUint32(12), count: d.getUint32(16), data: b.slice(IRQ_SET_MINSZ, end) };
}

/** SET_IRQS DATA_EVENTFD|ACTION_TRIGGER with one fd; fd -1 tears the trigger down. */
export function make_irq_set_eventfd(index: number, fd: number): Uint8Array {
  const data = new Uint8Array(4);
  dv(data).setInt32(0, fd | 0);
  return make_irq_set({ flags: VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, index, start: 0, count: 1, data });
}

/** The s32 fds of a DATA_EVENTFD set. */
export function read_irq_set_fds(s: VfioIrqSet): number[] {
  const d = dv(s.data);
  const out: number[] = [];
  for (let i = 0; i + 4 <= s.data.length && i / 4 < s.count; i += 4) out.push(d.getInt32(i));
  return out;
}
