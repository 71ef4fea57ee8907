// S12: clear completion and a new start: a non-QEMU client
// (raw region writes; QEMU's emulated FC would refuse the ssch). The spec's step 3 "before T
// runs" is a window of microseconds between fsm_irq queueing io_work and io_todo starting: each
// attempt writes the ssch as soon as the clear interrupt has been presented and records which
// ordering happened. With the ssch in first, io_todo for the clear IRB sees CP_PENDING, takes the
// clear IRB (solicited, final) for the new start's ending, frees that cp and sets IDLE while the
// channel still runs the start:
//
//   U (raw client)                      H (irq)                      T (io_todo)
//   write {CSCH}, state stays IDLE
//                                       clear IRQ: fsm_irq,
//                                       irb = clear, queue io_work
//   write ssch: IDLE -> CP_PROCESSING
//   -> ssch cc 0 -> CP_PENDING
//                                                                    irb: solicited, final,
//                                                                    state CP_PENDING -> cp_free
//                                                                    (the new start's cp) -> IDLE
//                                       the start runs on freed CCWs and unpinned pages (I3)
import { dasd_read } from '../client/guest.ts';
import { EAGAIN, EBUSY } from '../uapi/errno.ts';
import { HwInstr, hw_wait_until } from '../hw/layout.ts';
import { SCSW_FCTL_START_FUNC } from '../uapi/scsw.ts';
import { CMD_REGION_SIZE, IO_REGION_SIZE, VFIO_CCW_ASYNC_CMD_CSCH } from '../uapi/vfio_ccw.ts';
import type { ProgramCtx } from '../runtime/context.ts';
import { run_user, type ScenarioEnv, type UserArgs, type UserResult } from './env.ts';
import type { Scenario } from './types.ts';
import { CE_DE, FC, cp_clean, drain_io, expect, irb_str, marks, pending_name, settle, state } from './lib/index.ts';

export const scenario: Scenario = {
  id: 'S12',
  slug: 'clear-then-start',
  title: 'Clear completion and a new start',
  module: import.meta.url,
  users: { min: 1, default: 1 },
  /** attempts at "the ssch before io_todo ran for the clear" */
  iterations: 50,
  hw: { hung: true },
  requires: (f) => (f.regions === 'io' ? 'no async command region before v5.2: no csch from the user' : null),
};

/** A raw client retries -EAGAIN (io_mutex held by io_todo's IRB copy) as QEMU does: at once, counted. */
function retry_eagain(env: ScenarioEnv, write: () => number): number {
  for (let k = 0; ; k++) {
    const rc = write();
    if (rc !== -EAGAIN || k >= 1_000_000) return rc;
    env.count('eagain_retries');
    env.relax();
  }
}

export function user(ctx: ProgramCtx, args: UserArgs): UserResult {
  return run_user(ctx, args, (env) => {
    env.wait_hw_running();
    const r = env.realize('S12');
    if (!r.ok) return;
    clear_in_progress(env);
    for (let i = 0; env.more(i); i++) attempt(env);
    env.client.unrealize();
  });
}

/** The machine held: the clear is still in progress, so the ssch gets cc 2 -> -EBUSY and nothing changes. */
function clear_in_progress(env: ScenarioEnv): void {
  const c = env.client;
  const m0 = marks(env);
  env.hw({ op: 'hold' });
  const rc = c.write_cmd(VFIO_CCW_ASYNC_CMD_CSCH);
  const st = state(env);
  const prog = env.program(dasd_read({ blocks: 4 }));
  const { v: rs, fault } = env.faulted(() => c.write_io_region(prog.orb, SCSW_FCTL_START_FUNC));
  const st2 = state(env);
  const m1 = marks(env);
  env.hw({ op: 'release' });
  env.check('S12.csch-idle', rc === CMD_REGION_SIZE && st === 'IDLE', `csch write ${rc}, state ${st}`);
  // cp_init and cp_prefetch run before the ssch: a failure injected there answers first (-ENOMEM, -EFAULT)
  const unchanged = st2 === 'IDLE' && !m1.initialized && m1.starts === m0.starts;
  env.check_answer('S12.ssch-busy-during-clear', rs === -EBUSY && unchanged, fault && rs < 0 && unchanged, `ssch write ${rs}, state ${st2}, cp initialized ${m1.initialized}`);
  settle(env, m0.taken + 1);
  const seen = drain_io(env);
  env.check('S12.clear-irb', seen.length === 1 && (seen[0]?.fctl ?? 0) === FC.clear && state(env) === 'IDLE', `${seen.map(irb_str).join(', ')}, state ${state(env)}`);
}

