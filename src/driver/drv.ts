// drivers/s390/cio/vfio_ccw_drv.c: the IRQ entry, io_todo / crw_todo, quiesce, css callbacks.
import {
  GLOBAL, ActorSlot, atomic_inc, atomic_set, current, eventfd_ctx_deref, eventfd_signal, obj_alive, objName, type Field, flush_workqueue, init_completion, mutex_lock, mutex_unlock,
  objId, reinit_completion, spin_lock_irq, spin_lock_irqsave, spin_unlock_irq, spin_unlock_irqrestore, wait_for_completion, wait_for_completion_timeout, HZ, should_fail,
  queue_work, work_pending, WARN, Warn, type Completion,
} from '../kernel/index.ts';
import { EAGAIN, EBUSY, EIO, ENODEV, ENOMEM } from '../uapi/errno.ts';
import { scsw_is_final, scsw_is_solicited, scsw_read } from '../uapi/scsw.ts';
import { IO_IRB } from '../uapi/vfio_ccw.ts';
import {
  cio_enable_subchannel,
  CHP_OFFLINE, CHP_ONLINE, CHP_VARY_OFF, CHP_VARY_ON, cio_cancel_halt_clear, cio_disable_subchannel, cio_update_schib, type ChpLink, type Subch,
} from '../cio/css.ts';
import { cp_free, cp_update_scsw } from './cp.ts';
import { crw_alloc, crw_list_add_tail, crw_list_empty } from './crw.ts';
import { SITES } from './sites.ts';
import { VFIO_CCW_ISC, completion_at, vfio_ccw_fsm_event, type VfioCcwPrivate } from './private.ts';
import { fsm_returns_state, type VariantFeatures } from './features.ts';

/**
 * `if (*ctx) use(*ctx)`: the check's load, then the use's; 0 when either saw NULL. A NULL second
 * load is the Oops of dereferencing it, reported here.
 */
export function trigger_checked(trigger: Field, site: string): number {
  if (trigger.get(site) === 0) return 0;
  const ptr = trigger.get(site);
  if (ptr === 0) WARN(Warn.use_after_free, trigger.id, `BUG: kernel NULL pointer dereference in ${site}: ${objName(trigger.id)} reloaded as NULL after its check`);
  return ptr;
}

/**
 * `if (private->x_trigger) eventfd_signal(private->x_trigger, 1);` (every version, v6.8 read):
 * the pointer is named twice, so it is loaded twice, with no lock and no reference of the
 * signaller's. SET_IRQS may put the context between the loads or before the signal (I23): a
 * signal on a freed context is a use-after-free (lifetime.ts), a NULL second load an Oops.
 */
export function signal_trigger(p: VfioCcwPrivate, trigger: Field, site: string): boolean {
  const ptr = trigger_checked(trigger, site);
  if (ptr === 0) return false;
  const ctx = eventfd_ctx_deref(p.g, ptr);
  const alive = obj_alive(ctx.ref, ctx.gen);
  eventfd_signal(ctx, site); // on a freed context: reported, nothing counted
  return alive;
}

/** The per-CPU IRB into the single slot (R2), then io_work: IRQ context, sch->lock held by the caller. */
export function irb_to_slot(p: VfioCcwPrivate, site: string): void {
  p.v.irb.copy_from(p.sch.v.irb, site, 96);
  queue_work(p.wq, p.v.io_work, site);
}

/** The css .irq callback: runs in IRQ context with sch->lock held by do_cio_interrupt. */
export function vfio_ccw_sch_irq(p: VfioCcwPrivate | null, sch: Subch): void {
  if (p === null) {
    // v6.2+: no mdev, hence no private: an unexpected interrupt.
    cio_disable_subchannel(sch);
    return;
  }
  atomic_inc(p.v.irqs, 'vfio_ccw_sch_irq');
  // A moves the state change out of IRQ context: INTERRUPT runs from io_todo [inferred from patch 1].
  if (p.drv.f.io_todo.in_fsm_irq) irb_to_slot(p, 'vfio_ccw_sch_irq');
  else vfio_ccw_fsm_event(p, p.drv.E.INTERRUPT);
}

