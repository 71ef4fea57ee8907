// S8: close or reset with I/O in flight: vfio_ccw_sch_quiesce ends it.
// The device never ends a start by itself, so every I/O is still running when the guest closes
// or resets. Halts and clears are answered unless the run says otherwise (hw halt: 'ignore'
// gives the "H ignores halts, answers the first csch" variant: 3 × 3 s of waiting).
import { peek } from '../kernel/index.ts';
import { dasd_read } from '../client/guest.ts';
import { HwInstr, HwIrq, HwStartEnd } from '../hw/layout.ts';
import type { ProgramCtx } from '../runtime/context.ts';
import { run_user, type ScenarioEnv, type UserArgs, type UserResult } from './env.ts';
import type { Scenario } from './types.ts';
import { CE_DE, FC, cp_clean, drain_io, irb_str, marks, start_case, state, wait_begun } from './lib/index.ts';

export const scenario: Scenario = {
  id: 'S8',
  slug: 'close-in-flight',
  title: 'Close or reset with I/O in flight (quiesce)',
  module: import.meta.url,
  users: { min: 1, default: 1 },
  iterations: 1,
  hw: { hung: true },
};

export function user(ctx: ProgramCtx, args: UserArgs): UserResult {
  return run_user(ctx, args, (env) => {
    env.wait_hw_running();
    for (let i = 0; env.more(i); i++) {
      if (!close_active(env)) return;
      if (!close_status_pending(env)) return;
      if (env.f.reset === 'close+open') reset_active(env);
      else env.not_applicable('S8 step 4: reset before v6.0 is quiesce + enable, not CLOSE + OPEN');
    }
  });
}

/** Hot-plug: realize, then the device reset QEMU does for a plugged device (it also gives the emulated subchannel a fresh SCSW). */
function open(env: ScenarioEnv, id: string): boolean {
  const { r, excused } = env.realize_or_excuse(id);
  if (excused) return false;
  // from v6.0 the reset is CLOSE + OPEN, whose region registration may fail under injection
  const { v: rc, fault } = r.ok ? env.faulted(() => env.client.reset()) : { v: 0, fault: false };
  env.check_answer(`${id}-open`, r.ok && rc === 0 && state(env) === 'IDLE', fault && rc < 0, r.ok ? `reset ${rc}, state ${state(env)}` : (r.error ?? 'realize failed'));
  return r.ok;
}

/** The case's start, or null (the device closed again) when an injected failure refused it. */
function start_or_close(env: ScenarioEnv, id: string): number | 'pgm' | 'ue' | null {
  const cc = start_case(env, id, env.program(dasd_read({ blocks: 8 })).orb);
  if (cc === null) env.client.unrealize();
  return cc;
}

/** 1-2. close while the start runs at the device: disable busy -> xsch cc 2 -> hsch -> halt IRQ -> T (no trigger) -> disable. */
function close_active(env: ScenarioEnv): boolean {
  if (!open(env, 'S8.1')) return false;
  const c = env.client;
  const hw = env.p.sch.hw;
  const cc = start_or_close(env, 'S8.close-terminates');
  if (cc === null) return true;
  const begun = cc === 0 && wait_begun(env);
  const m0 = marks(env);
  const x0 = hw.at('n_instr', HwInstr.xsch);
  const h0 = hw.at('n_instr', HwInstr.hsch);
  const s0 = hw.at('n_instr', HwInstr.csch);
  const u = c.unrealize();
  const m1 = marks(env);
  const clean = cp_clean(env);
  const ended = hw.get('start_open') === 0;
  env.check('S8.close-terminates', begun && ended && state(env) === 'STANDBY' && clean.ok, `ssch cc ${cc}, begun ${begun}, start ended ${ended}, state ${state(env)}; ${clean.message}`);
  env.check(
    'S8.close-quiesce',
    hw.at('n_instr', HwInstr.xsch) - x0 === 1 && (hw.at('n_instr', HwInstr.hsch) - h0 >= 1 || hw.at('n_instr', HwInstr.csch) - s0 >= 1),
    `quiesce issued xsch ${hw.at('n_instr', HwInstr.xsch) - x0}, hsch ${hw.at('n_instr', HwInstr.hsch) - h0}, csch ${hw.at('n_instr', HwInstr.csch) - s0}; start ended by halt ${hw.at('start_end', HwStartEnd.halt)}, clear ${hw.at('start_end', HwStartEnd.clear)}`,
  );
  env.check('S8.close-no-signal', m1.signals === m0.signals && m1.irbs > m0.irbs, `${m1.signals - m0.signals} IO signals after SET_IRQS fd=-1 (io_todo ran ${m1.irbs - m0.irbs} times)`);
  env.check('S8.close-regions', peek(env.p.v.num_regions) === 0 && u.set_irqs.every((s) => s.rc === 0), `${peek(env.p.v.num_regions)} regions registered after close`);
  return true;
}

/** Variant: status pending at disable time: the host's TSCH throws it away, the IRB is never delivered. */
function close_status_pending(env: ScenarioEnv): boolean {
  if (!open(env, 'S8.2')) return false;
  const c = env.client;
  const hw = env.p.sch.hw;
  const disc0 = hw.get('discarded_msch');
  const m0 = marks(env);
  env.hw({ op: 'hold' });
  const cc = start_or_close(env, 'S8.pending-discarded');
  if (cc === null) {
    env.hw({ op: 'release' });
    return true;
  }
  env.hw({ op: 'complete', kind: 'final', dstat: CE_DE });
  const made = hw.at('made', HwIrq.start_final);
  c.unrealize();
  env.hw({ op: 'release' });
  const m1 = marks(env);
  const clean = cp_clean(env);
  env.check(
    'S8.pending-discarded',
    cc === 0 && hw.get('discarded_msch') === disc0 + 1 && hw.at('made', HwIrq.start_final) === made && m1.taken === m0.taken && m1.irbs === m0.irbs && state(env) === 'STANDBY' && clean.ok,
    `ssch cc ${cc}, discarded by the disable ${hw.get('discarded_msch') - disc0}, interrupts taken ${m1.taken - m0.taken}, io_todo ${m1.irbs - m0.irbs}, state ${state(env)}; ${clean.message}`,
  );
  return true;
}

/** 4. DEVICE_RESET (guest reboot) with the eventfds still registered: CLOSE quiesces, the halt IRB is signalled, OPEN. */
function reset_active(env: ScenarioEnv): void {
  if (!open(env, 'S8.4')) return;
  const c = env.client;
  const cc = start_or_close(env, 'S8.reset');
  if (cc === null) return;
  const begun = cc === 0 && wait_begun(env);
  const m0 = marks(env);
  const rc = c.reset();
  const m1 = marks(env);
  const clean = cp_clean(env);
  env.check('S8.reset', begun && rc === 0 && state(env) === 'IDLE' && clean.ok && env.p.sch.hw.get('start_open') === 0, `begun ${begun}, reset ${rc}, state ${state(env)}; ${clean.message}`);
  // the halt (or clear) IRB of the quiesce reached the user: the trigger was still set
  const seen = drain_io(env);
  const last = seen[seen.length - 1];
  env.check(
    'S8.reset-signal',
    m1.signals > m0.signals && last !== undefined && (last.fctl & (FC.halt | FC.clear)) !== 0,
    `${m1.signals - m0.signals} IO signals during the reset; the user read ${seen.map(irb_str).join(', ') || 'nothing'}`,
  );
  c.unrealize();
  env.check('S8.reset-close', state(env) === 'STANDBY', `state after close ${state(env)}`);
}
