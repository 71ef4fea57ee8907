// S10: final and unsolicited interrupts back to back; a write before the read.
// A: the machine makes the final and an attention pending while held, then presents them back to
// back; whether io_todo runs in between is up to the threads, so each attempt records what the
// user got. When it does not, fsm_irq overwrites the final in the single IRB slot (R2): io_todo
// sees only the unsolicited IRB, frees nothing and leaves CP_PENDING, and the guest recovers with
// csch after its timeout. B (not QEMU): a region write zeroes an IRB the user has not read yet.
import { dasd_read } from '../client/guest.ts';
import { DEV_STAT_ATTENTION, SCSW_FCTL_START_FUNC } from '../uapi/scsw.ts';
import type { ProgramCtx } from '../runtime/context.ts';
import { run_user, type ScenarioEnv, type UserArgs, type UserResult } from './env.ts';
import type { Scenario } from './types.ts';
import { CE_DE, FC, cp_clean, drain_io, expect, irb_info, irb_str, marks, pending_name, settle, start_case, state, wait_final, type IrbInfo } from './lib/index.ts';

export const scenario: Scenario = {
  id: 'S10',
  slug: 'final-then-unsolicited',
  title: 'Final and unsolicited interrupts back to back; write before read',
  module: import.meta.url,
  users: { min: 1, default: 1 },
  /** attempts of part A */
  iterations: 20,
  hw: { hung: true },
};

export function user(ctx: ProgramCtx, args: UserArgs): UserResult {
  return run_user(ctx, args, (env) => {
    env.wait_hw_running();
    const r = env.realize('S10');
    if (!r.ok) return;
    for (let i = 0; env.more(i); i++) part_a(env);
    part_b(env);
    const m = marks(env);
    env.check('S10.no-double-free', m.unpinned_total <= m.pinned_total && cp_clean(env).ok, cp_clean(env).message);
    env.client.unrealize();
  });
}

const kind = (i: IrbInfo): string => (i.zero ? 'zero' : !i.solicited ? 'unsolicited' : i.final ? 'final' : 'intermediate');

function part_a(env: ScenarioEnv): void {
  const c = env.client;
  const m0 = marks(env);
  env.hw({ op: 'hold' });
  const cc = start_case(env, 'S10.A-ssch', env.program(dasd_read({ blocks: 4 })).orb);
  if (cc !== 0) {
    env.hw({ op: 'release' });
    if (cc !== null) env.check('S10.A-ssch', false, 'ssch refused');
    return;
  }
  env.hw({ op: 'complete', kind: 'final', dstat: CE_DE });
  // the attention stacks at the device until the final is taken, then is presented at once
  env.hw({ op: 'unsolicited', dstat: DEV_STAT_ATTENTION });
  env.hw({ op: 'release' });
  settle(env, m0.taken + 2);
  const seen = drain_io(env);
  const m1 = marks(env);
  const runs = m1.irbs - m0.irbs;
  const got = seen.map(kind).join('+') || 'nothing';
  const freed = !m1.initialized;
  env.count(`A.${runs === 1 ? 'one-run' : 'two-runs'}.${got}`);
  // no torn IRB: every IRB read is one the subchannel could store (status pending), or zero
  expect(env, 'S10.A-no-torn-irb', seen.every((s) => s.zero || s.pending), seen.map(irb_str).join(', '));
  if (freed) {
    expect(env, 'S10.A-delivered', state(env) === 'IDLE' && m1.gen === m0.gen + 1 && cp_clean(env).ok, `${got}: state ${state(env)}; ${cp_clean(env).message}`);
    return;
  }
  // the final was lost: the cp is still set up for a start that has ended at the device
  env.count('A.final_lost');
  if (env.result.notes.length < 4) env.note(`A: io_todo ran ${runs}x and the user got ${got}: the final IRB was overwritten in the single slot before io_todo read it; state ${state(env)}`);
  expect(env, 'S10.A-lost-final-state', state(env) === pending_name(env) && m1.gen === m0.gen + 1, `${got}: state ${state(env)}, cp_init ${m1.gen - m0.gen}`);
  if (c.regions.async === null) {
    env.not_applicable('S10 A: recovery by csch needs the async region');
    return;
  }
  // the guest's timeout: csch; the clear IRB frees the cp
  const ccc = c.csch();
  const f = wait_final(env).final;
  expect(env, 'S10.A-csch-recovers', ccc === 0 && f !== null && (f.fctl & FC.clear) !== 0 && state(env) === 'IDLE' && cp_clean(env).ok, `csch cc ${ccc}, ${f === null ? 'no IRB' : irb_str(f)}, state ${state(env)}; ${cp_clean(env).message}`);
}

/** B: T delivered an unsolicited IRB and signalled; the user writes a new ssch before reading it. */
function part_b(env: ScenarioEnv): void {
  const c = env.client;
  const m0 = marks(env);
  env.hw({ op: 'unsolicited', dstat: DEV_STAT_ATTENTION });
  settle(env, m0.taken + 1);
  const prog = env.program(dasd_read({ blocks: 2 }));
  const { v: rc, fault } = env.faulted(() => c.write_io_region(prog.orb, SCSW_FCTL_START_FUNC));
  if (fault && rc < 0 && state(env) === 'IDLE' && cp_clean(env).ok) {
    // refused under a failure injected into it (the kernel's answer): no start to end
    env.check_answer('S10.B-write-zeroes', false, true, `write ${rc}: the start was refused, so part B ends`, false);
    drain_io(env);
    return;
  }
  const rd = c.read_io_region();
  const irb = irb_info(rd.region.subarray(24, 24 + 96));
  env.count(irb.zero ? 'B.zero-irb' : `B.${kind(irb)}`);
  env.check('S10.B-write-zeroes', rc === rd.region.length && irb.zero && state(env) === pending_name(env), `write ${rc}, then the region holds ${irb_str(irb)}; state ${state(env)}`);
  env.hw({ op: 'complete', kind: 'final', dstat: CE_DE });
  settle(env, m0.taken + 2);
  const seen = drain_io(env);
  const last = seen[seen.length - 1];
  env.check(
    'S10.B-final',
    last !== undefined && last.final && last.fctl === FC.start && state(env) === 'IDLE' && cp_clean(env).ok,
    `the user read ${seen.map(irb_str).join(', ') || 'nothing'}; state ${state(env)}; ${cp_clean(env).message}`,
  );
}
