// What the scenarios compare before and after a step: the driver's state by its role, the
// driver's and the machine's counters, and whether the channel program was freed. Every read
// here is a checker's peek: no hook, no schedule point.
import { peek } from '../../kernel/index.ts';
import { HW_IRQ_KINDS, type Hw } from '../../hw/layout.ts';
import type { ScenarioEnv } from '../env.ts';

/** A check made in a loop: only a failure is recorded (one entry each), so a long run does not carry thousands of passes. */
export function expect(env: ScenarioEnv, id: string, ok: boolean, message: string): void {
  if (!ok) env.check(id, false, message);
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