/**
 * io_work: process the IRB in the single slot (vfio_ccw_sch_io_todo in vfio_ccw_drv.c), with the variant's own function if it
 * replaces it. A fires INTERRUPT, whose fsm_irq runs the steps.
 */
export function vfio_ccw_sch_io_todo(p: VfioCcwPrivate): void {
  p.drv.code.vfio_ccw_sch_io_todo(p);
}

/** The shared io_todo: the steps under the variant's rule, or A's INTERRUPT event. */
export function io_todo_by_rule(p: VfioCcwPrivate): void {
  if (p.drv.f.io_todo.in_fsm_irq) vfio_ccw_fsm_event(p, p.drv.E.INTERRUPT);
  else io_todo_steps(p);
}

/**
 * The steps of io_todo under the variant's rule (features.io_todo, stated in each variant file;
 * vfio_ccw_sch_io_todo in vfio_ccw_drv.c of each version).
 */
export function io_todo_steps(p: VfioCcwPrivate): void {
  const F = SITES.vfio_ccw_sch_io_todo;
  const rule = p.drv.f.io_todo;
  let cp_is_finished = false;
  const irb = p.v.irb;
  // Each field is read from the slot when the kernel reads it: fsm_irq may overwrite the slot
  // between these reads (R2), and the port must see exactly what the C would.
  const is_final = scsw_is_final(irb.get_u32(0, F));
  const S = p.drv.S;
  if (scsw_is_solicited(irb.get_u32(0, F))) {
    // cp_update_scsw(&private->cp, &irb->scsw) rewrites only scsw.cpa, in place, and stores it
    // even when it is unchanged: a plain write to the IRB slot fsm_irq may be filling (R2).
    const scsw = scsw_read(new DataView(irb.read(0, 12, F).buffer), 0);
    if (cp_update_scsw(p.cp, scsw)) irb.set_u32(4, scsw.cpa, 'cp_update_scsw');
    const free =
      rule.free === 'solicited' || (is_final && (rule.free === 'final' || p.v.state.get(F) === S.CP_PENDING));
    if (free) {
      cp_free(p.cp);
      cp_is_finished = true;
    }
  }
  if (p.drv.f.io_mutex) mutex_lock(p.v.io_mutex, F);
  p.v.io_region.copy_from(irb, F, 96, IO_IRB, 0);
  if (p.drv.f.io_mutex) mutex_unlock(p.v.io_mutex, F);
  atomic_inc(p.v.irbs_to_region, F);

  // "if (private->mdev && …)" is tested right before the store: after the signal up to v5.2,
  // before it from "Set vfio-ccw FSM state before ioeventfd" (v5.3) on.
  const mdev = (): boolean => p.v.mdev.get(F) !== 0;
  const to_idle = (): boolean =>
    rule.idle === 'freed' ? cp_is_finished
    : rule.idle === 'mdev+freed' ? mdev() && cp_is_finished
    : rule.idle === 'mdev+final' ? mdev() && is_final
    : rule.idle === 'mdev' ? mdev()
    : false;
  if (rule.idle_before_signal && to_idle()) p.v.state.set(S.IDLE, F);
  if (signal_trigger(p, p.v.io_trigger, F)) atomic_inc(p.v.io_signals, F);
  if (!rule.idle_before_signal && to_idle()) p.v.state.set(S.IDLE, F);
}

/**
 * io_todo of the current tree (torvalds/linux @ 16b0798024c0 vfio_ccw_drv.c): io_mutex is taken
 * after is_final is judged and held across cp_update_scsw, cp_free, the IRB copy and the IDLE
 * write, so the cp is freed under the lock fsm_io_request builds it under. The signal follows
 * the unlock.
 */
