// drivers/s390/cio/vfio_ccw_fsm.c: the jump table's actions and the dispatcher, every version.
//
// One set of actions, mainline's (G), with the steps in which a version differs read from
// p.drv.f (vfio_ccw_fsm.c of each version). morel-2018's actions return the next state: they are
// at the end of the file, as overrides for its table that wrap the shared ones.
import { complete, spin_lock_irq, spin_lock_irqsave, spin_unlock_irq, spin_unlock_irqrestore, type Field } from '../kernel/index.ts';
import { EACCES, EAGAIN, EBUSY, EINVAL, EIO, ENODEV, EOPNOTSUPP } from '../uapi/errno.ts';
import { IO_ORB, IO_RET_CODE, IO_SCSW, CMD_COMMAND, CMD_RET_CODE, VFIO_CCW_ASYNC_CMD_CSCH, VFIO_CCW_ASYNC_CMD_HSCH } from '../uapi/vfio_ccw.ts';
import { ORB_TM_B, orb_lpm, orb_read } from '../uapi/orb.ts';
import { SCSW_ACTL_CLEAR_PEND, SCSW_ACTL_HALT_PEND, SCSW_ACTL_START_PEND, SCSW_FCTL_CLEAR_FUNC, SCSW_FCTL_HALT_FUNC, SCSW_FCTL_START_FUNC, scsw_fctl } from '../uapi/scsw.ts';
import {
  css_sched_sch_todo, SCH_TODO_UNREG, cio_cancel_halt_clear, cio_disable_subchannel, cio_enable_subchannel, cio_update_schib, csch, hsch, ssch,
  sch_shadow_actl_or, sch_shadow_actl_set,
} from '../cio/css.ts';
import { cp_free, cp_get_orb, cp_init, cp_prefetch } from './cp.ts';
import { SCH_QUIESCE, flush_sch, io_todo_by_rule, io_todo_steps, io_todo_under_io_mutex, irb_to_slot, vfio_ccw_sch_quiesce } from './drv.ts';
import { LOG_RECORDS, VFIO_CCW_ISC, completion_at, vfio_ccw_fsm_event, type FsmFunc, type VfioCcwPrivate } from './private.ts';
import type { ActionName } from './fsm_tables.ts';
import { SITES } from './sites.ts';
import { make_driver, type Driver } from './variant.ts';
import { variant_by_name, type Variant, type VariantFeatures } from '../variants/index.ts';

// drv.c and fsm.c both reach these through vfio_ccw_private.h; callers that know them as fsm's keep that name.
export { VFIO_CCW_ISC, completion_at, irb_to_slot, vfio_ccw_fsm_event, type FsmFunc };

const set_state = (p: VfioCcwPrivate, s: number, site: string): void => p.v.state.set(s, site);
const io_ret = (p: VfioCcwPrivate, rc: number, site: string): void => p.v.io_region.set_i32(IO_RET_CODE, rc, site);
const cmd_ret = (p: VfioCcwPrivate, rc: number, site: string): void => p.v.cmd_region.set_i32(CMD_RET_CODE, rc, site);

export const fsm_nop: FsmFunc = () => {};

export const fsm_notoper: FsmFunc = (p) => {
  const F = 'fsm_notoper';
  log(p, F);
  css_sched_sch_todo(p.sch, SCH_TODO_UNREG);
  set_state(p, p.drv.R.NOT_OPER, F);
  // v6.0+ and F: "usually handled during CLOSE event"; before, the cp stays (fsm_notoper, vfio_ccw_fsm.c).
  if (p.drv.f.notoper_frees_cp) cp_free(p.cp);
};

/** gunthorpe-2021's name for fsm_notoper: NOT_OPER became BROKEN (its v3 diff). */
export const fsm_broken: FsmFunc = (p, event) => fsm_notoper(p, event);

export const fsm_io_error: FsmFunc = (p) => {
  log(p, 'fsm_io_error');
  io_ret(p, -EIO, 'fsm_io_error');
};

export const fsm_io_busy: FsmFunc = (p) => io_ret(p, -EBUSY, 'fsm_io_busy');
export const fsm_io_retry: FsmFunc = (p) => io_ret(p, -EAGAIN, 'fsm_io_retry');
export const fsm_async_error: FsmFunc = (p) => cmd_ret(p, -EIO, 'fsm_async_error');
export const fsm_async_retry: FsmFunc = (p) => cmd_ret(p, -EAGAIN, 'fsm_async_retry');

