// drivers/vfio/vfio_iommu_type1.c: the unmap side of VFIO_IOMMU_UNMAP_DMA for a device with
// pinned pages (v5.19 and v6.0 read). Type1 tells the driver (the IOMMU notifier up to v5.19,
// .dma_unmap from v6.0) and expects it to unpin every page it holds in the range; with pages
// still pinned it notifies again and finally BUG_ON(++retries > 10). The model notifies once and
// then checks I14: no pinned page may be left in the range.
import { WARN, Warn, peek } from '../kernel/index.ts';
import { vfio_ccw_dma_unmap } from '../driver/ops.ts';
import type { VfioCcwPrivate } from '../driver/private.ts';
import { GUEST_PAGES, PAGE_SHIFT, type GuestMemoryView } from './guest.ts';

/** Pages in [iova, iova + length) that still hold a pin. */
export function pinned_in_range(gm: GuestMemoryView, iova: number, length: number): number[] {
  const pc = gm.pin_count;
  const out: number[] = [];
  const first = Math.max(0, iova >> PAGE_SHIFT);
  const last = Math.min(GUEST_PAGES - 1, (iova + length - 1) >> PAGE_SHIFT);
  for (let page = first; page <= last; page++) if (peek(pc.at(page)) > 0) out.push(page << PAGE_SHIFT);
  return out;
}

/** The user unmaps [iova, iova + length): the driver is told, then the range must be free of pins. */
export function vfio_dma_do_unmap(p: VfioCcwPrivate, gm: GuestMemoryView, iova: number, length: number): number {
  const ret = vfio_ccw_dma_unmap(p, iova, length);
  const left = pinned_in_range(gm, iova, length);
  if (left.length > 0) {
    const where = left.map((a) => `0x${a.toString(16)}`).join(', ');
    WARN(Warn.invariant, gm.pin_count.id + (left[0]! >> PAGE_SHIFT), `I14: the unmap of [0x${iova.toString(16)}, +0x${length.toString(16)}) returned with page(s) ${where} still pinned (dev${p.dev}, ${p.drv.name})`);
  }
  return ret;
}