export function io_todo_under_io_mutex(p: VfioCcwPrivate): void {
  const F = 'vfio_ccw_sch_io_todo';
  const S = p.drv.S;
  const irb = p.v.irb;
  let cp_is_finished = false;
  const is_final = scsw_is_final(irb.get_u32(0, F));
  mutex_lock(p.v.io_mutex, F);
  if (scsw_is_solicited(irb.get_u32(0, F))) {
    const scsw = scsw_read(new DataView(irb.read(0, 12, F).buffer), 0);
    if (cp_update_scsw(p.cp, scsw)) irb.set_u32(4, scsw.cpa, 'cp_update_scsw');
    if (is_final && p.v.state.get(F) === S.CP_PENDING) {
      cp_free(p.cp);
      cp_is_finished = true;
    }
  }
  p.v.io_region.copy_from(irb, F, 96, IO_IRB, 0);
  atomic_inc(p.v.irbs_to_region, F);
  if (cp_is_finished) p.v.state.set(S.IDLE, F);
  mutex_unlock(p.v.io_mutex, F);
  if (signal_trigger(p, p.v.io_trigger, F)) atomic_inc(p.v.io_signals, F);
}

/**
 * crw_work (v5.8+): tell the user that CRWs are queued. The current tree tests the list and
 * signals under private->crw_lock; before, with no lock.
 */
export function vfio_ccw_crw_todo(p: VfioCcwPrivate): void {
  const F = 'vfio_ccw_crw_todo';
  if (!p.drv.f.crw_lock) {
    if (!crw_list_empty(p, F)) signal_trigger(p, p.v.crw_trigger, F);
    return;
  }
  const flags = spin_lock_irqsave(p.v.crw_lock, F);
  if (!crw_list_empty(p, F)) signal_trigger(p, p.v.crw_trigger, F);
  spin_unlock_irqrestore(p.v.crw_lock, flags, F);
}

/**
 * DECLARE_COMPLETION_ONSTACK: the actor's on-stack completion (struct completion c on the kernel
 * stack), initialised; cid is its object id, published in p.v.completion while it is waited on.
 */
function declare_completion_onstack(p: VfioCcwPrivate): { cid: number; c: Completion } {
  const cid = objId(p.g, GLOBAL.actor(current.id) + ActorSlot.fields.stack_comp.off);
  const c = completion_at(p, cid);
  init_completion(c);
  return { cid, c };
}

/** I11: one quiesce issues at most 1 cancel + 3 halts + 255 clears (a pass issues at most one). */
const I11_PASSES = 1 + 3 + 255;
function i11(p: VfioCcwPrivate, passes: number): void {
  if (passes === I11_PASSES + 1) WARN(Warn.invariant, p.sch.v.lock.id, `I11: quiesce passed ${I11_PASSES} cancel/halt/clear rounds without terminating (dev${p.dev}, ${p.drv.name})`);
}

/**
 * The quiesce loop of v5.2 … v5.19, gunthorpe-2021 (flush_sch) and v6.0+ (vfio_ccw_sch_quiesce, vfio_ccw_drv.c): sch->lock held on entry
 * and on return, dropped while waiting. iretry is set once; -EIO ("could not quiesce") leaves.
 * The completion is DECLARE_COMPLETION_ONSTACK'd once per call, before the loop (v5.2 … v6.3
 * vfio_ccw_sch_quiesce, F's flush_sch): a complete() no wait consumed (a second interrupt of
 * one pass) carries over, and the next pass's wait returns at once. The kernel asserts no lock.
 */
function quiesce_loop(p: VfioCcwPrivate): number {
  const F = 'vfio_ccw_sch_quiesce';
  const sch = p.sch;
  const { cid, c } = declare_completion_onstack(p);
  const iretry = { v: 255 };
  let ret: number;
  p.v.quiesce_halts.set(0, F);
  let passes = 0;
  do {
    ret = cio_cancel_halt_clear(sch, iretry);
    i11(p, ++passes);
    if (ret === -EIO) break; // "could not quiesce"
    p.v.completion.set(cid, F);
    spin_unlock_irq(sch.v.lock, F);
    if (ret === -EBUSY) wait_for_completion_timeout(c, 3 * HZ, F);
    p.v.completion.set(0, F);
    flush_workqueue(p.wq, F);
    spin_lock_irq(sch.v.lock, F);
    ret = cio_disable_subchannel(sch);
  } while (ret === -EBUSY);
  return ret;
}