/** An interrupt in a disabled state means a previous disable did not take: disable again. */
export const fsm_disabled_irq: FsmFunc = (p) => {
  cio_disable_subchannel(p.sch);
};

/**
 * ssch of the cp's ORB and the mapping of its condition code, the part of fsm_io_helper every
 * version shares (fsm_io_helper, vfio_ccw_fsm.c). Returns 0 or -errno; `pending`: CP_PENDING on cc 0 (C+).
 */
function io_helper_ssch(p: VfioCcwPrivate, F: string, pending: boolean): number {
  const sch = p.sch;
  const orb = cp_get_orb(p.cp, sch.v.schid.get(F), sch.v.lpm.get(F));
  if (orb === null) return -EIO;
  const cc = ssch(sch, orb);
  switch (cc) {
    case 0:
      sch_shadow_actl_or(sch, SCSW_ACTL_START_PEND, F);
      if (pending) set_state(p, p.drv.S.CP_PENDING, F);
      return 0;
    case 1:
    case 2:
      return -EBUSY;
    case 3: {
      const lpm = orb_lpm(orb.flags);
      sch.v.lpm.set(lpm !== 0 ? sch.v.lpm.get(F) & ~lpm : 0, F);
      if (cio_update_schib(sch) !== 0) return -ENODEV;
      return sch.v.lpm.get(F) !== 0 ? -EACCES : -ENODEV;
    }
    default:
      return cc;
  }
}

/** morel-2018: no sch->lock at all; the caller leaves the state (its fsm_io_request). */
function fsm_io_helper_morel_2018(p: VfioCcwPrivate): number {
  return io_helper_ssch(p, 'fsm_io_helper', false);
}

/** v4.12 (vfio_ccw_fsm.c fsm_io_helper): BUSY under sch->lock, then ssch and the actl update outside it. */
function fsm_io_helper_v4_12(p: VfioCcwPrivate): number {
  const F = 'fsm_io_helper';
  const flags = spin_lock_irqsave(p.sch.v.lock, F);
  set_state(p, p.drv.S.BUSY, F);
  spin_unlock_irqrestore(p.sch.v.lock, flags, F);
  return io_helper_ssch(p, F, false);
}

/** v4.18 … v5.1 (vfio_ccw_fsm.c fsm_io_helper): BUSY, ORB, ssch and the cc mapping in one sch->lock section; BUSY even if ssch fails. */
function fsm_io_helper_v4_18(p: VfioCcwPrivate): number {
  const F = 'fsm_io_helper';
  const flags = spin_lock_irqsave(p.sch.v.lock, F);
  set_state(p, p.drv.S.BUSY, F);
  const ret = io_helper_ssch(p, F, false);
  spin_unlock_irqrestore(p.sch.v.lock, flags, F);
  return ret;
}

/** v5.2+ (vfio_ccw_fsm.c fsm_io_helper): one sch->lock section; a NULL ORB is -EIO; CP_PENDING only on cc 0. */
function fsm_io_helper_v5_2(p: VfioCcwPrivate): number {
  const F = 'fsm_io_helper';
  const flags = spin_lock_irqsave(p.sch.v.lock, F);
  const ret = io_helper_ssch(p, F, true);
  spin_unlock_irqrestore(p.sch.v.lock, flags, F);
  return ret;
}

/** The forms of fsm_io_helper by `features.io_helper`: the driver picks one when it is built. */
export const FSM_IO_HELPERS: Readonly<Record<VariantFeatures['io_helper'], (p: VfioCcwPrivate) => number>> = {
  'no-lock': fsm_io_helper_morel_2018,
  'ssch-outside-lock': fsm_io_helper_v4_12,
  'one-lock-busy-first': fsm_io_helper_v4_18,
  'one-lock-pending-on-cc0': fsm_io_helper_v5_2,
};

/** The ssch path: the variant's form of fsm_io_helper (or its own replacement). */
export function fsm_io_helper(p: VfioCcwPrivate): number {
  return p.drv.code.fsm_io_helper(p);
}

function fsm_do_halt(p: VfioCcwPrivate): number {
  const F = 'fsm_do_halt';
  const sch = p.sch;
  const flags = spin_lock_irqsave(sch.v.lock, F);
  const cc = hsch(sch);
  let ret: number;
  if (cc === 0) {
    sch_shadow_actl_or(sch, SCSW_ACTL_HALT_PEND, F);
    ret = 0;
  } else if (cc === 1 || cc === 2) ret = -EBUSY;
  else if (cc === 3) ret = -ENODEV;
  else ret = cc;
  spin_unlock_irqrestore(sch.v.lock, flags, F);
  return ret;
}

