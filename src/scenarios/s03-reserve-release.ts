// S3: reserve / release on a shared DASD with unsolicited interrupts.
// The device is scripted (hung): every ending and every unsolicited status comes through the
// mailbox, so "while IDLE" and "while CP_PENDING" are exact, not timing.
import { basic_sense, dasd_read, rcd, release, reserve, steal_lock } from '../client/guest.ts';
import { DEV_STAT_ATTENTION, DEV_STAT_DEV_END, DEV_STAT_UNIT_CHECK, DEV_STAT_UNIT_EXCEP } from '../uapi/scsw.ts';
import { irb_sense } from '../uapi/irb.ts';
import type { ProgramCtx } from '../runtime/context.ts';
import { run_user, type ScenarioEnv, type UserArgs, type UserResult } from './env.ts';
import type { Scenario } from './types.ts';
import { CE_DE, expect, SC_UNSOLICITED, cp_clean, irb_str, marks, next_irb, pending_name, refused_by_fault, scripted_io, ssch, state, wait_final, type IrbInfo } from './lib/index.ts';

export const scenario: Scenario = {
  id: 'S3',
  slug: 'reserve-release',
  title: 'Reserve / release on a shared DASD with unsolicited interrupts',
  module: import.meta.url,
  users: { min: 1, default: 1 },
  /** reads between reserve and release */
  iterations: 1000,
  hw: { hung: true },
};

/** Sense byte 7 (format/message) 0x3F: reservation lost. */
const SENSE_RES_LOST = [0x10, 0, 0, 0, 0, 0, 0, 0x3f];
/** DASD "state change pending" */
const STATE_CHANGE = DEV_STAT_ATTENTION | DEV_STAT_DEV_END | DEV_STAT_UNIT_EXCEP;

export function user(ctx: ProgramCtx, args: UserArgs): UserResult {
  return run_user(ctx, args, (env) => {
    env.wait_hw_running();
    const r = env.realize('S3');
    if (!r.ok) return;
    const m0 = marks(env);
    let accepted = 0;
    // cp_init calls of starts refused under an injected failure (a pin failing after cp_init)
    let refused_inits = 0;
    const io = (spec: Parameters<ScenarioEnv['program']>[0], what: string): IrbInfo | null => {
      const prog = env.program(spec);
      const g0 = marks(env).gen;
      const { v: x, fault } = env.faulted(() => scripted_io(env, prog.orb, { dstat: CE_DE }));
      if (x.cc === 0) accepted++;
      // refused under a failure injected into this ssch: the kernel's answer, if it left IDLE and a free cp
      const excused = refused_by_fault(env, fault, x.cc);
      if (excused) refused_inits += marks(env).gen - g0;
      const msg = x.final === null ? `ssch cc ${x.cc}, no final IRB` : irb_str(x.final);
      env.check_answer(`S3.${what}`, x.cc === 0 && x.final !== null && x.final.dstat === CE_DE, excused, msg, false);
      return x.final;
    };

    // 1. reserve, then reads; unsolicited status while IDLE at three points
    io(reserve(), 'reserve');
    const n = Math.max(3, args.iterations);
    const at = new Map<number, () => void>([
      // reservation lost with concurrent sense: no Basic Sense needed; take the lock back
      [Math.floor(n / 4), () => {
        const u = unsolicited(env, DEV_STAT_UNIT_CHECK, SENSE_RES_LOST);
        const sense = u === null ? null : irb_sense(u.bytes);
        env.check('S3.reservation-lost-sense', sense !== null && sense[7] === 0x3f, sense === null ? 'no concurrent sense in the IRB' : `sense byte 7 = ${sense[7]?.toString(16)}`);
        io(steal_lock(), 'steal-lock');
      }],
      // the same without concurrent sense: the guest asks with Basic Sense, then reserves again
      [Math.floor(n / 2), () => {
        const u = unsolicited(env, DEV_STAT_UNIT_CHECK, null);
        if (u !== null && irb_sense(u.bytes) === null) io(basic_sense(), 'basic-sense');
        io(reserve(), 'reserve-again');
      }],
      // 4. state change pending: the guest reads the configuration again, per path
      [Math.floor((3 * n) / 4), () => {
        unsolicited(env, STATE_CHANGE, null);
        for (const lpm of [0x80]) io(rcd({ lpm }), 'rcd');
        io(rcd({ lpm: 0x80 }, 64), 'rcd-short');
      }],
    ]);
    for (let i = 0; env.more(i); i++) {
      at.get(i)?.();
      io(dasd_read({ blocks: env.rng.range([1, 16]) }), 'read');
      env.count('reads');
    }

    // 5. robustness: an unsolicited status while the start is active (not architectural)
    const g0 = marks(env).gen;
    if (busy_unsolicited(env)) accepted++;
    else refused_inits += marks(env).gen - g0;

    // 3. the guest ends with Release
    io(release(), 'release');

    const m1 = marks(env);
    const clean = cp_clean(env);
    env.check(
      'S3.cp-balanced',
      m1.gen - m0.gen === accepted + refused_inits && m1.starts - m0.starts === accepted && clean.ok,
      `${m1.gen - m0.gen} cp_init, ${m1.starts - m0.starts} starts at the machine, ${accepted} accepted` +
        `${refused_inits > 0 ? ` + ${refused_inits} cp_init refused by an injected failure` : ''}; ${clean.message}`,
    );
    env.client.unrealize();
  });
}

