// Driver entry points as coverage sees them: the file operations a user calls (by region and
// ioctl), the interrupt, the work items, the css callbacks. A user-side entry is a pair of
// H.mark events around the call; with no hook consumer it costs one compare.
import { H, current, hook } from '../kernel/index.ts';
import { VFIO_CCW_OFFSET_TO_INDEX } from '../uapi/vfio_ccw.ts';

export const ENTRIES = [
  'read:io', 'read:async', 'read:schib', 'read:crw', 'read:other',
  'write:io', 'write:async', 'write:schib', 'write:crw', 'write:other',
  'ioctl:GET_INFO', 'ioctl:GET_REGION_INFO', 'ioctl:GET_IRQ_INFO', 'ioctl:SET_IRQS', 'ioctl:RESET', 'ioctl:other',
  'open', 'release', 'dma_unmap',
  'sch_irq', 'io_todo', 'crw_todo', 'sch_event', 'chp_event',
] as const;
export type EntryName = (typeof ENTRIES)[number];
export const ENTRY: Readonly<Record<EntryName, number>> = Object.fromEntries(ENTRIES.map((e, i) => [e, i])) as Record<EntryName, number>;

/** The hook site of entry marks: arg = id << 12 | (1 enter, 2 exit) << 10 | errno (exit, 0 = not negative). */
export const ENTRY_SITE = 'driver_entry';
export const ENTRY_OBJ = 0;

export function region_entry(rw: 'read' | 'write', ppos: number, offset_shift: boolean): number {
  if (!offset_shift) return ENTRY[`${rw}:io`];
  const i = VFIO_CCW_OFFSET_TO_INDEX(ppos);
  const name = i <= 3 ? (['io', 'async', 'schib', 'crw'] as const)[i]! : 'other';
  return ENTRY[`${rw}:${name}`];
}

export function ioctl_entry(cmd: number): number {
  const k = cmd - 0x3b6b;
  return k >= 0 && k <= 4 ? ENTRY[(['ioctl:GET_INFO', 'ioctl:GET_REGION_INFO', 'ioctl:GET_IRQ_INFO', 'ioctl:SET_IRQS', 'ioctl:RESET'] as const)[k]!] : ENTRY['ioctl:other'];
}

/** Run `fn` as entry `id`, marking its start and its answer for the coverage consumer. */
export function entry<T>(id: number, fn: () => T): T {
  if (hook === null) return fn();
  hook(H.mark, ENTRY_OBJ, ENTRY_SITE, current.id, (id << 12) | (1 << 10));
  let rc = 0;
  try {
    const r = fn();
    if (typeof r === 'number' && r < 0) rc = Math.min(-r, 1023);
    return r;
  } finally {
    if (hook !== null) hook(H.mark, ENTRY_OBJ, ENTRY_SITE, current.id, (id << 12) | (2 << 10) | rc);
  }
}