function fsm_do_clear(p: VfioCcwPrivate): number {
  const F = 'fsm_do_clear';
  const sch = p.sch;
  const flags = spin_lock_irqsave(sch.v.lock, F);
  const cc = csch(sch);
  let ret: number;
  if (cc === 0) {
    sch_shadow_actl_set(sch, SCSW_ACTL_CLEAR_PEND, F); // set, not OR
    ret = 0;
  } else if (cc === 3) ret = -ENODEV;
  else ret = cc; // cc 1/2 cannot occur architecturally
  spin_unlock_irqrestore(sch.v.lock, flags, F);
  return ret;
}

/**
 * IO_REQ in IDLE (fsm_io_request, vfio_ccw_fsm.c). Per version: the state written at entry (BOXED, BUSY, CP_PROCESSING),
 * the tm check (≥ v4.18), whether err_out resets IDLE (not in v5.2 … v5.12), and A's snapshot,
 * which starts the program whatever fctl says (the 2018 snapshot's fsm_io_request).
 */
export const fsm_io_request: FsmFunc = (p) => {
  const F = SITES.fsm_io_request;
  const f = p.drv.f;
  const io = p.v.io_region;
  set_state(p, p.drv.S[f.request_entry_state], F);
  p.v.scsw.copy_from(io, F, 12, 0, IO_SCSW);
  const fctl = scsw_fctl(p.v.scsw.get_u32(0, F));
  if (f.halt_clear_on_io_region === 'no-fctl-check' || fctl & SCSW_FCTL_START_FUNC) {
    const orb = orb_read(new DataView(io.read(IO_ORB, 12, F).buffer), 0);
    if (f.tm_check && (orb.flags & ORB_TM_B) !== 0) {
      io_ret(p, -EOPNOTSUPP, F);
      return err_out(p);
    }
    let rc = cp_init(p.cp, orb, F);
    io_ret(p, rc, F);
    if (rc !== 0) return err_out(p);
    rc = cp_prefetch(p.cp);
    io_ret(p, rc, F);
    if (rc !== 0) {
      cp_free(p.cp);
      return err_out(p);
    }
    rc = fsm_io_helper(p);
    io_ret(p, rc, F);
    if (rc !== 0) {
      cp_free(p.cp);
      return err_out(p);
    }
    return;
  } else if (fctl & SCSW_FCTL_HALT_FUNC) {
    io_ret(p, -EOPNOTSUPP, F);
  } else if (fctl & SCSW_FCTL_CLEAR_FUNC) {
    io_ret(p, -EOPNOTSUPP, F);
  }
  // No function bit: ret_code is left as the user wrote it (IO-7).
  return err_out(p);
};

function err_out(p: VfioCcwPrivate): void {
  // v5.2 … v5.12 reset nothing here: the region writer does (IO-6, vfio_ccw_io_region_write in vfio_ccw_ops.c).
  if (p.drv.f.err_out_sets_idle) set_state(p, p.drv.S.IDLE, SITES.fsm_io_request);
}

export const fsm_async_request: FsmFunc = (p) => {
  const F = 'fsm_async_request';
  const cmd = p.v.cmd_region.get_u32(CMD_COMMAND, F);
  let rc: number;
  if (cmd === VFIO_CCW_ASYNC_CMD_HSCH) rc = fsm_do_halt(p);
  else if (cmd === VFIO_CCW_ASYNC_CMD_CSCH) rc = fsm_do_clear(p);
  else rc = -EINVAL;
  cmd_ret(p, rc, F);
};

function complete_waiter(p: VfioCcwPrivate, site: string): void {
  const c = p.v.completion.get(site);
  if (c !== 0) complete(completion_at(p, c), site);
}

/** Runs in IRQ context with sch->lock held by the caller. */
export const fsm_irq: FsmFunc = (p) => {
  irb_to_slot(p, SITES.fsm_irq);
  complete_waiter(p, SITES.fsm_irq);
};

