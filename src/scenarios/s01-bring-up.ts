// S1: bring-up, boot reset, single Sense ID (spec/client-and-hardware.md §8, kvm-unit-tests shape).
// This module also exports the small helpers the later scenarios share: reading IRBs, the
// driver's and the machine's counters, and a handshake that waits until io_todo has run.
import { flush_workqueue, peek, spin_lock_irq, spin_unlock_irq } from '../kernel/index.ts';
import { HW_IRQ_KINDS, hw_wait_until, type Hw } from '../hw/layout.ts';
import { sense_id } from '../client/guest.ts';
import type { Orb } from '../uapi/orb.ts';
import {
  DEV_STAT_CHN_END, DEV_STAT_DEV_END, DEV_STAT_UNIT_CHECK, SCSW_ACTL_DEVACT, SCSW_ACTL_SCHACT, SCSW_FCTL_CLEAR_FUNC, SCSW_FCTL_HALT_FUNC,
  SCSW_FCTL_START_FUNC, SCSW_STCTL_ALERT_STATUS, SCSW_STCTL_INTER_STATUS, SCSW_STCTL_PRIM_STATUS, SCSW_STCTL_SEC_STATUS, SCSW_STCTL_STATUS_PEND,
  SCSW_ZCC, scsw_actl, scsw_cc, scsw_fctl, scsw_is_final, scsw_is_solicited, scsw_stctl,
} from '../uapi/scsw.ts';
import { IRB_SIZE } from '../uapi/irb.ts';
import { make_irq_info, make_region_info, read_irq_info, read_region_caps, read_region_info } from '../uapi/ioctl.ts';
import { EINVAL } from '../uapi/errno.ts';
import {
  CMD_REGION_SIZE, CRW_REGION_SIZE, IO_REGION_SIZE, SCHIB_AREA_SIZE, VFIO_CCW_INDEX_TO_OFFSET, VFIO_DEVICE_FLAGS_CCW, VFIO_DEVICE_FLAGS_RESET,
  VFIO_DEVICE_GET_IRQ_INFO, VFIO_DEVICE_GET_REGION_INFO, VFIO_IRQ_INFO_EVENTFD, VFIO_REGION_INFO_CAP_TYPE, VFIO_REGION_INFO_FLAG_CAPS,
  VFIO_REGION_INFO_FLAG_READ, VFIO_REGION_INFO_FLAG_WRITE, VFIO_REGION_SUBTYPE_CCW_ASYNC_CMD, VFIO_REGION_SUBTYPE_CCW_CRW,
  VFIO_REGION_SUBTYPE_CCW_SCHIB, VFIO_REGION_TYPE_CCW,
} from '../uapi/vfio_ccw.ts';
import { extra_regions } from '../driver/ops.ts';
import type { ProgramCtx } from '../runtime/context.ts';
import { run_user, type ScenarioEnv, type UserArgs, type UserResult } from './env.ts';
import type { Scenario } from './types.ts';

// ---------------------------------------------------------------------------------------------
// Shared helpers (S1 … S12)

export const CE_DE = DEV_STAT_CHN_END | DEV_STAT_DEV_END;
/** SC of a normal ending: primary + secondary + status pending */
export const SC_ENDED = SCSW_STCTL_PRIM_STATUS | SCSW_STCTL_SEC_STATUS | SCSW_STCTL_STATUS_PEND;
export const SC_UNSOLICITED = SCSW_STCTL_ALERT_STATUS | SCSW_STCTL_STATUS_PEND;
export const SC_INTERMEDIATE = SCSW_STCTL_INTER_STATUS | SCSW_STCTL_STATUS_PEND;
export const FC = { start: SCSW_FCTL_START_FUNC, halt: SCSW_FCTL_HALT_FUNC, clear: SCSW_FCTL_CLEAR_FUNC } as const;
export const IO_TIMEOUT_MS = 10_000;
/** AC of a start in progress at the device */
export const ACTIVE = SCSW_ACTL_SCHACT | SCSW_ACTL_DEVACT;

