// drivers/s390/cio/css.c (and the chsc event path): subchannel set-up, the css slow path and
// path events as the machine delivers them to the css driver. It is also the one module the
// driver imports the host's common I/O layer from.
import {
  WARN, Warn, atomic, atomic_set, defineStruct, mutex_lock, mutex_unlock, peek, poke, queue_work, refcount_add_return, spin_lock_irq, spin_lock_irqsave, spin_unlock_irq, spin_unlock_irqrestore,
  spinlock, work, type LayoutView,
} from '../kernel/index.ts';
import type { HwConfig } from '../hw/config.ts';
import { hw_run, type HwHost, type HwRunResult } from '../hw/engine.ts';
import type { HwCssView } from '../hw/layout.ts';
import { PMCW_PAM, SCHIB_SIZE } from '../hw/schib.ts';
import * as hwi from '../hw/instr.ts';
import { EAGAIN, EIO, ENOMEM, ENXIO } from '../uapi/errno.ts';
import { do_cio_interrupt } from './cio.ts';
import { SCH_TODO_NOTHING, SCH_TODO_UNREG, css_driver, type Subch } from './subchannel.ts';

export * from './chp.ts';
export * from './cio.ts';
export * from './ioasm.ts';
export * from './subchannel.ts';

/**
 * Main, before the buffer reaches any worker (the machine state is already reset): the css
 * probe's view of a new subchannel. The shadow schib is stored, opm = all paths, lpm = pam & opm.
 */
export function css_init_subchannel(sch: Subch, schid: number, isc = 3): void {
  const S = 'css_init_subchannel';
  const schib = new Uint8Array(SCHIB_SIZE);
  if (hwi.stsch(sch.hw, schib) !== 0) throw new Error(`css_init_subchannel: subchannel ${schid} not operational`);
  css_fill_subchannel(sch, schid, isc, schib, S);
  sch.v.registered.set(1, S);
  poke(sch.d.on_bus, 1);
  // device_initialize's reference, which device_unregister drops
  poke(sch.d.dev_ref, 1);
}

/** What css_alloc_subchannel (cio_validate_subchannel before v5.x) stores from the schib it read. */
function css_fill_subchannel(sch: Subch, schid: number, isc: number, schib: Uint8Array, site: string): void {
  sch.v.schib.write(0, schib, site);
  sch.v.schid.set(schid, site);
  sch.v.isc.set(isc, site);
  sch.v.opm.set(0xff, site);
  sch.v.lpm.set(schib[PMCW_PAM]! & 0xff, site);
  sch.v.todo.set(0, site);
}

/** The host side of the machine for one subchannel: the I/O interrupt entry and the css callbacks. */
export function css_hw_host(sch: Subch, bus?: CssBus): HwHost {
  return {
    // the machine check handler (crw_collect_info's kthread), here the IRQ worker: css_process_crw
    ...(bus !== undefined ? { sch_crw: () => css_process_crw(bus, sch) } : {}),
    interrupt: () => do_cio_interrupt(sch),
    // css_evaluate_known_subchannel, slow path: process context, the driver takes sch->lock
    sch_event: () => css_driver(sch)?.sch_event(sch, 1) ?? 0,
    // chsc: the driver's chp_event runs with sch->lock held
    chp_event: (link, event) => {
      const drv = css_driver(sch);
      if (drv === null) return 0;
      const flags = spin_lock_irqsave(sch.v.lock, 'chsc_chp_event');
      try {
        return drv.chp_event(sch, link, event);
      } finally {
        spin_unlock_irqrestore(sch.v.lock, flags, 'chsc_chp_event');
      }
    },
  };
}

/**
 * The IRQ worker's loop: the machine's engine over these subchannels, delivering interrupts
 * through do_cio_interrupt and css events to the registered css driver. Returns on hw_stop(css).
 */
export function css_hw_run(css: HwCssView, subs: readonly Subch[], seed: number, config: Partial<HwConfig> = {}, max_ms?: number, bus?: CssBus): HwRunResult {
  return hw_run({ css, devs: subs.map((sch) => ({ hw: sch.hw, host: css_hw_host(sch, bus) })), seed, config, ...(max_ms !== undefined ? { max_ms } : {}) });
}

// ---- the subchannel todo on cio_work_q (css.c; the same code in every version the variants cover,
// read in torvalds/linux @ 0178722be9ed css.c and the later copies find_string shows) ----

/** get_device(&sch->dev): a reference on the subchannel (refcount_t: no hook event). */
export function get_device(sch: Subch, site: string): void {
  if (refcount_add_return(1, sch.d.dev_ref) <= 1) WARN(Warn.driver, sch.d.dev_ref.id, `refcount_t: addition on 0; use-after-free (get_device in ${site})`);
}

/**
 * put_device(&sch->dev). The last reference would run css_subchannel_release (kfree(sch)): the
 * subchannel's memory is the device buffer, which is not freed here.
 */
