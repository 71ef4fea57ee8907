// drivers/s390/cio/css.c (and the chsc event path): subchannel set-up, the css slow path and
// path events as the machine delivers them to the css driver. It is also the one module the
// driver imports the host's common I/O layer from.
import { WARN, Warn, mutex_lock, mutex_unlock, poke, queue_work, refcount_add_return, spin_lock_irq, spin_lock_irqsave, spin_unlock_irq, spin_unlock_irqrestore } from '../kernel/index.ts';
import type { HwConfig } from '../hw/config.ts';
import { hw_run, type HwHost, type HwRunResult } from '../hw/engine.ts';
import type { HwCssView } from '../hw/layout.ts';
import { PMCW_PAM, SCHIB_SIZE } from '../hw/schib.ts';
import * as hwi from '../hw/instr.ts';
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
  sch.v.schib.write(0, schib, S);
  sch.v.schid.set(schid, S);
  sch.v.isc.set(isc, S);
  sch.v.opm.set(0xff, S);
  sch.v.lpm.set(schib[PMCW_PAM]! & 0xff, S);
  sch.v.todo.set(0, S);
  sch.v.registered.set(1, S);
  // device_initialize's reference, which device_unregister drops
  poke(sch.d.dev_ref, 1);
}

/** The host side of the machine for one subchannel: the I/O interrupt entry and the css callbacks. */
export function css_hw_host(sch: Subch): HwHost {
  return {
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
export function css_hw_run(css: HwCssView, subs: readonly Subch[], seed: number, config: Partial<HwConfig> = {}, max_ms?: number): HwRunResult {
  return hw_run({ css, devs: subs.map((sch) => ({ hw: sch.hw, host: css_hw_host(sch) })), seed, config, ...(max_ms !== undefined ? { max_ms } : {}) });
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