/** A check made in a loop: only a failure is recorded (one entry each), so a long run does not carry thousands of passes. */
export function expect(env: ScenarioEnv, id: string, ok: boolean, message: string): void {
  if (!ok) env.check(id, false, message);
}

/** An IRB as the checks look at it (Linux field encodings). */
export interface IrbInfo {
  w0: number;
  fctl: number;
  actl: number;
  stctl: number;
  cc: number;
  cpa: number;
  dstat: number;
  cstat: number;
  /** vfio-ccw's is_final */
  final: boolean;
  solicited: boolean;
  /** all 96 bytes zero: what a region write left behind (spec §5.4) */
  zero: boolean;
  /** SC has status pending: an IRB a subchannel could really store */
  pending: boolean;
  bytes: Uint8Array;
}

export function irb_info(irb: Uint8Array): IrbInfo {
  const d = new DataView(irb.buffer, irb.byteOffset, irb.byteLength);
  const w0 = d.getUint32(0) | 0;
  const w2 = d.getUint32(8);
  return {
    w0,
    fctl: scsw_fctl(w0),
    actl: scsw_actl(w0),
    stctl: scsw_stctl(w0),
    cc: scsw_cc(w0),
    cpa: d.getUint32(4),
    dstat: w2 >>> 24,
    cstat: (w2 >>> 16) & 0xff,
    final: scsw_is_final(w0),
    solicited: scsw_is_solicited(w0),
    zero: irb.subarray(0, IRB_SIZE).every((b) => b === 0),
    pending: (scsw_stctl(w0) & SCSW_STCTL_STATUS_PEND) !== 0,
    bytes: irb,
  };
}

/** One line for notes and check messages. */
export function irb_str(i: IrbInfo): string {
  if (i.zero) return 'IRB(all zero)';
  const names = (v: number, tab: readonly [number, string][]): string => tab.filter(([b]) => (v & b) !== 0).map(([, n]) => n).join('+') || '0';
  const fc = names(i.fctl, [[FC.start, 'start'], [FC.halt, 'halt'], [FC.clear, 'clear']]);
  const sc = names(i.stctl, [[SCSW_STCTL_ALERT_STATUS, 'alert'], [SCSW_STCTL_INTER_STATUS, 'inter'], [SCSW_STCTL_PRIM_STATUS, 'prim'], [SCSW_STCTL_SEC_STATUS, 'sec'], [SCSW_STCTL_STATUS_PEND, 'pend']]);
  return `IRB(FC ${fc}, AC ${i.actl.toString(16)}, SC ${sc}, cc ${i.cc}, dstat ${i.dstat.toString(16)}, cstat ${i.cstat.toString(16)}, cpa ${i.cpa.toString(16)})`;
}

/** The driver state by its mainline name (F's CLOSED/BROKEN read as STANDBY/NOT_OPER). */
export function state(env: ScenarioEnv): string {
  const s = env.state_name();
  return s === 'CLOSED' ? 'STANDBY' : s === 'BROKEN' ? 'NOT_OPER' : s;
}

/** The state a started I/O leaves the driver in: CP_PENDING, or BUSY before v5.2. */
export function pending_name(env: ScenarioEnv): string {
  return env.p.drv.S.CP_PENDING >= 0 ? 'CP_PENDING' : 'BUSY';
}

/** Interrupts the host has taken (its TSCH in do_cio_interrupt stored a pending status). */
export function taken(hw: Hw): number {
  let n = 0;
  for (let k = 0; k < HW_IRQ_KINDS; k++) n += hw.at('taken', k);
  return n;
}

/** Counters a step compares before and after. */
export interface Marks {
  /** interrupts the driver's irq callback saw */
  irqs: number;
  /** io_todo runs (IRB copies into the I/O region) */
  irbs: number;
  /** io_trigger signals */
  signals: number;
  /** successful cp_init calls */
  gen: number;
  initialized: boolean;
  pinned: number;
  pinned_total: number;
  unpinned_total: number;
  taken: number;
  presented: number;
  starts: number;
}

