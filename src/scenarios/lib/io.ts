// The guest's side of an I/O as the scenarios drive it: ssch, the interrupts that follow, and
// the waits that order a step after the driver has finished with an interrupt.
import { flush_workqueue, spin_lock_irq, spin_unlock_irq } from '../../kernel/index.ts';
import { hw_wait_until } from '../../hw/layout.ts';
import type { Orb } from '../../uapi/orb.ts';
import { DEV_STAT_UNIT_CHECK, scsw_is_final } from '../../uapi/scsw.ts';
import type { ScenarioEnv } from '../env.ts';
import { ACTIVE, FC, irb_info, type IrbInfo } from './irb.ts';
import { cp_clean, state, taken } from './state.ts';

export const IO_TIMEOUT_MS = 10_000;

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
 * with an errno QEMU's vfio_ccw_handle_request cannot map to a cc) is reported as 'ue': no host
 * interrupt will follow.
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

/**
 * A start refused because of a failure injected into its ssch (env.faulted said so): the write's
 * errno became QEMU's unit exception, and the kernel's error path left IDLE and a free cp, which
 * still must hold.
 */
export function refused_by_fault(env: ScenarioEnv, fault: boolean, cc: number | 'pgm' | 'ue'): boolean {
  return fault && cc === 'ue' && state(env) === 'IDLE' && cp_clean(env).ok;
}

/**
 * The ssch that opens a case which needs its start. Null when a failure injected into this ssch
 * refused it (refused_by_fault; counted, and noted once per case): the case ends there, as its
 * later steps have nothing to act on. Otherwise the cc, for the case's own checks.
 */
export function start_case(env: ScenarioEnv, id: string, orb: Orb): number | 'pgm' | 'ue' | null {
  const { v: cc, fault } = env.faulted(() => ssch(env, orb));
  if (!refused_by_fault(env, fault, cc)) return cc;
  env.check_answer(id, false, true, `ssch cc ${cc}: the start was refused, so the case ends`, false);
  return null;
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

/** One I/O: ssch, then IRBs until a final one; returns the final IRB's device status, or -1 if lost. `id` names the scenario's checks. */
export function one_io(env: ScenarioEnv, orb: Orb, id = 'S2'): number {
  const c = env.client;
  let cc = c.ssch(orb);
  // cc 2 from the driver's -EBUSY: DASD retries the start later (a 0.5 s timer; here, after the
  // next eventfd wake-up or 1 ms). It happens when the user read a final IRB that io_todo copied
  // from the single IRB slot before it processed it (R2): see the S2.no-ebusy finding.
  for (let retry = 0; cc === 2 && retry < 100; retry++) {
    env.count('ssch.cc2');
    const ev = c.wait_io(1);
    if (ev !== null) c.tsch();
    cc = c.ssch(orb);
  }
  if (cc !== 0) {
    env.count(`ssch.cc${cc}`);
    return -2;
  }
  for (;;) {
    const ev = c.wait_io(IO_TIMEOUT_MS);
    if (ev === null) {
      env.count('lost');
      env.check(`${id}.no-lost-interrupt`, false, `no IRB within ${IO_TIMEOUT_MS} ms after ssch (state ${env.state_name()})`);
      return -1;
    }
    const t = c.tsch();
    // A stale signal can deliver an IRB the user's own region write zeroed (QEMU writes the
    // whole I/O region, IRB area zero, and vfio_ccw_mdev_write_io_region copies all of it): the
    // emulated SCSW then shows no status pending, TSCH answers cc 1 and the guest ignores it.
    if (t.cc !== 0 || t.irb === null) {
      env.count('spurious');
      continue;
    }
    const irb = t.irb;
    const w0 = new DataView(irb.buffer, irb.byteOffset, irb.byteLength).getUint32(0);
    if (scsw_is_final(w0)) {
      env.count('finals');
      return irb[8] ?? 0; // dstat
    }
    env.count('intermediates');
    if (env.result.notes.length < 8) env.note(`intermediate: region ${hex(ev.irb)} tsch ${hex(t.irb)}`);
  }
}

const hex = (b: Uint8Array | null): string => (b === null ? 'null' : Array.from(b.subarray(0, 12), (x) => x.toString(16).padStart(2, '0')).join(''));
