// drivers/s390/cio/css.h: struct subchannel (laid out in shared memory), struct css_driver and
// the subchannel todo; the per-thread handle bundles the kernel struct with its machine state.
import { bind, bytes, defineStruct, i32, spinlock, type LayoutView, type SharedBuf } from '../kernel/index.ts';
import { bind_hw_subchannel, type Hw, type HwCssView } from '../hw/layout.ts';
import { IRB_SIZE, PMCW_ENA, PMCW_FLAGS, PMCW_LPUM, SCHIB_SCSW, SCHIB_SIZE } from '../hw/schib.ts';
import type { ChpLink } from './chp.ts';

export const Subchannel = defineStruct('subchannel', {
  lock: spinlock('sch->lock: schib, enable/disable, ssch/hsch/csch issue, lpm'),
  schid: i32('subchannel number; also the ssch intparm ("the address of sch")'),
  isc: i32('interruption subclass for the next enable (sch->lock)'),
  lpm: i32('logical path mask (sch->lock)'),
  opm: i32('operational path mask (sch->lock)'),
  todo: i32('css_sched_sch_todo (sch->lock)'),
  registered: i32('device_is_registered(&sch->dev)'),
  schib: bytes(SCHIB_SIZE, 'sch->schib, the shadow of the last stsch/tsch (sch->lock); the SCSW at 28'),
  irb: bytes(IRB_SIZE, 'cio_irb: the per-CPU IRB of the CPU that takes this subchannel\'s interrupts'),
});

export type SubchannelView = LayoutView<typeof Subchannel>;

/** enum sch_todo (the kernel's EVAL step is not modelled). */
export const SCH_TODO_NOTHING = 0;
export const SCH_TODO_UNREG = 1;

/** struct subchannel *, per thread: the kernel struct's views and the machine state under it. */
export class Subch {
  constructor(
    readonly v: SubchannelView,
    readonly hw: Hw,
    /** device index */
    readonly dev: number,
  ) {}

  /** sch->schib.pmcw.lpum (the shadow) */
  lpum(site = 'sch->schib.pmcw.lpum'): number {
    return this.v.schib.get_u8(PMCW_LPUM, site);
  }

  /** sch->schib.pmcw.ena: what the host last stored, as the kernel tests it (not the machine's word) */
  hw_enabled(site = 'sch->schib.pmcw.ena'): boolean {
    // the flags halfword is the high half of the word at PMCW_FLAGS
    return ((this.v.schib.get_u32(PMCW_FLAGS, site) >>> 16) & PMCW_ENA) !== 0;
  }

  /** word 0 of sch->schib.scsw */
  scsw_w0(site: string): number {
    return this.v.schib.get_u32(SCHIB_SCSW, site) | 0;
  }
}

export function bind_subchannel(buf: SharedBuf, schBase: number, hwBase: number, devIndex: number, css: HwCssView): Subch {
  return new Subch(bind(Subchannel, buf, schBase), bind_hw_subchannel(buf, hwBase, css, devIndex), devIndex);
}

/** struct css_driver: the callbacks vfio-ccw registers (sch->driver). */
export interface CssDriver {
  /** IRQ context, sch->lock held by do_cio_interrupt */
  irq(sch: Subch): void;
  /** process context; takes sch->lock itself. -EAGAIN: call again later */
  sch_event(sch: Subch, process: number): number;
  /** process context, sch->lock held by the caller (chsc) */
  chp_event(sch: Subch, link: ChpLink, event: number): number;
}

let driver: CssDriver | null = null;

/** css_driver_register, per thread: the threads that deliver css callbacks register it. */
export function css_register_driver(drv: CssDriver): void {
  driver = drv;
}

export function css_unregister_driver(): void {
  driver = null;
}

/** sch->driver */
export function css_driver(): CssDriver | null {
  return driver;
}
