// drivers/s390/cio/vfio_ccw_drv.c: the IRQ entry, io_todo / crw_todo, quiesce, css callbacks.
import {
  GLOBAL, ActorSlot, atomic_inc, current, eventfd_ctx_fdget, eventfd_signal, flush_workqueue, init_completion, mutex_lock, mutex_unlock,
  objId, reinit_completion, spin_lock_irq, spin_lock_irqsave, spin_unlock_irq, spin_unlock_irqrestore, wait_for_completion_timeout, HZ,
  lockdep_assert_held, queue_work, WARN, Warn,
} from '../kernel/index.ts';
import { EAGAIN, EBUSY, EIO, ENODEV } from '../uapi/errno.ts';
import { scsw_is_final, scsw_is_solicited, scsw_read } from '../uapi/scsw.ts';
import { IO_IRB } from '../uapi/vfio_ccw.ts';
import {
  cio_enable_subchannel,
  CHP_OFFLINE, CHP_ONLINE, CHP_VARY_OFF, CHP_VARY_ON, cio_cancel_halt_clear, cio_disable_subchannel, cio_update_schib, type ChpLink, type Subch,
} from '../cio/css.ts';
import { cp_free, cp_update_scsw } from './cp.ts';
import { completion_at, vfio_ccw_fsm_event } from './fsm.ts';
import { CRW_QUEUE, type VfioCcwPrivate } from './private.ts';

/** Signal an eventfd whose fd + 1 is stored in a trigger field (0 = NULL). */
export function signal_trigger(p: VfioCcwPrivate, fdp1: number, site: string): boolean {
  if (fdp1 === 0) return false;
  const ctx = eventfd_ctx_fdget(p.g, fdp1 - 1);
  // The kernel holds a reference; a closed fd here means the context went away under us (I23).
  if (typeof ctx === 'number') {
    WARN(Warn.eventfd, p.v.io_trigger.id, `I23: ${site} signals an eventfd context that was released`);
    return false;
  }
  eventfd_signal(ctx, site);
  return true;
}

/** The css .irq callback: runs in IRQ context with sch->lock held by do_cio_interrupt. */
export function vfio_ccw_sch_irq(p: VfioCcwPrivate | null, sch: Subch): void {
  if (p === null) {
    // v6.2+: no mdev, hence no private: an unexpected interrupt.
    cio_disable_subchannel(sch);
    return;
  }
  atomic_inc(p.v.irqs, 'vfio_ccw_sch_irq');
  vfio_ccw_fsm_event(p, p.drv.E.INTERRUPT);
}

/** io_work: process the IRB in the single slot (spec §10.4; per-version rules as features). */
export function vfio_ccw_sch_io_todo(p: VfioCcwPrivate): void {
  const F = 'vfio_ccw_sch_io_todo';
  const rule = p.drv.f.io_todo;
  let cp_is_finished = false;
  const irb = p.v.irb;
  // Each field is read from the slot when the kernel reads it: fsm_irq may overwrite the slot
  // between these reads (R2), and the port must see exactly what the C would.
  const is_final = scsw_is_final(irb.get_u32(0, F));
  const S = p.drv.S;
  if (scsw_is_solicited(irb.get_u32(0, F))) {
    // cp_update_scsw(&private->cp, &irb->scsw) rewrites only scsw.cpa, in place.
    const scsw = scsw_read(new DataView(irb.read(0, 12, F).buffer), 0);
    const cpa = scsw.cpa;
    cp_update_scsw(p.cp, scsw);
    if (scsw.cpa !== cpa) irb.set_u32(4, scsw.cpa, F);
    const pending = p.v.state.get(F) === S.CP_PENDING;
    const free = rule === 'C52' ? is_final : rule === 'B-unconditional' ? true : rule === 'B3-final' ? is_final : is_final && pending;
    if (free) {
      cp_free(p.cp);
      cp_is_finished = true;
    }
  }
  if (p.drv.f.io_mutex) mutex_lock(p.v.io_mutex, F);
  p.v.io_region.copy_from(irb, F, 96, IO_IRB, 0);
  if (p.drv.f.io_mutex) mutex_unlock(p.v.io_mutex, F);
  atomic_inc(p.v.irbs_to_region, F);

  const has_mdev = p.v.mdev.get(F) !== 0;
  const to_idle =
    rule === 'D' ? has_mdev && cp_is_finished : rule === 'E' ? cp_is_finished : rule === 'B-unconditional' ? has_mdev : has_mdev && is_final;
  // Before v5.3 the state was reset after the eventfd signal (M-C4 swapped them).
  const idle_first = rule !== 'B-unconditional' && rule !== 'B3-final' && rule !== 'C52';
  if (to_idle && idle_first) p.v.state.set(S.IDLE, F);
  if (signal_trigger(p, p.v.io_trigger.get(F), F)) atomic_inc(p.v.io_signals, F);
  if (to_idle && !idle_first) p.v.state.set(S.IDLE, F);
}