export const fsm_open: FsmFunc = (p) => {
  const F = 'fsm_open';
  const sch = p.sch;
  spin_lock_irq(sch.v.lock, F);
  sch.v.isc.set(VFIO_CCW_ISC, F);
  const ret = cio_enable_subchannel(sch, sch.v.schid.get(F));
  if (ret !== 0 && p.drv.f.open_failure === 'state-under-lock') {
    // F: BROKEN directly, no unregistration scheduled and no cp_free (its v3 diff of fsm_notoper).
    set_state(p, p.drv.R.NOT_OPER, F);
    spin_unlock_irq(sch.v.lock, F);
    return;
  }
  if (ret !== 0) {
    spin_unlock_irq(sch.v.lock, F);
    vfio_ccw_fsm_event(p, p.drv.R.EV_NOT_OPER);
    return;
  }
  set_state(p, p.drv.S.IDLE, F);
  spin_unlock_irq(sch.v.lock, F);
};

/** v6.0+ (fsm_close, vfio_ccw_fsm.c) and gunthorpe-2021 (CLOSED/BROKEN, quiesce named flush_sch): the same steps. */
export const fsm_close: FsmFunc = (p) => {
  const F = 'fsm_close';
  const sch = p.sch;
  spin_lock_irq(sch.v.lock, F);
  let ok = false;
  if (sch.hw_enabled(F)) {
    let ret = cio_disable_subchannel(sch);
    if (ret === -EBUSY) ret = p.drv.f.quiesce === 'flush_sch-in-close' ? flush_sch(p) : vfio_ccw_sch_quiesce(p);
    ok = ret === 0;
  }
  if (!ok) {
    spin_unlock_irq(sch.v.lock, F);
    vfio_ccw_fsm_event(p, p.drv.R.EV_NOT_OPER);
    return;
  }
  set_state(p, p.drv.R.STANDBY, F);
  spin_unlock_irq(sch.v.lock, F);
  cp_free(p.cp);
};

// Debug log records (s390dbf): v5.4 ... v5.19 store a reference to the mdev's UUID (VFIO_CCW_MSG_EVENT, vfio_ccw_private.h). The
// caller evaluates the arguments (private->mdev); debug_sprintf_event then writes the record
// under the debug_info's own lock (arch/s390/kernel/debug.c, v6.3: spin_lock_irqsave(&id->lock)),
// so two records never race.
function log(p: VfioCcwPrivate, site: string): void {
  const byRef = p.drv.f.uuid_log_by_reference;
  const arg = byRef ? p.v.mdev.get(site) : p.dev;
  const F = 'debug_sprintf_event';
  const flags = spin_lock_irqsave(p.v.dbf_lock, F);
  const n = p.v.log_count.get(F);
  const slot = (n % LOG_RECORDS) * 2;
  const rec = (k: number): Field => p.v.log.at(slot + k);
  rec(0).set(byRef ? 1 : 0, F);
  rec(1).set(arg, F);
  p.v.log_count.set(n + 1, F);
  spin_unlock_irqrestore(p.v.dbf_lock, flags, F);
}


// ---------------------------------------------------------------------------------------------
// morel-2018: Pierre Morel's 2018 proposal, its mid-series vfio_ccw_fsm.c. Each action returns the next
// state and the dispatcher assigns it. Where A's step is a shared action's, the shared action
// runs and the wrapper returns the state the snapshot's action returns; the rest are A's own.

type FsmFuncA = (p: VfioCcwPrivate, event: number) => number;

/** One cell of A's table: private->state = action(private, event). */
function returns_state(name: string, fn: FsmFuncA): FsmFunc {
  const cell: FsmFunc = (p, event) => set_state(p, fn(p, event), 'vfio_ccw_fsm_event');
  Object.defineProperty(cell, 'name', { value: name });
  return cell;
}

const same = (p: VfioCcwPrivate): number => p.v.state.get('vfio_ccw_fsm_event');

/** A shared action, then the state the snapshot's action returns ("same" = the state it left). */
const then = (name: ActionName, fn: FsmFunc, next: FsmFuncA): FsmFunc =>
  returns_state(name, (p, event) => {
    fn(p, event);
    return next(p, event);
  });