export function marks(env: ScenarioEnv): Marks {
  const p = env.p;
  const hw = p.sch.hw;
  return {
    irqs: peek(p.v.irqs),
    irbs: peek(p.v.irbs_to_region),
    signals: peek(p.v.io_signals),
    gen: peek(p.cp.v.generation),
    // v4.12 … v5.1 have no cp->initialized: there a channel program is live while it holds chains.
    initialized: p.cp.rules.has_initialized_flag ? peek(p.cp.v.initialized) !== 0 : peek(p.cp.v.nchains) !== 0,
    pinned: peek(p.cp.v.pinned_pages),
    pinned_total: peek(p.cp.gm.pages_pinned_total),
    unpinned_total: peek(p.cp.gm.pages_unpinned_total),
    taken: taken(hw),
    presented: hw.get('presented'),
    starts: hw.get('start_seq'),
  };
}

/** The cp is free and every page it pinned is unpinned. */
export function cp_clean(env: ScenarioEnv): { ok: boolean; message: string } {
  const m = marks(env);
  const ok = !m.initialized && m.pinned === 0 && m.pinned_total === m.unpinned_total;
  return { ok, message: `cp initialized ${m.initialized}, ${m.pinned} pages held, ${m.pinned_total} pinned / ${m.unpinned_total} unpinned ever` };
}

const SETTLE = 'scenario_settle';

/**
 * Wait (bounded) until the host has taken `target` interrupts in total, then until the driver
 * has finished with them: sch->lock is held from the host's TSCH through fsm_irq's queue_work,
 * so taking it once orders us after that; flush_workqueue then waits for io_todo.
 */
export function settle(env: ScenarioEnv, target: number, ms = IO_TIMEOUT_MS): boolean {
  const hw = env.p.sch.hw;
  const ok = hw_wait_until(hw, (h) => taken(h) >= target, ms);
  spin_lock_irq(env.p.sch.v.lock, SETTLE);
  spin_unlock_irq(env.p.sch.v.lock, SETTLE);
  flush_workqueue(env.p.wq, SETTLE);
  return ok;
}

/** Wait (bounded) until the machine has begun the start (subchannel active), so xsch cannot withdraw it. */
export function wait_begun(env: ScenarioEnv, ms = IO_TIMEOUT_MS): boolean {
  const hw = env.p.sch.hw;
  return hw_wait_until(hw, (h) => (h.get('actl') & ACTIVE) !== 0 || h.get('start_open') === 0, ms) && hw.get('start_open') !== 0;
}

/** The guest's I/O interrupt: the eventfd handler (one region read), then TSCH. Null on timeout. */
export function next_irb(env: ScenarioEnv, ms = IO_TIMEOUT_MS): IrbInfo | null {
  const ev = env.client.wait_io(ms);
  if (ev === null) return null;
  env.client.tsch();
  return ev.irb === null ? null : irb_info(ev.irb);
}

/** IRBs until a final one (zero IRBs are stale wake-ups, skipped). */
export function wait_final(env: ScenarioEnv, ms = IO_TIMEOUT_MS): { final: IrbInfo | null; seen: IrbInfo[] } {
  const seen: IrbInfo[] = [];
  for (;;) {
    const i = next_irb(env, ms);
    if (i === null) return { final: null, seen };
    seen.push(i);
    if (i.pending && i.final) {
      env.count('cycles');
      return { final: i, seen };
    }
  }
}

/** Take every signal already on the IO eventfd (test-and-clear; does not block). */
export function drain_io(env: ScenarioEnv): IrbInfo[] {
  const out: IrbInfo[] = [];
  for (let ev = env.client.poll_io(); ev !== null; ev = env.client.poll_io()) {
    env.client.tsch();
    if (ev.irb !== null) out.push(irb_info(ev.irb));
  }
  return out;
}

