// S6: -EAGAIN under io_mutex contention: a region write that finds io_mutex held (v5.2+).
// User 0 is the QEMU vCPU (its writes retry -EAGAIN at once, without limit). User 1 stands in
// for whoever else holds io_mutex: T copying an IRB, stretched ("T artificially slowed", step 4),
// then a second client thread reading the schib and CRW regions and writing the I/O region.
import { mutex_lock, mutex_unlock } from '../kernel/index.ts';
import { dasd_read } from '../client/guest.ts';
import { EAGAIN, EBUSY, EFAULT, ENOMEM } from '../uapi/errno.ts';
import { IO_SCSW, VFIO_CCW_ASYNC_CMD_CSCH } from '../uapi/vfio_ccw.ts';
import { SCSW_FCTL_START_FUNC } from '../uapi/scsw.ts';
import type { Orb } from '../uapi/orb.ts';
import type { ProgramCtx } from '../runtime/context.ts';
import { type ScenarioEnv, type UserArgs, type UserResult } from './env.ts';
import type { Scenario } from './types.ts';
import { FC, IO_TIMEOUT_MS, cp_clean, guest_io, irb_str, marks, state, two_users, wait_final } from './lib/index.ts';

export const scenario: Scenario = {
  id: 'S6',
  slug: 'eagain-contention',
  title: '-EAGAIN under io_mutex contention',
  module: import.meta.url,
  users: { min: 2, default: 2 },
  /** I/Os of user 0 in steps 3-4 */
  iterations: 2000,
  hw: { start_latency_us: [50, 500] },
  requires: (f) => (f.io_mutex ? null : 'no io_mutex before v5.2: region writes are not serialised and never answer -EAGAIN'),
};

// flags (sys.flags)
const F_DONE = 0; // user 0 finished its I/O
const F_HELD = 1; // user 1 holds io_mutex (value: step number)
const F_SEEN = 2; // user 0 saw -EAGAIN for that step (value: step number)
const F_THROUGH = 3; // user 0's retried request of that step went through (value: step number)
const F_FAULTED = 4; // failures injected into user 0 so far (set only when there was one)

const SITE = 'scenario_io_mutex_holder';

export function user(ctx: ProgramCtx, args: UserArgs): UserResult {
  return two_users(ctx, args, 'S6', {
    guest: writer,
    release: [F_DONE],
    failed: (env) => env.barrier(),
    other: holder,
  });
}

function writer(env: ScenarioEnv): void {
  const c = env.client;
  const timeout_ms = Number(env.args.params.timeout_ms ?? IO_TIMEOUT_MS);

  // 1. io region write while io_mutex is held: -EAGAIN, then QEMU's retry loop gets through
  const m0 = marks(env);
  env.wait_flag(F_HELD, (v) => v === 1);
  const prog = env.program(dasd_read({ blocks: 4 }));
  const raw = c.write_io_region(prog.orb, SCSW_FCTL_START_FUNC);
  env.check('S6.eagain-io', raw === -EAGAIN && state(env) === 'IDLE', `io region write under a held io_mutex: ${raw}, state ${state(env)}`);
  const retries0 = c.counters.eagain_retries;
  env.set_flag(F_SEEN, 1);
  const { v: io1, fault: fault1 } = guest_io_f(env, prog.orb, timeout_ms);
  env.count('step1.retries', c.counters.eagain_retries - retries0);
  env.set_flag(F_THROUGH, 1);
  const m1 = marks(env);
  env.check_answer(
    'S6.io-once',
    io1.outcome === 'final' && m1.starts === m0.starts + 1 && m1.gen === m0.gen + 1,
    fault1 && io1.outcome === 'error' && m1.starts === m0.starts && state(env) === 'IDLE' && cp_clean(env).ok,
    `${io1.outcome}: ${m1.starts - m0.starts} starts, ${m1.gen - m0.gen} cp_init after ${c.counters.eagain_retries - retries0} retries`,
  );

  // 2. the same for the cmd region ({CSCH} on an idle subchannel: one clear, one clear IRB)
  const clears0 = env.p.sch.hw.get('clear_seq');
  env.wait_flag(F_HELD, (v) => v === 2);
  const rawc = c.write_cmd(VFIO_CCW_ASYNC_CMD_CSCH);
  env.check('S6.eagain-cmd', rawc === -EAGAIN, `cmd region write under a held io_mutex: ${rawc}`);
  const retries1 = c.counters.eagain_retries;
  env.set_flag(F_SEEN, 2);
  const ccc = c.csch();
  env.count('step2.retries', c.counters.eagain_retries - retries1);
  env.set_flag(F_THROUGH, 2);
  const f = wait_final(env).final;
  const clears = env.p.sch.hw.get('clear_seq') - clears0;
  env.check('S6.csch-once', ccc === 0 && clears === 1 && f !== null && (f.fctl & FC.clear) !== 0, `guest csch cc ${ccc}, ${clears} clears at the machine, ${f === null ? 'no IRB' : irb_str(f)}`);

  // 3-4. streaming I/O while user 1 reads, writes and holds io_mutex at random
  const m2 = marks(env);
  let accepted = 0;
  // cp_init calls of starts refused under a failure injected into them (a pin failing after cp_init)
  let refused_inits = 0;
  const outcomes: Record<string, number> = {};
  for (let i = 0; env.more(i); i++) {
    const orb = env.program(dasd_read({ blocks: env.rng.range([1, 16]) })).orb;
    const g0 = marks(env).gen;
    const { v: io, fault } = guest_io_f(env, orb, timeout_ms);
    outcomes[io.outcome] = (outcomes[io.outcome] ?? 0) + 1;
    env.count(`io.${io.outcome}`);
    if (io.final !== null) accepted++;
    else {
      const excused = fault && io.outcome === 'error' && state(env) === 'IDLE' && cp_clean(env).ok;
      if (excused) refused_inits += marks(env).gen - g0;
      env.check_answer('S6.io-processed', false, excused, `I/O ${i}: ${io.outcome}`, false);
    }
  }
  env.set_flag(F_DONE, 1);
  const m3 = marks(env);
  const clean = cp_clean(env);
  env.check(
    'S6.every-request-once',
    m3.starts - m2.starts === accepted && m3.gen - m2.gen === accepted + refused_inits && clean.ok,
    `${accepted} I/Os ended (${JSON.stringify(outcomes)}), ${m3.starts - m2.starts} starts at the machine, ${m3.gen - m2.gen} cp_init` +
      `${refused_inits > 0 ? ` (${refused_inits} of starts refused by an injected failure)` : ''}; ${clean.message}`,
  );
  env.barrier();
  c.unrealize();
}