function attempt(env: ScenarioEnv): void {
  const c = env.client;
  const hw = env.p.sch.hw;
  const m0 = marks(env);
  const ssch0 = hw.at('n_instr', HwInstr.ssch);
  const rc = retry_eagain(env, () => c.write_cmd(VFIO_CCW_ASYNC_CMD_CSCH));
  expect(env, 'S12.csch', rc === CMD_REGION_SIZE, `csch write ${rc}`);
  const prog = env.program(dasd_read({ blocks: 4 }));
  // the clear interrupt has been presented to the host: fsm_irq is about to run or has run
  hw_wait_until(hw, (h) => h.get('presented') > m0.presented, 10_000);
  const before = marks(env).irbs - m0.irbs;
  const { v: rs, fault } = env.faulted(() => retry_eagain(env, () => c.write_io_region(prog.orb, SCSW_FCTL_START_FUNC)));
  const st = state(env);
  const m1 = marks(env);
  const issued = hw.at('n_instr', HwInstr.ssch) - ssch0;
  settle(env, m0.taken + 1);
  const after_clear = state(env);
  const m2 = marks(env);

  // cp_init never runs on an initialised cp: an -EBUSY without an ssch at the machine would be cp_init's
  expect(env, 'S12.no-cp-init-busy', rs !== -EBUSY || issued === 1, `ssch write -EBUSY but the driver issued ${issued} ssch`);
  if (rs !== IO_REGION_SIZE) {
    env.count(rs === -EBUSY ? 'attempt.ssch-cc1' : `attempt.ssch${rs}`);
    // IDLE and no cp whatever refused it; the errno may be that of a failure injected into this write
    const idle = state(env) === 'IDLE' && !m2.initialized;
    env.check_answer('S12.refused-idle', rs === -EBUSY && idle, fault && rs < 0 && idle, `ssch write ${rs}, state ${state(env)}`, false);
    drain_io(env);
    return;
  }
  const order = before === 0 && m1.irbs === m0.irbs ? 'ssch-before-T' : 'T-before-ssch';
  env.count(`attempt.${order}`);
  const stolen = after_clear === 'IDLE' && hw.get('start_open') === 1;
  if (stolen) env.count('attempt.cp-freed-under-running-start');
  expect(
    env,
    'S12.todo-frees-own-cp',
    !stolen && after_clear === pending_name(env) && m2.initialized && m2.gen === m0.gen + 1,
    stolen
      ? 'io_todo took the clear IRB (solicited, final) for the ending of the start issued after the clear: it freed that cp and set IDLE ' +
          'while the channel still runs the start (I3; the IRB slot says nothing about which function it ends)'
      : `after io_todo ran for the clear IRB: state ${after_clear} (right after the ssch write: ${st}), cp initialized ${m2.initialized}, cp_init ${m2.gen - m0.gen}`,
  );
  // 5. the start's final: IDLE, the cp freed (once), and the final reaches the user
  env.hw({ op: 'complete', kind: 'final', dstat: CE_DE });
  settle(env, m0.taken + 2);
  const seen = drain_io(env);
  const last = seen[seen.length - 1];
  const clean = cp_clean(env);
  expect(env, 'S12.no-lost-final', last !== undefined && last.final && last.fctl === FC.start, `the user read ${seen.map(irb_str).join(', ') || 'nothing'}`);
  expect(env, 'S12.idle-after-final', state(env) === 'IDLE' && clean.ok, `state ${state(env)}; ${clean.message}`);
}