/**
 * The guest's ssch. cc 0 with a unit exception QEMU injected itself (the driver refused the start
 * with an errno it cannot map to a cc, §4.2) is reported as 'ue': no host interrupt will follow.
 */
export function ssch(env: ScenarioEnv, orb: Orb): number | 'pgm' | 'ue' {
  const c = env.client;
  const ue0 = c.counters.unit_exceptions;
  const cc = c.ssch(orb);
  if (cc !== 0 || c.counters.unit_exceptions === ue0) return cc;
  c.tsch();
  env.count('ssch.unit_exception');
  return 'ue';
}

export interface Completion {
  dstat?: number;
  cstat?: number;
  sense?: number[];
}

/** ssch, then the machine ends the start through the mailbox (hung device), then the final IRB. */
export function scripted_io(env: ScenarioEnv, orb: Orb, done: Completion = {}, ms = IO_TIMEOUT_MS): { cc: number | 'pgm' | 'ue'; final: IrbInfo | null; seen: IrbInfo[] } {
  const cc = ssch(env, orb);
  if (cc !== 0) return { cc, final: null, seen: [] };
  env.hw({ op: 'complete', kind: 'final', ...done });
  return { cc, ...wait_final(env, ms) };
}

export type IoOutcome = 'final' | 'error' | 'halted' | 'cleared' | 'cc1' | 'cc2' | 'cc3' | 'pgm' | 'lost';

/**
 * A DASD-like guest I/O on a machine that ends starts by itself: ssch (cc 2 retried after the
 * next wake-up, as the 0.5 s timer does), then IRBs until a final one. On `timeout_ms` without
 * one the guest terminates the request with csch (term_IO) when it can.
 */
export function guest_io(env: ScenarioEnv, orb: Orb, timeout_ms: number): { outcome: IoOutcome; final: IrbInfo | null } {
  const c = env.client;
  let cc = ssch(env, orb);
  for (let retry = 0; cc === 2 && retry < 100; retry++) {
    env.count('ssch.cc2');
    if (c.wait_io(1) !== null) c.tsch();
    cc = ssch(env, orb);
  }
  if (cc === 'ue') return { outcome: 'error', final: null };
  if (cc !== 0) return { outcome: cc === 'pgm' ? 'pgm' : (`cc${cc}` as IoOutcome), final: null };
  let r = wait_final(env, timeout_ms);
  if (r.final === null) {
    env.count('io.timeouts');
    if (c.regions.async === null) return { outcome: 'lost', final: null };
    c.csch();
    r = wait_final(env, IO_TIMEOUT_MS);
    if (r.final === null) return { outcome: 'lost', final: null };
  }
  const f = r.final;
  if ((f.fctl & FC.clear) !== 0) return { outcome: 'cleared', final: f };
  if ((f.fctl & FC.halt) !== 0) return { outcome: 'halted', final: f };
  if ((f.dstat & DEV_STAT_UNIT_CHECK) !== 0 || f.cstat !== 0 || f.cc !== 0) return { outcome: 'error', final: f };
  return { outcome: 'final', final: f };
}

// ---------------------------------------------------------------------------------------------
// S1

export const scenario: Scenario = {
  id: 'S1',
  slug: 'bring-up',
  title: 'Bring-up, boot reset, single Sense ID (kvm-unit-tests shape)',
  module: import.meta.url,
  users: { min: 1, default: 1 },
  // attempts of the "T delayed" variant (the ordering is up to the threads; each attempt is recorded)
  iterations: 20,
  // the device ends nothing by itself: every ending comes through the mailbox; ISIC as the architecture says
  hw: { hung: true, p_isic: 1 },
};

const SUBTYPES = [VFIO_REGION_SUBTYPE_CCW_ASYNC_CMD, VFIO_REGION_SUBTYPE_CCW_SCHIB, VFIO_REGION_SUBTYPE_CCW_CRW];
const SIZES = [CMD_REGION_SIZE, SCHIB_AREA_SIZE, CRW_REGION_SIZE];
const FLAGS = [VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE, VFIO_REGION_INFO_FLAG_READ, VFIO_REGION_INFO_FLAG_READ];