/** gunthorpe-2021's name for the loop: its v3 diff renames vfio_ccw_sch_quiesce to flush_sch. */
export const flush_sch = quiesce_loop;

/**
 * The v4.12 … v5.1 loop (vfio_ccw_sch_quiesce, vfio_ccw_drv.c), sch->lock held: iretry = 255 again on every outer pass (so a
 * subchannel that never quiesces loops for ever, M-B3), and flush_workqueue with sch->lock held
 * (M-B2). Both flaws are kept. As in v4.12's vfio_ccw_sch_quiesce, the on-stack completion is
 * declared once for all passes, so a surplus complete() carries over.
 */
function quiesce_loop_b(p: VfioCcwPrivate): number {
  const F = 'vfio_ccw_sch_quiesce';
  const sch = p.sch;
  const { cid, c } = declare_completion_onstack(p);
  let ret: number;
  let passes = 0;
  do {
    const iretry = { v: 255 };
    ret = cio_cancel_halt_clear(sch, iretry);
    i11(p, ++passes);
    while (ret === -EBUSY) {
      p.v.completion.set(cid, F);
      spin_unlock_irq(sch.v.lock, F);
      wait_for_completion_timeout(c, 3 * HZ, F);
      spin_lock_irq(sch.v.lock, F);
      p.v.completion.set(0, F);
      flush_workqueue(p.wq, F);
      ret = cio_cancel_halt_clear(sch, iretry);
      i11(p, ++passes);
    }
    ret = cio_disable_subchannel(sch);
  } while (ret === -EBUSY);
  return ret;
}

/** vfio_ccw_sch_quiesce: the variant's form (or its own replacement), picked when the driver is built. */
export function vfio_ccw_sch_quiesce(p: VfioCcwPrivate): number {
  return p.drv.code.vfio_ccw_sch_quiesce(p);
}

/**
 * vfio_ccw_sch_quiesce before v6.0 (vfio_ccw_drv.c, v4.12 … v5.19): takes sch->lock itself, disables first,
 * runs `loop` only if the disable is busy, and leaves NOT_OPER whatever happened.
 */
function sch_quiesce_locked(p: VfioCcwPrivate, loop: (p: VfioCcwPrivate) => number): number {
  const F = 'vfio_ccw_sch_quiesce';
  const sch = p.sch;
  spin_lock_irq(sch.v.lock, F);
  let ret = 0;
  if (sch.hw_enabled(F)) {
    ret = cio_disable_subchannel(sch);
    if (ret === -EBUSY) ret = loop(p);
  }
  p.v.state.set(p.drv.S.NOT_OPER, F);
  spin_unlock_irq(sch.v.lock, F);
  return ret;
}

/**
 * The forms of vfio_ccw_sch_quiesce by `features.quiesce`. v6.0+ (E) and F's flush_sch: the loop
 * alone, called by fsm_close with sch->lock held, no state write. B (v4.12 … v5.1) and C (v5.2 …
 * v5.19; A keeps C's shape [inferred]): sch_quiesce_locked around their own loop.
 */
export const SCH_QUIESCE: Readonly<Record<VariantFeatures['quiesce'], (p: VfioCcwPrivate) => number>> = {
  'quiescing-state': (p) => sch_quiesce_locked(p, quiesce_loop),
  'retry-255-flush-under-lock': (p) => sch_quiesce_locked(p, quiesce_loop_b),
  'retry-once': (p) => sch_quiesce_locked(p, quiesce_loop),
  'flush_sch-in-close': quiesce_loop,
  'in-close-lock-held': quiesce_loop,
};

/**
 * A: reset and remove fire OFFLINE and, if the device went QUIESCING, wait until the INTERRUPT
 * in QUIESCING has run fsm_quiescing_done (our reconstruction of the 2018 series [inferred]).
 */
export function vfio_ccw_fsm_offline_wait(p: VfioCcwPrivate): void {
  const F = 'vfio_ccw_fsm_offline_wait';
  const { cid, c } = declare_completion_onstack(p);
  p.v.completion.set(cid, F);
  vfio_ccw_fsm_event(p, p.drv.E.OFFLINE);
  if (p.v.state.get(F) === p.drv.S.QUIESCING) wait_for_completion(c, F);
  p.v.completion.set(0, F);
  reinit_completion(c);
}

