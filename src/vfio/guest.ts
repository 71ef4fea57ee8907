// drivers/vfio/vfio_main.c + vfio_iommu_type1.c: vfio_dma_rw, vfio_pin_pages and vfio_unpin_pages
// for an emulated-IOMMU device, over a small guest memory in shared memory. Each may sleep, as
// type1 takes its mutex once the arguments pass the core's checks: a caller under a spinlock is
// a "sleeping function called from invalid context".
import {
  READ_ONCE,
  WARN,
  Warn,
  atomic,
  atomic_add_return,
  atomic_dec_if_positive,
  atomic_inc,
  bind,
  bytes,
  defineStruct,
  i32,
  might_sleep,
  mutex,
  should_fail,
  type SharedBuf,
  type StructView,
  words,
} from '../kernel/index.ts';
import { EFAULT, EINVAL } from '../uapi/errno.ts';

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
export const GUEST_MEM_SIZE = 64 * 1024;
export const GUEST_PAGES = GUEST_MEM_SIZE / PAGE_SIZE;

const spec = {
  iommu_lock: mutex(
    'type1\'s iommu->lock (vfio_iommu_type1.c, v6.3): pin, unpin and dma_rw take it, so each may sleep. Only that is modelled: nothing else maps this guest memory',
  ),
  pages_pinned_total: atomic('pages ever pinned (I21)'),
  pages_unpinned_total: atomic('pages ever unpinned (I21: never above pages_pinned_total)'),
  fault_start: i32('fault injection: a DMA read touching [fault_start, fault_start + fault_len) fails with -EFAULT'),
  fault_len: i32('0 = no read fault'),
  pin_fail_iova: i32('fault injection: pinning the page that holds this iova fails with -EFAULT; 0 = off (iova 0 is never a data page)'),
  pin_count: words(GUEST_MEM_SIZE / 4096, 'per page: pins not yet unpinned (type1 keeps a ref_count per pinned page); I21 fires on an unpin that finds none'),
  mem: bytes(GUEST_MEM_SIZE, 'guest memory: iova i is mem[i] (identity-mapped, all of it DMA-mapped)'),
};

export const GuestMemory = defineStruct('guest', spec);
export type GuestMemoryView = StructView<typeof spec>;

export function bind_guest(buf: SharedBuf, base: number): GuestMemoryView {
  return bind(GuestMemory, buf, base);
}

const in_range = (iova: number, len: number): boolean => Number.isInteger(iova) && Number.isInteger(len) && iova >= 0 && len >= 0 && iova + len <= GUEST_MEM_SIZE;

/**
 * Copy `len` bytes of guest memory at `iova` (the read direction of vfio_dma_rw).
 * -EINVAL when the range is not mapped (type1 finds no vfio_dma), -EFAULT on an injected fault.
 */
export function vfio_dma_rw(gm: GuestMemoryView, iova: number, len: number, site: string): Uint8Array | number {
  // vfio_iommu_type1_dma_rw: mutex_lock(&iommu->lock) before it looks the range up (the core
  // refuses len <= 0 first; the port's empty read is left as it was)
  if (len > 0) might_sleep(gm.iommu_lock.id, site);
  if (!in_range(iova, len)) return -EINVAL;
  const flen = READ_ONCE(gm.fault_len, site);
  if (flen > 0) {
    const fstart = READ_ONCE(gm.fault_start, site);
    if (iova < fstart + flen && fstart < iova + len) return -EFAULT;
  }
  return gm.mem.read(iova, len, site);
}

/**
 * Pin `npage` contiguous pages from the page-aligned `iova`: all of them or none.
 * Returns npage, or -EINVAL (unaligned, empty, unmapped), or -EFAULT (injected).
 */
export function vfio_pin_pages(gm: GuestMemoryView, iova: number, npage: number, site: string): number {
  if (iova % PAGE_SIZE !== 0 || !Number.isInteger(npage) || npage <= 0) return -EINVAL;
  // vfio_iommu_type1_pin_pages: mutex_lock(&iommu->lock), then the vfio_dma lookup
  might_sleep(gm.iommu_lock.id, site);
  if (!in_range(iova, npage * PAGE_SIZE)) return -EINVAL;
  if (should_fail('pin')) return -EFAULT;
  const bad = READ_ONCE(gm.pin_fail_iova, site);
  if (bad !== 0 && bad >= iova && bad < iova + npage * PAGE_SIZE) return -EFAULT;
  atomic_add_return(npage, gm.pages_pinned_total, site);
  for (let k = 0; k < npage; k++) atomic_inc(gm.pin_count.atomic((iova >> PAGE_SHIFT) + k), site);
  return npage;
}

/**
 * Unpin `npage` pages from `iova`. The kernel trusts its caller here (type1 quietly ignores a
 * page it holds no pin for); the detector does not: an unpin that finds no pin left is I21, named
 * where it happens. The totals keep the run's accounting.
 */
export function vfio_unpin_pages(gm: GuestMemoryView, iova: number, npage: number, site: string): void {
  if (npage <= 0) return;
  // vfio_iommu_type1_unpin_pages: mutex_lock(&iommu->lock)
  might_sleep(gm.iommu_lock.id, site);
  atomic_add_return(npage, gm.pages_unpinned_total, site);
  const pc = gm.pin_count;
  for (let k = 0; k < npage; k++) {
    const page = (iova >> PAGE_SHIFT) + k;
    if (page < 0 || page >= GUEST_PAGES) continue;
    if (atomic_dec_if_positive(pc.atomic(page), site) < 0) {
      WARN(Warn.invariant, pc.id + page, `I21: the page at iova 0x${(page << PAGE_SHIFT).toString(16)} is unpinned at ${site} with no pin left (unpinned twice, or never pinned)`);
    }
  }
}

// User side (QEMU / the guest): lay out CCW chains, IDALs and data; read results back.

export function guest_write(gm: GuestMemoryView, iova: number, data: Uint8Array, site = 'guest'): void {
  if (!in_range(iova, data.length)) throw new RangeError(`guest_write: [${iova}, +${data.length}) outside guest memory`);
  gm.mem.write(iova, data, site);
}

export function guest_read(gm: GuestMemoryView, iova: number, len: number, site = 'guest'): Uint8Array {
  if (!in_range(iova, len)) throw new RangeError(`guest_read: [${iova}, +${len}) outside guest memory`);
  return gm.mem.read(iova, len, site);
}
