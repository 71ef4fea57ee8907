// S4: guest timeout -> CSCH during a pending start, as dasd_term_IO does.
// The device hangs (it never ends a start by itself). Variant A races the start's final IRQ
// with the guest's csch; which of the orderings the threads produce is recorded per attempt.
import { dasd_read } from '../client/guest.ts';
import { DEV_STAT_ATTENTION, SCSW_STCTL_STATUS_PEND } from '../uapi/scsw.ts';
import { hw_wait_until, HwIrq } from '../hw/layout.ts';
import type { ProgramCtx } from '../runtime/context.ts';
import { run_user, type ScenarioEnv, type UserArgs, type UserResult } from './env.ts';
import type { Scenario } from './types.ts';
import { CE_DE, FC, cp_clean, drain_io, expect, irb_str, marks, next_irb, pending_name, scripted_io, settle, state, taken, wait_final, type IrbInfo, ssch, refused_by_fault } from './lib/index.ts';

export const scenario: Scenario = {
  id: 'S4',
  slug: 'timeout-clear',
  title: 'Guest timeout -> CSCH during a pending start (DASD term_IO)',
  module: import.meta.url,
  users: { min: 1, default: 1 },
  /** attempts of variant A (start final vs csch) */
  iterations: 20,
  hw: { hung: true },
  requires: (f) => (f.regions === 'io' ? 'no async command region before v5.2: QEMU emulates csch itself and the host I/O keeps running' : null),
};

export function user(ctx: ProgramCtx, args: UserArgs): UserResult {
  return run_user(ctx, args, (env) => {
    env.wait_hw_running();
    const c = env.client;
    const r = env.realize('S4');
    if (!r.ok) return;
    const timeout_ms = Number(args.params.timeout_ms ?? 20);

    // 1-4. ssch on a hung device, the guest's timeout, csch
    const m0 = marks(env);
    const prog = env.program(dasd_read({ blocks: 8 }));
    const { v: cc, fault } = env.faulted(() => ssch(env, prog.orb));
    // a start refused under a failure injected into it: the kernel's answer; nothing to time out
    const refused = refused_by_fault(env, fault, cc);
    env.check_answer('S4.ssch', cc === 0 && state(env) === pending_name(env), refused, `ssch cc ${cc}, state ${state(env)}`);
    if (refused) {
      env.note('S4: the first start was refused under an injected failure; the scenario stops');
      c.unrealize();
      return;
    }
    const early = next_irb(env, timeout_ms);
    env.check('S4.hung', early === null, early === null ? `no IRB within ${timeout_ms} ms` : `unexpected ${irb_str(early)}`);
    // held: the clear interrupt waits, so the state right after the write is the driver's answer alone
    env.hw({ op: 'hold' });
    const ok0 = c.counters.results.cmd_write.ok ?? 0;
    const ccc = c.csch();
    const st = state(env);
    env.check('S4.csch-keeps-state', ccc === 0 && (c.counters.results.cmd_write.ok ?? 0) === ok0 + 1 && st === pending_name(env), `guest csch cc ${ccc}, cmd write ok ${(c.counters.results.cmd_write.ok ?? 0) - ok0}, state ${st}`);
    env.hw({ op: 'release' });
    const f = wait_final(env);
    const m1 = marks(env);
    const clean = cp_clean(env);
    env.check(
      'S4.clear-irb',
      f.final !== null && f.final.fctl === FC.clear && f.final.actl === 0 && f.final.stctl === SCSW_STCTL_STATUS_PEND && f.final.dstat === 0 && f.final.cstat === 0,
      f.final === null ? 'no clear IRB' : irb_str(f.final),
    );
    env.check('S4.clear-frees', state(env) === 'IDLE' && m1.gen === m0.gen + 1 && clean.ok, `state ${state(env)}; ${clean.message}`);
    const prog2 = env.program(dasd_read({ blocks: 4 }));
    const { v: next, fault: fault2 } = env.faulted(() => scripted_io(env, prog2.orb, { dstat: CE_DE }));
    env.check_answer(
      'S4.next-ssch',
      next.cc === 0 && next.final !== null && next.final.fctl === FC.start && state(env) === 'IDLE',
      refused_by_fault(env, fault2, next.cc),
      `ssch cc ${next.cc}, ${next.final === null ? 'no final' : irb_str(next.final)}`,
    );

    // Variant A: the start's final reached fsm_irq just before the csch
    for (let i = 0; env.more(i); i++) variant_a(env);

    // Variant B: status pending at the machine -> ssch -EBUSY (guest cc 2) -> csch at once -> restart
    variant_b(env);

    c.unrealize();
  });
}