/**
 * Queue a CRW for the user (chp_event, under sch->lock). Allocation failure drops it. The
 * current tree adds the entry under private->crw_lock (nested in sch->lock); before, under
 * sch->lock only, which the CRW region read does not take.
 */
function vfio_ccw_queue_crw(p: VfioCcwPrivate, rsc: number, erc: number, rsid: number): void {
  const F = 'vfio_ccw_queue_crw';
  const crw = crw_alloc(p, ((rsc & 0xf) << 24) | ((erc & 0x3f) << 16) | (rsid & 0xffff), F);
  if (crw === 0) return; // kzalloc(GFP_ATOMIC) failed: dropped silently
  if (p.drv.f.crw_lock) {
    const flags = spin_lock_irqsave(p.v.crw_lock, F);
    crw_list_add_tail(p, crw, F);
    spin_unlock_irqrestore(p.v.crw_lock, flags, F);
  } else crw_list_add_tail(p, crw, F);
  queue_work(p.wq, p.v.crw_work, F);
}

export const CRW_RSC_CPATH = 0x4;
export const CRW_ERC_INIT = 0x2;
export const CRW_ERC_PERRN = 0x6;

/** The css .chp_event callback (v5.8+), sch->lock held by the caller. */
export function vfio_ccw_chp_event(p: VfioCcwPrivate | null, sch: Subch, link: ChpLink, event: number): number {
  const F = 'vfio_ccw_chp_event';
  // Before v5.8 the driver has no .chp_event: the css does nothing for it.
  if (p === null || !p.drv.f.chp_event || link.mask === 0) return 0;
  if (cio_update_schib(sch) !== 0) return -ENODEV;
  const lpum = sch.lpum();
  switch (event) {
    case CHP_VARY_OFF:
      sch.v.opm.set(sch.v.opm.get(F) & ~link.mask, F);
      sch.v.lpm.set(sch.v.lpm.get(F) & ~link.mask, F);
      if (lpum & link.mask) cio_cancel_halt_clear(sch, { v: 255 });
      break;
    case CHP_OFFLINE:
      if (lpum & link.mask) cio_cancel_halt_clear(sch, { v: 255 });
      vfio_ccw_queue_crw(p, CRW_RSC_CPATH, CRW_ERC_PERRN, link.chpid);
      break;
    case CHP_VARY_ON:
      sch.v.opm.set(sch.v.opm.get(F) | link.mask, F);
      sch.v.lpm.set(sch.v.lpm.get(F) | link.mask, F);
      break;
    case CHP_ONLINE:
      sch.v.lpm.set(sch.v.lpm.get(F) | (link.mask & sch.v.opm.get(F)), F);
      vfio_ccw_queue_crw(p, CRW_RSC_CPATH, CRW_ERC_INIT, link.chpid);
      break;
  }
  return 0;
}

/** The css .sch_event callback (machine checks, subchannel gone). */
export function vfio_ccw_sch_event(p: VfioCcwPrivate | null, sch: Subch): number {
  const F = 'vfio_ccw_sch_event';
  const flags = spin_lock_irqsave(sch.v.lock, F);
  // device_is_registered, then work_pending(&sch->todo_work): a todo already taken off cio_work_q no longer counts
  const busy = sch.v.registered.get(F) === 0 || work_pending(sch.d.todo_work);
  // v4.12 … v5.1 answer 0 ("done") here, later code -EAGAIN ("call again"; vfio_ccw_sch_event in vfio_ccw_drv.c).
  const rc = busy ? (p?.drv.f.sch_event_busy_rc ?? -EAGAIN) : 0;
  if (!busy && p !== null && fsm_returns_state(p.drv.f)) {
    // A: the SCHIB_CHANGED event refreshes the schib under sch->lock itself [inferred from the table].
    spin_unlock_irqrestore(sch.v.lock, flags, F);
    vfio_ccw_fsm_event(p, p.drv.E.SCHIB_CHANGED);
    return rc;
  }
  if (!busy) {
    if (cio_update_schib(sch) !== 0) {
      if (p !== null) vfio_ccw_fsm_event(p, p.drv.R.EV_NOT_OPER);
    } else if (p !== null && p.drv.f.sch_event_rewrite && p.v.state.get(F) === p.drv.S.NOT_OPER) {
      // ≤ v5.19: a device that answers again leaves NOT_OPER (removed by M-E3).
      p.v.state.set(p.v.mdev.get(F) !== 0 ? p.drv.S.IDLE : p.drv.S.STANDBY, F);
    }
  }
  spin_unlock_irqrestore(sch.v.lock, flags, F);
  return rc;
}