export function user(ctx: ProgramCtx, args: UserArgs): UserResult {
  return run_user(ctx, args, (env) => {
    env.wait_hw_running();
    const f = env.f;
    const c = env.client;
    const extra = extra_regions(env.p).length;

    // 1-2. open and the region/IRQ discovery QEMU's realize does
    const r = env.realize('S1');
    if (!r.ok) return;
    env.check('S1.open-idle', state(env) === 'IDLE', `state after open: ${state(env)}`);
    const flags = VFIO_DEVICE_FLAGS_CCW | VFIO_DEVICE_FLAGS_RESET;
    env.check(
      'S1.device-info',
      r.flags === flags && r.num_regions === 1 + extra && r.num_irqs === f.irqs,
      `GET_INFO: flags ${r.flags.toString(16)} (want ${flags.toString(16)}), ${r.num_regions} regions (want ${1 + extra}), ${r.num_irqs} irqs (want ${f.irqs})`,
    );
    // argsz 32 then 48 for every extra region (the first answer asks for room for the capability)
    const want_ri = 1 + 2 * extra;
    env.check('S1.region-info-calls', r.ioctls.get_region_info === want_ri, `${r.ioctls.get_region_info} GET_REGION_INFO calls in realize (want ${want_ri})`);
    region_info_exact(env, extra);
    irq_info_exact(env);
    const fds = r.irq_fds;
    env.check('S1.set-irqs', fds.io !== null && (fds.crw !== null) === f.irqs >= 2 && (fds.req !== null) === f.irqs >= 3, `eventfds io ${fds.io} crw ${fds.crw} req ${fds.req}`);

    // 3. machine reset at VM start
    const rrc = c.reset();
    env.check('S1.reset', rrc === 0 && state(env) === 'IDLE', `DEVICE_RESET ${rrc}, state ${state(env)}`);
    // QEMU's main loop handles what the reset signalled (before v6.0 the reset's quiesce halts an idle subchannel)
    env.count('reset_irbs', drain_io(env).length);

    // 4-6. one Sense ID; the machine is held, so what the write returns is the driver's synchronous answer
    const m0 = marks(env);
    env.hw({ op: 'hold' });
    const prog = env.program(sense_id());
    const cc = ssch(env, prog.orb);
    const st = state(env);
    const m1 = marks(env);
    env.check(
      'S1.sync-start',
      cc === 0 && st === pending_name(env) && m1.irbs === m0.irbs && m1.gen === m0.gen + 1,
      `ssch cc ${cc}, state ${st} right after the write, io_todo runs ${m1.irbs - m0.irbs}, cp_init ${m1.gen - m0.gen}`,
    );
    if (cc === 0) env.hw({ op: 'complete', kind: 'final', dstat: CE_DE });
    env.hw({ op: 'release' });
    const base = cc === 0 ? wait_final(env) : { final: null, seen: [] };
    const fin = base.final;
    env.check(
      'S1.final-irb',
      fin !== null && fin.fctl === FC.start && fin.actl === 0 && fin.stctl === SC_ENDED && fin.dstat === CE_DE && fin.cstat === 0 && base.seen.length === 1,
      fin === null ? 'no final IRB' : `${base.seen.map(irb_str).join(', ')}`,
    );
    one_io_done(env, 'S1.base', m0, 1);

    // Variant, T prompt: the machine raises the initial-status (ISIC) interrupt itself when the
    // start begins; the final is posted only after the user saw it, so io_todo ran in between.
    const m2 = marks(env);
    const cc2 = ssch(env, env.program(sense_id()).orb);
    const isic = cc2 === 0 ? next_irb(env, 2000) : null;
    if (isic === null) {
      env.not_applicable('S1 variant T prompt: the machine raised no initial-status interrupt (p_isic 0?)');
    } else {
      const st2 = state(env);
      const mi = marks(env);
      env.check(
        'S1.isic-keeps-cp',
        !isic.final && isic.stctl === SC_INTERMEDIATE && (isic.w0 & SCSW_ZCC) !== 0 && st2 === pending_name(env) && mi.initialized && mi.irbs === m2.irbs + 1,
        `after ${irb_str(isic)}: state ${st2}, cp initialized ${mi.initialized}, io_todo runs ${mi.irbs - m2.irbs}`,
      );
    }
    if (cc2 === 0) {
      env.hw({ op: 'complete', kind: 'final', dstat: CE_DE });
      const pr = wait_final(env);
      env.check('S1.prompt-final', pr.final !== null && pr.final.fctl === FC.start, pr.final === null ? 'no final IRB' : irb_str(pr.final));
      one_io_done(env, 'S1.prompt', m2, 1);
      const runs = marks(env).irbs - m2.irbs;
      if (isic !== null) env.check('S1.prompt-two-runs', runs === 2, `${runs} io_todo runs for initial status + final (want 2)`);
    }

    // Variant, T delayed: both statuses are made while the machine is held, then presented back
    // to back. Whether io_todo runs between the two interrupts is up to the threads: record it.
    for (let i = 0; env.more(i); i++) delayed_attempt(env);

    const busy = c.counters.results.io_write['-EBUSY'] ?? 0;
    env.check('S1.no-ebusy', busy === 0, `${busy} -EBUSY answers to ssch`);
    c.unrealize();
    // Closing resets the device from v5.2 (release: reset + cp_free) and fires CLOSE from v6.0;
    // before v5.2 the release only unregistered the notifier and left the FSM as it was.
    if (env.f.open_close_fsm_events || env.f.release_frees_cp) {
      // state() speaks in roles (F's CLOSED is the STANDBY role); the message names the variant's state
      const standby = env.p.drv.shape.states[env.p.drv.R.STANDBY] ?? 'STANDBY';
      env.check('S1.close-standby', state(env) === 'STANDBY', `state after close: ${env.state_name()} (want ${standby})`);
    } else env.not_applicable('S1 close -> STANDBY: before v5.2 the release leaves the FSM state as it was');
  });
}