export function put_device(sch: Subch, site: string): void {
  if (refcount_add_return(-1, sch.d.dev_ref) < 0) WARN(Warn.driver, sch.d.dev_ref.id, `refcount_t: underflow; use-after-free (put_device in ${site})`);
}

/**
 * css_sched_sch_todo: schedule the todo on cio_work_q (the caller holds sch->lock). A lower todo
 * never replaces a higher one; the queued work holds a device reference, dropped again if the
 * work was already pending.
 */
export function css_sched_sch_todo(sch: Subch, todo: number, site = 'css_sched_sch_todo'): void {
  if (sch.v.todo.get(site) >= todo) return;
  const wq = sch.cio_wq;
  if (wq === null) throw new Error('css_sched_sch_todo: no cio_work_q bound to this subchannel');
  get_device(sch, site);
  sch.v.todo.set(todo, site);
  if (!queue_work(wq, sch.d.todo_work, site)) put_device(sch, site);
}

/** css_remove (the bus's remove, from device_del): the driver's remove, then sch->driver = NULL. */
function css_remove(sch: Subch): void {
  css_driver(sch)?.remove?.(sch);
  poke(sch.d.driver, 0);
}

/**
 * css_sch_device_unregister: under sch->reg_mutex, device_unregister if still registered:
 * device_del releases the driver (css_remove) and then leaves sysfs (device_is_registered turns
 * false), and put_device drops the registration's reference.
 */
export function css_sch_device_unregister(sch: Subch): void {
  const F = 'css_sch_device_unregister';
  mutex_lock(sch.d.reg_mutex, F);
  if (sch.v.registered.get(F) !== 0) {
    // bus_remove_device: off the bus's klist before the driver is released
    poke(sch.d.on_bus, 0);
    css_remove(sch);
    sch.v.registered.set(0, F);
    put_device(sch, F);
  }
  mutex_unlock(sch.d.reg_mutex, F);
}

/**
 * css_sch_todo, cio_work_q's work function: read and clear the todo under sch->lock, perform it
 * with no lock held, and drop the reference css_sched_sch_todo took.
 */
export function css_sch_todo(sch: Subch): void {
  const F = 'css_sch_todo';
  spin_lock_irq(sch.v.lock, F);
  const todo = sch.v.todo.get(F);
  sch.v.todo.set(SCH_TODO_NOTHING, F);
  spin_unlock_irq(sch.v.lock, F);
  if (todo === SCH_TODO_UNREG) css_sch_device_unregister(sch);
  put_device(sch, F);
}

// ---- a subchannel that comes (back): the CRW, the slow path on cio_work_q and css_probe_device
// (css.c read in torvalds/linux @ 0178722be9ed (v4.12 … v4.x) and the current tree's copy: the
// same steps; v5.x+ stsch once in css_evaluate_new_subchannel and hand the schib to
// css_alloc_subchannel, and slow_path_work became a delayed work queued with delay 0) ----

/** css.c's slow path state: one for the whole channel subsystem (the schids' bits are in each sch's slow_eval). */
export const CssSlowPath = defineStruct('css_slow_path', {
  lock: spinlock('slow_subchannel_lock: slow_subchannel_set, css_eval_scheduled'),
  work: work('slow_path_work: css_slow_path_func on cio_work_q'),
  scheduled: atomic('css_eval_scheduled'),
});
export type CssSlowPathView = LayoutView<typeof CssSlowPath>;

/** The css bus as the slow path walks it: its slow path state and every subchannel id the machine has. */
export interface CssBus {
  slow: CssSlowPathView;
  subs: readonly Subch[];
}

/**
 * get_subchannel_by_schid / bus_for_each_dev: is the subchannel on the css bus? The klist walk is
 * under klist_devices' lock, which the model's device_add and device_del do not take, so the
 * membership word is read unhooked (a race the kernel's lock excludes is not reported).
 */
const on_bus = (sch: Subch): boolean => peek(sch.d.on_bus) !== 0;

/** css_schedule_eval: the schid into slow_subchannel_set and slow_path_work on cio_work_q. */
export function css_schedule_eval(bus: CssBus, sch: Subch): void {
  const F = 'css_schedule_eval';
  const wq = sch.cio_wq;
  if (wq === null) throw new Error('css_schedule_eval: no cio_work_q bound to this subchannel');
  const flags = spin_lock_irqsave(bus.slow.lock, F);
  sch.d.slow_eval.set(1, F);
  atomic_set(bus.slow.scheduled, 1, F);
  queue_work(wq, bus.slow.work, F);
  spin_unlock_irqrestore(bus.slow.lock, flags, F);
}

/** css_evaluate_known_subchannel: the bound driver's sch_event (0 with no driver). */
function css_evaluate_known_subchannel(sch: Subch, slow: number): number {
  return css_driver(sch)?.sch_event(sch, slow) ?? 0;
}

/**
 * css_evaluate_subchannel: a registered subchannel goes to its driver's sch_event; an unknown one
 * is left to the slow path (css_evaluate_new_subchannel answers -EAGAIN when !slow), and -EAGAIN
 * schedules it there. get_subchannel_by_schid's reference is held across the known evaluation.
 */