/**
 * guest_io, and whether a failure was injected into it. The count is published to user 1 only
 * once there was one (no flag write, so no schedule point, in a run without injection).
 */
function guest_io_f(env: ScenarioEnv, orb: Orb, timeout_ms: number): { v: ReturnType<typeof guest_io>; fault: boolean } {
  const r = env.faulted(() => guest_io(env, orb, timeout_ms));
  if (r.fault) env.set_flag(F_FAULTED, env.faults());
  return r;
}

/**
 * A partial write (FC 0) starts no function, so it answers the io region's ret_code as the last
 * request left it (vfio_ccw_mdev_write_io_region). When that request was user 0's, refused by a
 * failure injected into it, the stale -ENOMEM (cp_alloc) or -EFAULT (pin) is the kernel's answer:
 * wait (bounded) for user 0 to publish that it had one, as it does right after its write returns.
 */
function stale_injected_errno(env: ScenarioEnv, rc: number): boolean {
  return (rc === -ENOMEM || rc === -EFAULT) && env.wait_flag(F_FAULTED, (v) => v > 0, IO_TIMEOUT_MS);
}

/**
 * Hold on for a while. Free mode: a bounded wait of `ms` (a duration, not a handshake). Controlled
 * mode: virtual time does not pass while user 0 spins on -EAGAIN, so a timed wait could stall the
 * schedule; round trips to the machine's mailbox (a no-op command) take the time instead.
 */
function stretch(env: ScenarioEnv, ms: number): void {
  if (env.args.sched === true) {
    for (let k = 0; k < Math.max(1, Math.round(ms)); k++) env.hw({ op: 'release' });
  } else if (ms > 0) env.wait_flag(F_DONE, (v) => v !== 0, ms);
}

function holder(env: ScenarioEnv): void {
  const p = env.p;
  const hold_ms = Number(env.args.params.hold_ms ?? 2);
  for (const step of [1, 2]) {
    env.wait_flag(F_THROUGH, (v) => v === step - 1);
    mutex_lock(p.v.io_mutex, SITE);
    env.set_flag(F_HELD, step);
    env.wait_flag(F_SEEN, (v) => v === step);
    // T slowed: keep io_mutex a little longer while user 0 retries
    stretch(env, hold_ms);
    mutex_unlock(p.v.io_mutex, SITE);
  }
  // 3-4. a second client thread: blocking region reads, partial io writes, io_mutex held at random
  const ops = env.client.ops;
  const part = new Uint8Array(IO_SCSW + 12); // ORB + SCSW area, FC 0: an IO_REQ that starts nothing, irb_area untouched
  const results: Record<string, number> = {};
  let n = 0;
  while (env.flag(F_DONE) === 0 && !env.stop_requested()) {
    env.relax();
    const k = n++ % 8;
    if (k === 0 && env.f.regions === 'io+async+schib+crw') env.count(env.client.read_crw().rc >= 0 ? 'crw_reads' : 'crw_read_errors');
    else if (k < 4 && env.f.regions === 'io+async+schib+crw') env.count(env.client.read_schib().rc >= 0 ? 'schib_reads' : 'schib_read_errors');
    else if (k < 6) {
      const rc = ops.write(part, part.length, 0);
      const key = rc === part.length ? 'ok' : String(rc);
      results[key] = (results[key] ?? 0) + 1;
      // IDLE: the previous ret_code (0 -> count); CP_PENDING: -EBUSY; the mutex busy: -EAGAIN
      const ok = rc === part.length || rc === -EBUSY || rc === -EAGAIN;
      env.check_answer('S6.second-writer', ok, !ok && stale_injected_errno(env, rc), `partial io region write answered ${rc}`, false);
    } else if (k === 6) {
      mutex_lock(p.v.io_mutex, SITE);
      stretch(env, env.rng.range([0, 2]));
      mutex_unlock(p.v.io_mutex, SITE);
      env.count('holds');
    } else env.count(env.client.read_io_region().rc >= 0 ? 'io_reads' : 'io_read_errors');
  }
  for (const [k, v] of Object.entries(results)) env.count(`partial_write.${k}`, v);
  env.barrier();
}