/** crw_work (v5.8+): tell the user that CRWs are queued. */
export function vfio_ccw_crw_todo(p: VfioCcwPrivate): void {
  const F = 'vfio_ccw_crw_todo';
  if (p.v.crw_head.get(F) !== p.v.crw_tail.get(F)) signal_trigger(p, p.v.crw_trigger.get(F), F);
}

/** The actor's on-stack completion (struct completion c on the kernel stack). */
function stack_completion(p: VfioCcwPrivate): number {
  return objId(p.g, GLOBAL.actor(current.id) + ActorSlot.fields.stack_comp.off);
}

/**
 * vfio_ccw_sch_quiesce, E/G form (spec §9.1): called with sch->lock held (irq); drops and
 * retakes it; returns with it held. Earlier forms are in quiesce_legacy().
 */
export function vfio_ccw_sch_quiesce(p: VfioCcwPrivate): number {
  const F = 'vfio_ccw_sch_quiesce';
  const sch = p.sch;
  lockdep_assert_held(sch.v.lock, F);
  const cid = stack_completion(p);
  const c = completion_at(p, cid);
  const iretry = { v: 255 };
  let ret: number;
  p.v.quiesce_halts.set(0, F);
  do {
    init_completion(c);
    ret = cio_cancel_halt_clear(sch, iretry);
    if (ret === -EIO) break; // "could not quiesce"
    p.v.completion.set(cid, F);
    spin_unlock_irq(sch.v.lock, F);
    if (ret === -EBUSY) wait_for_completion_timeout(c, 3 * HZ, F);
    p.v.completion.set(0, F);
    flush_workqueue(p.wq, F);
    spin_lock_irq(sch.v.lock, F);
    ret = cio_disable_subchannel(sch);
  } while (ret === -EBUSY);
  reinit_completion(c);
  return ret;
}

/** Queue a CRW for the user (chp_event, under sch->lock). Allocation failure drops it. */
function vfio_ccw_queue_crw(p: VfioCcwPrivate, rsc: number, erc: number, rsid: number): void {
  const F = 'vfio_ccw_queue_crw';
  const tail = p.v.crw_tail.get(F);
  if (tail - p.v.crw_head.get(F) >= CRW_QUEUE) return; // kzalloc(GFP_ATOMIC) failed: dropped silently
  const crw = ((rsc & 0xf) << 24) | ((erc & 0x3f) << 16) | (rsid & 0xffff);
  p.v.crw_ring.a[p.v.crw_ring.i + (tail % CRW_QUEUE)] = crw;
  p.v.crw_tail.set(tail + 1, F);
  queue_work(p.wq, p.v.crw_work, F);
}

export const CRW_RSC_CPATH = 0x4;
export const CRW_ERC_INIT = 0x2;
export const CRW_ERC_PERRN = 0x6;

/** The css .chp_event callback (v5.8+), sch->lock held by the caller. */
export function vfio_ccw_chp_event(p: VfioCcwPrivate | null, sch: Subch, link: ChpLink, event: number): number {
  const F = 'vfio_ccw_chp_event';
  if (p === null || link.mask === 0) return 0;
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
  let rc = -EAGAIN;
  if (sch.v.registered.get(F) !== 0 && sch.v.todo.get(F) === 0) {
    rc = 0;
    if (cio_update_schib(sch) !== 0) {
      if (p !== null) vfio_ccw_fsm_event(p, p.drv.E.NOT_OPER);
    } else if (p !== null && p.drv.f.sch_event_rewrite && p.v.state.get(F) === p.drv.S.NOT_OPER) {
      p.v.state.set(p.v.mdev.get(F) !== 0 ? p.drv.S.IDLE : p.drv.S.STANDBY, F);
    }
  }
  spin_unlock_irqrestore(sch.v.lock, flags, F);
  return rc;
}

/** shutdown (E+): CLOSE, then NOT_OPER. */
export function vfio_ccw_sch_shutdown(p: VfioCcwPrivate | null): void {
  if (p === null) return;
  vfio_ccw_fsm_event(p, p.drv.E.CLOSE);
  vfio_ccw_fsm_event(p, p.drv.E.NOT_OPER);
}


/**
 * css probe (spec §13.1). The subchannel is already known to the css (main set it up);
 * what differs per version is whether the driver enables it and which state it leaves.
 */
export function vfio_ccw_sch_probe(p: VfioCcwPrivate): number {
  const F = 'vfio_ccw_sch_probe';
  const f = p.drv.f;
  const S = p.drv.S;
  if (f.parent_split) return 0; // v6.2+: only the parent; private comes with the mdev
  if (f.probe_enables_subchannel) {
    const sch = p.sch;
    spin_lock_irq(sch.v.lock, F);
    p.v.state.set(S.NOT_OPER, F);
    sch.v.isc.set(6, F);
    const ret = cio_enable_subchannel(sch, sch.v.schid.get(F));
    spin_unlock_irq(sch.v.lock, F);
    if (ret !== 0) return ret;
  }
  if (f.avail_accounting) Atomics.store(p.v.avail.a, p.v.avail.i, 1);
  p.v.state.set(f.open_close_fsm_events && S.CLOSED >= 0 ? S.CLOSED : S.STANDBY, F);
  return 0;
}