function css_evaluate_subchannel(bus: CssBus, sch: Subch, slow: number): void {
  const F = 'css_evaluate_subchannel';
  let ret: number;
  if (on_bus(sch)) {
    get_device(sch, F);
    ret = css_evaluate_known_subchannel(sch, slow);
    put_device(sch, F);
  } else ret = slow ? css_evaluate_new_subchannel(bus, sch) : -EAGAIN;
  if (ret === -EAGAIN) css_schedule_eval(bus, sch);
}

/**
 * css_process_crw, for a subchannel CRW (no overflow, not ERC_PMOD): stsch decides whether the
 * subchannel came or went, through css_evaluate_subchannel(schid, 0). The machine check handler's
 * kthread; here the IRQ worker, which plays the machine.
 */
export function css_process_crw(bus: CssBus, sch: Subch): number {
  css_evaluate_subchannel(bus, sch, 0);
  return 0;
}

/**
 * css_evaluate_new_subchannel(schid, 1): stsch (cc 3: -ENXIO, the schid is not provided), then
 * css_probe_device. (v4.12 also skips an invalid schib; the machine's is always a valid I/O one.)
 */
function css_evaluate_new_subchannel(bus: CssBus, sch: Subch): number {
  const schib = new Uint8Array(SCHIB_SIZE);
  if (hwi.stsch(sch.hw, schib) !== 0) return -ENXIO;
  return css_probe_device(bus, sch, schib);
}

/**
 * css_probe_device: css_alloc_subchannel, then css_register_subchannel. The new struct subchannel
 * is the device's buffer again (the old one was released by the last put_device): kzalloc and
 * device_initialize's reference. INIT_WORK(&sch->todo_work) would store the same function and
 * argument set-up stored, and the work is not pending: not repeated.
 */
function css_probe_device(_bus: CssBus, sch: Subch, schib: Uint8Array): number {
  const F = 'css_alloc_subchannel';
  css_fill_subchannel(sch, peek(sch.v.schid), 3, schib, F);
  sch.d.slow_eval.set(0, F);
  poke(sch.d.dev_ref, 1);
  return css_register_subchannel(sch);
}

/**
 * css_register_subchannel -> css_sch_device_register: device_add under sch->reg_mutex. device_add
 * puts the device in sysfs and on the bus, then probes it: css_probe sets sch->driver, runs the
 * driver's probe and clears sch->driver again if it failed; a failed driver probe does not fail
 * device_add (really_probe's error stays in the driver core).
 */
function css_register_subchannel(sch: Subch): number {
  const F = 'css_sch_device_register';
  mutex_lock(sch.d.reg_mutex, F);
  sch.v.registered.set(1, F);
  poke(sch.d.on_bus, 1);
  const drv = css_driver();
  if (drv !== null && drv.probe !== undefined) {
    poke(sch.d.driver, 1);
    if (drv.probe(sch) !== 0) poke(sch.d.driver, 0);
  }
  mutex_unlock(sch.d.reg_mutex, F);
  return 0;
}

/**
 * css_slow_path_func, slow_path_work's function on cio_work_q: the registered subchannels first
 * (slow_eval_known_fn), then the unknown ones (slow_eval_unknown_fn), each only if its bit was set;
 * the bit is taken under slow_subchannel_lock. -ENXIO, -ENOMEM and -EIO end the unknown walk.
 */
export function css_slow_path_func(bus: CssBus): void {
  const F = 'css_slow_path_func';
  const take = (sch: Subch): boolean => {
    spin_lock_irq(bus.slow.lock, F);
    const eval_ = sch.d.slow_eval.get(F) !== 0;
    sch.d.slow_eval.set(0, F);
    spin_unlock_irq(bus.slow.lock, F);
    return eval_;
  };
  const known = bus.subs.filter(on_bus);
  for (const sch of known) {
    if (take(sch) && css_evaluate_known_subchannel(sch, 1) === -EAGAIN) css_schedule_eval(bus, sch);
  }
  for (const sch of bus.subs) {
    if (known.includes(sch) || !take(sch)) continue;
    const rc = css_evaluate_new_subchannel(bus, sch);
    if (rc === -EAGAIN) css_schedule_eval(bus, sch);
    else if (rc === -ENXIO || rc === -ENOMEM || rc === -EIO) {
      // idset_sch_del_subseq: the later schids of the set are dropped too (under the lock, as the current tree does)
      spin_lock_irq(bus.slow.lock, F);
      for (const later of bus.subs.slice(bus.subs.indexOf(sch) + 1)) later.d.slow_eval.set(0, F);
      spin_unlock_irq(bus.slow.lock, F);
      break;
    }
  }
  const flags = spin_lock_irqsave(bus.slow.lock, F);
  if (bus.subs.every((sch) => sch.d.slow_eval.get(F) === 0)) atomic_set(bus.slow.scheduled, 0, F);
  spin_unlock_irqrestore(bus.slow.lock, flags, F);
}