export const ACTIONS_MOREL_2018: Readonly<Partial<Record<ActionName, FsmFunc>>> = {
  nop: returns_state('nop', same),
  fsm_init: returns_state('fsm_init', (p) => {
    p.sch.v.isc.set(VFIO_CCW_ISC, 'fsm_init');
    return p.drv.S.STANDBY;
  }),
  fsm_online: returns_state('fsm_online', (p) => {
    const F = 'fsm_online';
    spin_lock_irq(p.sch.v.lock, F);
    const ret = cio_enable_subchannel(p.sch, p.sch.v.schid.get(F));
    spin_unlock_irq(p.sch.v.lock, F);
    return ret !== 0 ? p.drv.S.NOT_OPER : p.drv.S.IDLE;
  }),
  fsm_offline: returns_state('fsm_offline', (p) => {
    const F = 'fsm_offline';
    spin_lock_irq(p.sch.v.lock, F);
    const ret = cio_disable_subchannel(p.sch);
    spin_unlock_irq(p.sch.v.lock, F);
    complete_waiter(p, F);
    return ret !== 0 ? p.drv.S.NOT_OPER : p.drv.S.STANDBY;
  }),
  /**
   * The snapshot returns cio_cancel_halt_clear's result itself unless it is -EBUSY: 0 reads as
   * NOT_OPER, -ENODEV and -EIO are states outside the table. We reproduce the snapshot (its
   * BOXED row is kept too); a later patch of the series may have changed this.
   */
  fsm_quiescing: returns_state('fsm_quiescing', (p) => {
    const F = 'fsm_quiescing';
    spin_lock_irq(p.sch.v.lock, F);
    const ret = cio_cancel_halt_clear(p.sch, { v: 255 });
    let next = p.drv.S.QUIESCING;
    if (ret !== -EBUSY) {
      complete_waiter(p, F);
      next = ret;
    }
    spin_unlock_irq(p.sch.v.lock, F);
    return next;
  }),
  fsm_quiescing_done: returns_state('fsm_quiescing_done', (p) => {
    complete_waiter(p, 'fsm_quiescing_done');
    return p.drv.S.STANDBY;
  }),
  fsm_sch_event: returns_state('fsm_sch_event', (p) => {
    const F = 'fsm_sch_event';
    const flags = spin_lock_irqsave(p.sch.v.lock, F);
    const ret = cio_update_schib(p.sch);
    spin_unlock_irqrestore(p.sch.v.lock, flags, F);
    return ret !== 0 ? p.drv.S.NOT_OPER : same(p);
  }),
  fsm_notoper: then('fsm_notoper', fsm_notoper, (p) => p.drv.S.NOT_OPER),
  fsm_io_error: then('fsm_io_error', fsm_io_error, same),
  fsm_io_busy: then('fsm_io_busy', fsm_io_busy, same),
  // Runs from the work item in A; the snapshot names no lock for it.
  fsm_disabled_irq: then('fsm_disabled_irq', fsm_disabled_irq, same),
  // Every step sets ret_code; the helper took no lock and wrote no state.
  fsm_io_request: then('fsm_io_request', fsm_io_request, (p) => (p.v.io_region.get_i32(IO_RET_CODE, SITES.fsm_io_request) === 0 ? p.drv.S.BUSY : p.drv.S.IDLE)),
  // In the work item (io_todo fires INTERRUPT): the io_todo steps of rule A, then IDLE.
  fsm_irq: returns_state('fsm_irq', (p) => {
    io_todo_steps(p);
    return p.drv.S.IDLE;
  }),
};

/** The actions by name (the jump tables in fsm_tables.ts name them). */
export const ACTIONS: Readonly<Partial<Record<ActionName, FsmFunc>>> = {
  fsm_nop,
  fsm_io_error,
  fsm_disabled_irq,
  fsm_notoper,
  fsm_io_request,
  fsm_irq,
  fsm_io_busy,
  fsm_io_retry,
  fsm_async_error,
  fsm_async_retry,
  fsm_async_request,
  fsm_open,
  fsm_close,
  fsm_broken,
};

const drivers = new WeakMap<Variant, Driver>();

/** The driver of a variant (by registry name, or a user file's path), built once per thread and registry entry. */
export function driver_for(name: string): Driver {
  const v = variant_by_name(name);
  if (v === undefined) throw new Error(`no variant ${name}`);
  let d = drivers.get(v);
  if (d === undefined) {
    d = make_driver(v, ACTIONS, { 'morel-2018': ACTIONS_MOREL_2018 }, {
      vfio_ccw_sch_io_todo: v.features.io_todo_holds_io_mutex ? io_todo_under_io_mutex : io_todo_by_rule,
      fsm_io_helper: FSM_IO_HELPERS[v.features.io_helper],
      vfio_ccw_sch_quiesce: SCH_QUIESCE[v.features.quiesce],
    });
    drivers.set(v, d);
  }
  return d;
}