/** css shutdown: B … D quiesce; F and E CLOSE then NOT_OPER (BROKEN); A goes offline [inferred]. */
export function vfio_ccw_sch_shutdown(p: VfioCcwPrivate | null): void {
  if (p === null) return;
  const f = p.drv.f;
  if (f.open_close_fsm_events) {
    vfio_ccw_fsm_event(p, p.drv.E.CLOSE);
    vfio_ccw_fsm_event(p, p.drv.R.EV_NOT_OPER);
  } else if (fsm_returns_state(f)) vfio_ccw_fsm_offline_wait(p);
  else vfio_ccw_sch_quiesce(p);
}

/**
 * css probe (vfio_ccw_sch_probe, vfio_ccw_drv.c). The subchannel is already known to the css (main set it up); what differs
 * per version is the enable, the state it leaves, and when the mdev parent becomes visible (B1
 * registers it before the device is initialised, I19; v5.0+ last, M-A2).
 */
export function vfio_ccw_sch_probe(p: VfioCcwPrivate): number {
  const F = SITES.vfio_ccw_sch_probe;
  const f = p.drv.f;
  const S = p.drv.S;
  // mdev_register_device / mdev_register_parent: may fail (-ENOMEM); the caller unwinds. The
  // type's create attribute appears under parent_list_lock, where create_store will look for it.
  const register_parent = (): number => {
    if (should_fail('mdev_register')) return -ENOMEM;
    mutex_lock(p.sch.d.parent_lock, F);
    p.v.parent_registered.set(1, F);
    mutex_unlock(p.sch.d.parent_lock, F);
    return 0;
  };
  if (f.parent_split) return register_parent(); // v6.2+: only the parent; private comes with the mdev
  const A = fsm_returns_state(f);
  if (f.probe_enables_subchannel) {
    const sch = p.sch;
    if (A) {
      // kzalloc leaves 0, NOT_OPER; INIT (fsm_init: the ISC) makes it STANDBY. A's dispatcher
      // sleeps, so the event is fired before sch->lock is taken [inferred].
      p.v.state.set(S.NOT_OPER, F);
      vfio_ccw_fsm_event(p, p.drv.E.INIT);
    }
    spin_lock_irq(sch.v.lock, F);
    if (!A) {
      p.v.state.set(S.NOT_OPER, F);
      sch.v.isc.set(VFIO_CCW_ISC, F);
    }
    const ret = cio_enable_subchannel(sch, sch.v.schid.get(F));
    spin_unlock_irq(sch.v.lock, F);
    if (ret !== 0) return ret;
  }
  // out_disable: a failed registration disables the subchannel again (private is freed)
  const unwind = (ret: number): number => {
    if (f.probe_enables_subchannel) {
      spin_lock_irq(p.sch.v.lock, F);
      cio_disable_subchannel(p.sch);
      spin_unlock_irq(p.sch.v.lock, F);
    }
    return ret;
  };
  if (!f.probe_registers_parent_last) {
    const ret = register_parent();
    if (ret !== 0) return unwind(ret);
  }
  if (f.avail_accounting) atomic_set(p.v.avail, 1, F);
  if (!A) p.v.state.set(p.drv.R.STANDBY, F);
  if (f.probe_registers_parent_last) {
    const ret = register_parent();
    if (ret !== 0) return unwind(ret);
  }
  return 0;
}