function variant_a(env: ScenarioEnv): void {
  const c = env.client;
  const m0 = marks(env);
  env.hw({ op: 'hold' });
  const prog = env.program(dasd_read({ blocks: 4 }));
  const { v: cc, fault } = env.faulted(() => ssch(env, prog.orb));
  if (cc !== 0) {
    env.hw({ op: 'release' });
    env.check_answer('S4.A-ssch', false, refused_by_fault(env, fault, cc), `ssch refused (cc ${cc})`);
    return;
  }
  env.hw({ op: 'complete', kind: 'final', dstat: CE_DE });
  env.hw({ op: 'release' });
  // the host took the final (fsm_irq is running or done); io_todo may or may not have run
  hw_wait_until(env.p.sch.hw, (h) => taken(h) > m0.taken, 10_000);
  const before = marks(env).irbs - m0.irbs;
  const ccc = c.csch();
  settle(env, m0.taken + 2);
  const seen: IrbInfo[] = drain_io(env);
  const runs = marks(env).irbs - m0.irbs;
  const order = runs === 1 ? 'coalesced' : before === 0 ? 'T-after-csch' : 'T-between';
  env.count(`A.${order}`);
  const clean = cp_clean(env);
  const clear_at = seen.findIndex((s) => (s.fctl & FC.clear) !== 0);
  const start_after_clear = clear_at >= 0 && seen.slice(clear_at + 1).some((s) => s.fctl === FC.start);
  expect(env, 'S4.A-csch', ccc === 0, `guest csch cc ${ccc}`);
  expect(env, 'S4.A-cp-once', marks(env).gen === m0.gen + 1 && clean.ok, `${order}: ${clean.message}`);
  expect(env, 'S4.A-no-start-after-clear', clear_at >= 0 && !start_after_clear, `${order}: the user saw ${seen.map(irb_str).join(', ')}`);
  if (runs === 1) expect(env, 'S4.A-coalesced-clear-only', seen.length === 1 && clear_at === 0, `coalesced, the user saw ${seen.map(irb_str).join(', ')}`);
  expect(env, 'S4.A-idle', state(env) === 'IDLE', `${order}: state ${state(env)}`);
}

function variant_b(env: ScenarioEnv): void {
  const c = env.client;
  const hw = env.p.sch.hw;
  const m0 = marks(env);
  const made0 = hw.at('made', HwIrq.unsolicited);
  const taken0 = hw.at('taken', HwIrq.unsolicited);
  const disc0 = hw.get('discarded_csch');
  const busy0 = c.counters.results.io_write['-EBUSY'] ?? 0;
  env.hw({ op: 'hold' });
  // an attention the host has not taken yet: status pending at the subchannel
  env.hw({ op: 'unsolicited', dstat: DEV_STAT_ATTENTION });
  const prog = env.program(dasd_read({ blocks: 2 }));
  const { v: cc, fault } = env.faulted(() => ssch(env, prog.orb));
  const busy = (c.counters.results.io_write['-EBUSY'] ?? 0) - busy0;
  // cp_init and cp_prefetch run before the ssch that meets the status pending: a failure injected there answers first
  const refused = refused_by_fault(env, fault, cc);
  env.check_answer(
    'S4.B-ebusy',
    cc === 2 && busy === 1 && state(env) === 'IDLE' && !marks(env).initialized,
    refused,
    `guest ssch cc ${cc} (${busy} -EBUSY), state ${state(env)}, cp initialized ${marks(env).initialized}`,
  );
  const ccc = c.csch();
  env.hw({ op: 'release' });
  const f = wait_final(env);
  env.check(
    'S4.B-clear-discards',
    ccc === 0 && f.final !== null && (f.final.fctl & FC.clear) !== 0 && hw.get('discarded_csch') === disc0 + 1 && hw.at('made', HwIrq.unsolicited) === made0 + 1 && hw.at('taken', HwIrq.unsolicited) === taken0,
    `csch cc ${ccc}, ${f.final === null ? 'no IRB' : irb_str(f.final)}, discarded by csch ${hw.get('discarded_csch') - disc0}, attention taken ${hw.at('taken', HwIrq.unsolicited) - taken0}`,
  );
  const g1 = marks(env).gen;
  const prog2 = env.program(dasd_read({ blocks: 2 }));
  const { v: again, fault: fault2 } = env.faulted(() => scripted_io(env, prog2.orb, { dstat: CE_DE }));
  const clean = cp_clean(env);
  // two cp_init: the refused start built (and freed) one too (unless an injected failure came before its cp_init)
  const inits = refused ? 1 + (g1 - m0.gen) : 2;
  env.check_answer(
    'S4.B-restart',
    again.cc === 0 && again.final !== null && state(env) === 'IDLE' && marks(env).gen === m0.gen + inits && clean.ok,
    refused_by_fault(env, fault2, again.cc),
    `restart cc ${again.cc}, state ${state(env)}, cp_init ${marks(env).gen - m0.gen}; ${clean.message}`,
  );
}