/** After an I/O's final: IDLE, exactly `starts` cp allocations since m0, and the cp freed. */
function one_io_done(env: ScenarioEnv, id: string, m0: Marks, starts: number): void {
  const m = marks(env);
  const clean = cp_clean(env);
  expect(env, `${id}-idle`, state(env) === 'IDLE', `state after the final IRB: ${state(env)}`);
  expect(env, `${id}-cp-once`, m.gen - m0.gen === starts && clean.ok, `${m.gen - m0.gen} cp_init (want ${starts}); ${clean.message}`);
}

function delayed_attempt(env: ScenarioEnv): void {
  const m0 = marks(env);
  env.hw({ op: 'hold' });
  const cc = ssch(env, env.program(sense_id()).orb);
  if (cc !== 0) {
    env.hw({ op: 'release' });
    expect(env, 'S1.delayed-ssch', false, `ssch cc ${cc}`);
    return;
  }
  // the initial status (intermediate, no PCI), then the final queued behind it at the machine
  env.hw({ op: 'complete', kind: 'pci', cstat: 0 });
  env.hw({ op: 'complete', kind: 'final', dstat: CE_DE });
  env.hw({ op: 'release' });
  const r = wait_final(env);
  const ok = settle(env, m0.taken + 2);
  const late = drain_io(env);
  const runs = marks(env).irbs - m0.irbs;
  const coalesced = runs === 1;
  env.count(coalesced ? 'delayed.coalesced' : 'delayed.separate');
  const seen = [...r.seen, ...late];
  if (coalesced) {
    expect(env, 'S1.delayed-coalesced-final-only', seen.length === 1 && seen[0]?.final === true, `coalesced: the user saw ${seen.map(irb_str).join(', ')}`);
  } else if (seen.some((s) => !s.final)) {
    env.count('delayed.saw_intermediate');
  }
  expect(env, 'S1.delayed-final', ok && r.final !== null && r.final.fctl === FC.start, r.final === null ? 'no final IRB' : irb_str(r.final));
  one_io_done(env, 'S1.delayed', m0, 1);
}

