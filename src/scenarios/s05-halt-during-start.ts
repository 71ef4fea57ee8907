// S5: HSCH during a start: the device is scripted; the machine
// is held where a step needs the driver's answer before the interrupt.
import { dasd_read } from '../client/guest.ts';
import { SCSW_STCTL_STATUS_PEND } from '../uapi/scsw.ts';
import { HwStartEnd } from '../hw/layout.ts';
import type { ProgramCtx } from '../runtime/context.ts';
import { run_user, type ScenarioEnv, type UserArgs, type UserResult } from './env.ts';
import type { Scenario } from './types.ts';
import { CE_DE, FC, expect, SC_ENDED, cp_clean, drain_io, irb_str, marks, pending_name, settle, start_case, state, wait_begun, wait_final, type Marks } from './lib/index.ts';

export const scenario: Scenario = {
  id: 'S5',
  slug: 'halt-during-start',
  title: 'HSCH during a start',
  module: import.meta.url,
  users: { min: 1, default: 1 },
  /** rounds of the four cases */
  iterations: 5,
  hw: { hung: true },
  requires: (f) => (f.regions === 'io' ? 'no async command region before v5.2: QEMU emulates hsch itself and the host I/O keeps running' : null),
};

/** 1 Prefix + 39 Read MT: the spec's 40-CCW program */
const PROGRAM = () => dasd_read({ blocks: 39 });

export function user(ctx: ProgramCtx, args: UserArgs): UserResult {
  return run_user(ctx, args, (env) => {
    env.wait_hw_running();
    const r = env.realize('S5');
    if (!r.ok) return;
    for (let i = 0; env.more(i); i++) {
      halt_active(env);
      halt_not_begun(env);
      variant_a(env);
      variant_b(env);
    }
    const hw = env.p.sch.hw;
    const ends = [0, 1, 2, 3, 4].reduce((s, k) => s + hw.at('start_end', k), 0);
    env.check('S5.one-end-per-start', ends === hw.get('start_seq') && hw.get('start_open') === 0, `${hw.get('start_seq')} starts, ${ends} ended (final ${hw.at('start_end', HwStartEnd.final)}, halt ${hw.at('start_end', HwStartEnd.halt)})`);
    env.client.unrealize();
  });
}

/** Common end of a case: one start, its cp freed once, IDLE (never stuck in CP_PENDING). */
function done(env: ScenarioEnv, id: string, m0: Marks): void {
  const m = marks(env);
  const clean = cp_clean(env);
  expect(env, `${id}-idle`, state(env) === 'IDLE' && m.gen === m0.gen + 1 && m.starts === m0.starts + 1 && clean.ok, `state ${state(env)}, cp_init ${m.gen - m0.gen}, starts ${m.starts - m0.starts}; ${clean.message}`);
}

/** 1-3: the start runs at the device; hsch; halt IRQ with prim+sec and a CCW address inside the program. */
function halt_active(env: ScenarioEnv): void {
  const c = env.client;
  const m0 = marks(env);
  const prog = env.program(PROGRAM());
  const cc = start_case(env, 'S5.hsch-active', prog.orb);
  if (cc === null) return;
  const begun = cc === 0 && wait_begun(env);
  env.hw({ op: 'hold' });
  const hcc = c.hsch();
  const st = state(env);
  env.hw({ op: 'release' });
  expect(env, 'S5.hsch-active', cc === 0 && begun && hcc === 0 && st === pending_name(env), `ssch cc ${cc}, begun ${begun}, guest hsch cc ${hcc}, state after the write ${st}`);
  const f = wait_final(env).final;
  const inside = f !== null && f.cpa >= prog.cpa && f.cpa <= prog.end_cpa;
  expect(
    env,
    'S5.halt-irb-active',
    f !== null && (f.fctl & FC.halt) !== 0 && f.actl === 0 && f.stctl === SC_ENDED && f.dstat === CE_DE && inside,
    f === null ? 'no halt IRB' : `${irb_str(f)} (program ${prog.cpa.toString(16)}..${prog.end_cpa.toString(16)})`,
  );
  done(env, 'S5.active', m0);
}

/** The start had not begun: halt withdraws it, SC pending alone. */
function halt_not_begun(env: ScenarioEnv): void {
  const c = env.client;
  const m0 = marks(env);
  env.hw({ op: 'hold' });
  const cc = start_case(env, 'S5.hsch-pending', env.program(PROGRAM()).orb);
  if (cc === null) {
    env.hw({ op: 'release' });
    return;
  }
  const hcc = c.hsch();
  const st = state(env);
  env.hw({ op: 'release' });
  expect(env, 'S5.hsch-pending', cc === 0 && hcc === 0 && st === pending_name(env), `ssch cc ${cc}, guest hsch cc ${hcc}, state ${st}`);
  const f = wait_final(env).final;
  expect(env, 'S5.halt-irb-withdrawn', f !== null && (f.fctl & FC.halt) !== 0 && f.stctl === SCSW_STCTL_STATUS_PEND && f.dstat === 0, f === null ? 'no halt IRB' : irb_str(f));
  done(env, 'S5.withdrawn', m0);
}

/** Variant A: the start's final is pending at the machine: hsch cc 1 -> -EBUSY -> guest cc 2; the final follows. */
function variant_a(env: ScenarioEnv): void {
  const c = env.client;
  const m0 = marks(env);
  const busy0 = c.counters.results.cmd_write['-EBUSY'] ?? 0;
  env.hw({ op: 'hold' });
  const cc = start_case(env, 'S5.A-hsch-busy', env.program(PROGRAM()).orb);
  if (cc === null) {
    env.hw({ op: 'release' });
    return;
  }
  env.hw({ op: 'complete', kind: 'final', dstat: CE_DE });
  const hcc = c.hsch();
  const busy = (c.counters.results.cmd_write['-EBUSY'] ?? 0) - busy0;
  env.hw({ op: 'release' });
  expect(env, 'S5.A-hsch-busy', cc === 0 && hcc === 2 && busy === 1, `ssch cc ${cc}, guest hsch cc ${hcc}, ${busy} -EBUSY`);
  const f = wait_final(env).final;
  expect(env, 'S5.A-final', f !== null && f.fctl === FC.start && f.stctl === SC_ENDED && f.dstat === CE_DE, f === null ? 'no final IRB' : irb_str(f));
  done(env, 'S5.A', m0);
}

/** Variant B: hsch while IDLE (the final processed, not yet read): the halt IRB overwrites it. */
function variant_b(env: ScenarioEnv): void {
  const c = env.client;
  const m0 = marks(env);
  const cc = start_case(env, 'S5.B-hsch-idle', env.program(PROGRAM()).orb);
  if (cc === null) return;
  env.hw({ op: 'complete', kind: 'final', dstat: CE_DE });
  settle(env, m0.taken + 1);
  const st = state(env);
  const hcc = c.hsch();
  settle(env, m0.taken + 2);
  const seen = drain_io(env);
  const last = seen[seen.length - 1];
  expect(env, 'S5.B-hsch-idle', cc === 0 && st === 'IDLE' && hcc === 0 && state(env) === 'IDLE', `ssch cc ${cc}, state before hsch ${st}, guest hsch cc ${hcc}, state after ${state(env)}`);
  expect(
    env,
    'S5.B-halt-overwrites',
    seen.length === 1 && last !== undefined && (last.fctl & FC.halt) !== 0 && last.stctl === SCSW_STCTL_STATUS_PEND,
    `the user saw ${seen.map(irb_str).join(', ') || 'nothing'} (want the halt IRB only)`,
  );
  done(env, 'S5.B', m0);
}