/** Unsolicited status while the driver is IDLE: T copies it, signals, and changes nothing else. */
function unsolicited(env: ScenarioEnv, dstat: number, sense: number[] | null): IrbInfo | null {
  const m0 = marks(env);
  const before = state(env);
  env.hw({ op: 'unsolicited', dstat, ...(sense !== null ? { sense } : {}) });
  const u = next_irb(env);
  const m1 = marks(env);
  env.count('unsolicited');
  expect(
    env,
    'S3.unsolicited-irb',
    u !== null && !u.solicited && u.fctl === 0 && u.stctl === SC_UNSOLICITED && u.dstat === dstat,
    u === null ? 'no IRB for the unsolicited status' : irb_str(u),
  );
  expect(
    env,
    'S3.unsolicited-state',
    before === 'IDLE' && state(env) === 'IDLE' && m1.gen === m0.gen && !m1.initialized && m1.irbs === m0.irbs + 1,
    `state ${before} -> ${state(env)}, cp_init ${m1.gen - m0.gen}, cp initialized ${m1.initialized}, io_todo runs ${m1.irbs - m0.irbs}`,
  );
  return u;
}

/**
 * S3 step 5: attention while CP_PENDING must leave the cp and the state alone; the real final then
 * ends the start. False only when the start was refused under a failure injected into its ssch.
 */
function busy_unsolicited(env: ScenarioEnv): boolean {
  env.hw({ op: 'hold' });
  const prog = env.program(dasd_read({ blocks: 8 }));
  const { v: cc, fault } = env.faulted(() => ssch(env, prog.orb));
  if (cc !== 0) {
    env.hw({ op: 'release' });
    const excused = refused_by_fault(env, fault, cc);
    env.check_answer('S3.busy-ssch', false, excused, `ssch cc ${cc}, state ${state(env)}, ${cp_clean(env).message}`);
    return !excused;
  }
  const m0 = marks(env);
  env.hw({ op: 'unsolicited', dstat: DEV_STAT_ATTENTION, busy: true });
  env.hw({ op: 'release' });
  const u = next_irb(env);
  const m1 = marks(env);
  env.check(
    'S3.busy-unsolicited-keeps-cp',
    u !== null && !u.solicited && state(env) === pending_name(env) && m1.initialized && m1.gen === m0.gen && m1.pinned === m0.pinned,
    `${u === null ? 'no IRB' : irb_str(u)}: state ${state(env)}, cp initialized ${m1.initialized}, generation ${m0.gen} -> ${m1.gen}, pages ${m0.pinned} -> ${m1.pinned}`,
  );
  env.hw({ op: 'complete', kind: 'final', dstat: CE_DE });
  const f = wait_final(env);
  env.check('S3.busy-final', f.final !== null && f.final.solicited && state(env) === 'IDLE' && cp_clean(env).ok, `${f.final === null ? 'no final' : irb_str(f.final)}, state ${state(env)}, ${cp_clean(env).message}`);
  return true;
}