/** GET_REGION_INFO answers, byte for byte what §11.6 says (index 0, then each extra region at argsz 32 and 48). */
function region_info_exact(env: ScenarioEnv, extra: number): void {
  const ops = env.client.ops;
  const problems: string[] = [];
  const b0 = make_region_info({ argsz: 32, index: 0 });
  const rc0 = ops.ioctl(VFIO_DEVICE_GET_REGION_INFO, b0);
  const i0 = read_region_info(b0);
  if (rc0 !== 0 || i0.size !== IO_REGION_SIZE || i0.offset !== 0 || i0.flags !== (VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE)) {
    problems.push(`index 0: rc ${rc0} size ${i0.size} offset ${i0.offset} flags ${i0.flags}`);
  }
  for (let k = 0; k < extra; k++) {
    const index = k + 1;
    const small = make_region_info({ argsz: 32, index });
    const rcs = ops.ioctl(VFIO_DEVICE_GET_REGION_INFO, small);
    const s = read_region_info(small);
    const want_flags = (FLAGS[k] ?? 0) | VFIO_REGION_INFO_FLAG_CAPS;
    if (rcs !== 0 || s.argsz !== 48 || s.cap_offset !== 0 || s.flags !== want_flags || s.size !== SIZES[k] || s.offset !== VFIO_CCW_INDEX_TO_OFFSET(index)) {
      problems.push(`index ${index} argsz 32: rc ${rcs} argsz ${s.argsz} cap_offset ${s.cap_offset} flags ${s.flags} size ${s.size} offset ${s.offset}`);
    }
    const big = make_region_info({ argsz: 48, index });
    const rcb = ops.ioctl(VFIO_DEVICE_GET_REGION_INFO, big);
    const b = read_region_info(big);
    const caps = read_region_caps(big);
    const cap = caps[0];
    if (
      rcb !== 0 || b.argsz !== 48 || b.cap_offset !== 32 || caps.length !== 1 || cap === undefined || cap.header.id !== VFIO_REGION_INFO_CAP_TYPE ||
      cap.header.version !== 1 || cap.header.next !== 0 || cap.type !== VFIO_REGION_TYPE_CCW || cap.subtype !== SUBTYPES[k]
    ) {
      problems.push(`index ${index} argsz 48: rc ${rcb} cap_offset ${b.cap_offset} caps ${JSON.stringify(caps)}`);
    }
  }
  const past = make_region_info({ argsz: 48, index: extra + 1 });
  const rcp = ops.ioctl(VFIO_DEVICE_GET_REGION_INFO, past);
  if (rcp !== -EINVAL) problems.push(`index ${extra + 1} (none): rc ${rcp}, want -EINVAL`);
  env.check('S1.region-info-exact', problems.length === 0, problems.length === 0 ? `index 0 and ${extra} capability replies exact` : problems.join('; '));
}

function irq_info_exact(env: ScenarioEnv): void {
  const ops = env.client.ops;
  const problems: string[] = [];
  const n = env.f.irqs;
  for (let index = 0; index <= n; index++) {
    const b = make_irq_info({ index });
    const rc = ops.ioctl(VFIO_DEVICE_GET_IRQ_INFO, b);
    const info = read_irq_info(b);
    if (index < n && (rc !== 0 || info.count !== 1 || info.flags !== VFIO_IRQ_INFO_EVENTFD)) problems.push(`irq ${index}: rc ${rc} count ${info.count} flags ${info.flags}`);
    if (index === n && rc !== -EINVAL) problems.push(`irq ${index} (none): rc ${rc}, want -EINVAL`);
  }
  env.check('S1.irq-info', problems.length === 0, problems.length === 0 ? `${n} IRQ indexes, count 1 each` : problems.join('; '));
}
