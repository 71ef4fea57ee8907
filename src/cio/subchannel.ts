// drivers/s390/cio/css.h: struct subchannel (laid out in shared memory), struct css_driver and
// the subchannel todo; the per-thread handle bundles the kernel struct with its machine state.
import { atomic, bind, bytes, defineStruct, i32, mutex, peek, spinlock, work, type LayoutView, type SharedBuf, type WorkqueueStruct } from '../kernel/index.ts';
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

/**
 * The rest of struct subchannel that the css layer's todo uses (css.h; css_alloc_subchannel in
 * css.c). Laid out after the device's other structs so that no object id before it moves.
 */
export const SubchannelDev = defineStruct('subchannel_dev', {
  todo_work: work('sch->todo_work: css_sch_todo on cio_work_q'),
  dev_ref: atomic('sch->dev\'s kobject refcount: get_device/put_device (refcount_t: no hook event)'),
  reg_mutex: mutex('sch->reg_mutex: serialises device register/unregister'),
  driver: atomic('sch->driver != NULL: css_probe sets it, css_remove clears it (read unhooked)'),
  // appended (issue 14, device back): nothing before them moves
  on_bus: atomic("on the css bus's klist (bus_add_device … bus_remove_device, before the driver's remove): get_subchannel_by_schid finds it; klist_devices' lock is not modelled, so unhooked"),
  slow_eval: i32("this schid's bit in css.c's slow_subchannel_set (slow_subchannel_lock)"),
  o_private_inits: atomic('invariants (observer): private initialisations seen in any thread, so a thread\'s memory of the old private\'s state is dropped (I8)'),
  parent_lock: mutex("mdev_core.c's parent_list_lock, held while mdev_register_device makes the type's create attribute; create_store finds the attribute under it"),
});

export type SubchannelDevView = LayoutView<typeof SubchannelDev>;

/** enum sch_todo (the kernel's EVAL step is not modelled: nothing in vfio-ccw schedules it). */
export const SCH_TODO_NOTHING = 0;
export const SCH_TODO_UNREG = 1;

/** struct subchannel *, per thread: the kernel struct's views and the machine state under it. */
export class Subch {
  constructor(
    readonly v: SubchannelView,
    readonly hw: Hw,
    /** device index */
    readonly dev: number,
    /** todo_work, the device refcount, reg_mutex, sch->driver */
    readonly d: SubchannelDevView,
    /** cio_work_q, the css layer's ordered workqueue (a global in css.c); null in a bare machine test */
    readonly cio_wq: WorkqueueStruct | null,
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

export function bind_subchannel(buf: SharedBuf, schBase: number, hwBase: number, devIndex: number, css: HwCssView, devBase: number, cio_wq: WorkqueueStruct | null): Subch {
  return new Subch(bind(Subchannel, buf, schBase), bind_hw_subchannel(buf, hwBase, css, devIndex), devIndex, bind(SubchannelDev, buf, devBase), cio_wq);
}

/** struct css_driver: the callbacks vfio-ccw registers (sch->driver). */
export interface CssDriver {
  /** IRQ context, sch->lock held by do_cio_interrupt */
  irq(sch: Subch): void;
  /** process context; takes sch->lock itself. -EAGAIN: call again later */
  sch_event(sch: Subch, process: number): number;
  /** process context, sch->lock held by the caller (chsc) */
  chp_event(sch: Subch, link: ChpLink, event: number): number;
  /** css_remove, from device_del (process context, no lock; the css worker's unregistration) */
  remove?(sch: Subch): void;
  /** css_probe, from device_add (process context, sch->reg_mutex held; the css worker's slow path) */
  probe?(sch: Subch): number;
}

let driver: CssDriver | null = null;

/** css_driver_register, per thread: the threads that deliver css callbacks register it. */
export function css_register_driver(drv: CssDriver): void {
  driver = drv;
}

export function css_unregister_driver(): void {
  driver = null;
}

/**
 * sch->driver: this thread's registered driver, while the subchannel is bound to it (css_remove
 * clears sch->driver; the word is read unhooked, as the callers' test is not a driver access).
 */
export function css_driver(sch?: Subch): CssDriver | null {
  if (sch !== undefined && peek(sch.d.driver) === 0) return null;
  return driver;
}
