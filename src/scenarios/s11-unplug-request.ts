// S11: unplug request (REQ) while I/O runs User 1 is the vfio
// core removing the mdev: request(count) every few reads (the kernel's ~10 s) until the device
// is closed, then remove. User 0 is QEMU streaming reads; it looks at the REQ
// eventfd only while a start is outstanding, so the unplug always meets an I/O in flight, and
// ignores the first `ignore_req` signals (the spec's variant: REQ ignored, 4 signals).
import { vfio_ccw_mdev_remove, vfio_ccw_mdev_request } from '../driver/ops.ts';
import { dasd_read } from '../client/guest.ts';
import { HwStartEnd } from '../hw/layout.ts';
import { eventfd_stats, peek } from '../kernel/index.ts';
import type { ProgramCtx } from '../runtime/context.ts';
import { type ScenarioEnv, type UserArgs, type UserResult } from './env.ts';
import type { Scenario } from './types.ts';
import { CE_DE, cp_clean, expect, irb_str, start_case, state, two_users, wait_begun, wait_final } from './lib/index.ts';

export const scenario: Scenario = {
  id: 'S11',
  slug: 'unplug-request',
  title: 'Unplug request (REQ) while I/O runs',
  module: import.meta.url,
  users: { min: 2, default: 2 },
  /** reads before the host starts removing the mdev */
  iterations: 50,
  hw: { hung: true },
  requires: (f) => (f.irqs >= 3 ? null : 'no REQ irq (device request) before v5.11'),
};

const F_REMOVE = 0; // user 0 -> 1: start removing
const F_CLOSED = 1; // user 0: the device fd is closed
const F_GAVE_UP = 2; // user 1: stopped asking
const F_REMOVED = 3;
const F_READS = 4; // user 0: reads done (the clock of the request cadence)

export function user(ctx: ProgramCtx, args: UserArgs): UserResult {
  return two_users(ctx, args, 'S11', {
    guest,
    release: [F_REMOVE, F_CLOSED],
    other: admin,
  });
}

function guest(env: ScenarioEnv): void {
  const c = env.client;
  const ignore = Number(env.args.params.ignore_req ?? 3);
  const hw = env.p.sch.hw;
  let reqs = 0;
  let i = 0;
  for (;; i++) {
    if (i === env.args.iterations) env.set_flag(F_REMOVE, 1);
    if (env.flag(F_GAVE_UP) !== 0 || env.stop_requested()) break;
    const cc = start_case(env, 'S11.ssch', env.program(dasd_read({ blocks: env.rng.range([1, 16]) })).orb);
    // refused under a failure injected into it (the kernel's answer): on to the next read
    if (cc === null) {
      env.set_flag(F_READS, i + 1);
      continue;
    }
    if (cc !== 0) {
      expect(env, 'S11.ssch', false, `read ${i}: ssch cc ${cc}`);
      break;
    }
    // half the time the start has begun at the device, so the quiesce has to halt it rather than cancel it
    if (env.rng.chance(0.5)) wait_begun(env);
    // a start is outstanding: QEMU's main loop handles the REQ eventfd now
    if (c.poll_req()) {
      reqs++;
      if (reqs > ignore) break;
    }
    env.hw({ op: 'complete', kind: 'final', dstat: CE_DE });
    const f = wait_final(env).final;
    expect(env, 'S11.read', f !== null && f.dstat === CE_DE, f === null ? `read ${i}: no final IRB` : irb_str(f));
    env.count('reads');
    env.set_flag(F_READS, i + 1);
  }
  env.count('req_signals_seen', reqs);
  // 3. unplug with the start in flight: SET_IRQS fd=-1 (REQ, CRW, IO), close -> quiesce
  const io_fd = c.irq_fds.io;
  const req_fd = c.irq_fds.req;
  const ends0 = [HwStartEnd.final, HwStartEnd.halt, HwStartEnd.clear, HwStartEnd.xsch].map((k) => hw.at('start_end', k));
  const open0 = hw.get('start_open');
  c.unrealize();
  const io_signals_at_close = io_fd === null ? 0 : eventfd_stats(env.ctx.g, io_fd).signals;
  env.set_flag(F_CLOSED, 1);
  env.set_flag(F_READS, -1);
  const ends = [HwStartEnd.final, HwStartEnd.halt, HwStartEnd.clear, HwStartEnd.xsch].map((k, j) => hw.at('start_end', k) - (ends0[j] ?? 0));
  const how = ['final', 'halt', 'clear', 'xsch'].filter((_, j) => (ends[j] ?? 0) > 0).join('+') || 'nothing';
  env.count(`in_flight_ended_by.${how}`);
  const clean = cp_clean(env);
  // no REQ notifier when an injected eventfd failure made QEMU's realize go on without it: the
  // guest unplugged when the host gave up, between reads, so no start was in flight to quiesce
  const no_req = env.realize_faulted && io_fd !== null && req_fd === null;
  env.check_answer('S11.unplug-after-req', reqs === ignore + 1, no_req, `unplugged on REQ signal ${reqs} (ignoring ${ignore})`);
  const quiet = hw.get('start_open') === 0 && (ends[0] ?? 0) === 0 && state(env) === 'STANDBY' && clean.ok;
  env.check_answer(
    'S11.quiesce-ends-in-flight',
    open0 === 1 && quiet,
    no_req && open0 === 0 && quiet,
    `start in flight at close ${open0 === 1}; ended by ${how}; state ${state(env)}; ${clean.message}`,
  );
  env.wait_flag(F_REMOVED, (v) => v === 1, 60_000);
  const after = io_fd === null ? 0 : eventfd_stats(env.ctx.g, io_fd).signals;
  env.check('S11.no-io-signal-after-teardown', after === io_signals_at_close, `${after - io_signals_at_close} IO eventfd signals after the unplug`);
}

function admin(env: ScenarioEnv): void {
  env.wait_flag(F_REMOVE, (v) => v === 1, 60_000);
  // the kernel asks about every 10 s; here every `req_every` reads of the guest, so the cadence
  // is a handshake in free and controlled mode alike
  const every = Number(env.args.params.req_every ?? 5);
  const max = Number(env.args.params.max_requests ?? 200);
  let count = 0;
  let closed = false;
  for (; count < max && !closed; count++) {
    // remove cannot finish before close: the vfio core keeps asking
    vfio_ccw_mdev_request(env.p, count);
    const at = env.flag(F_READS);
    env.wait_flag(F_READS, (v) => v < 0 || v >= at + every, 60_000);
    closed = env.flag(F_CLOSED) === 1;
  }
  env.count('requests', count);
  if (!closed) {
    env.set_flag(F_GAVE_UP, 1);
    closed = env.wait_flag(F_CLOSED, (v) => v === 1, 60_000);
  }
  const open = peek(env.p.v.open_count);
  env.check('S11.remove-after-close', closed && open === 0, `closed ${closed}, ${open} device fds open when remove runs, after ${count} requests`);
  vfio_ccw_mdev_remove(env.p);
  env.check('S11.removed', peek(env.p.v.mdev) === 0 && state(env) === 'STANDBY', `mdev ${peek(env.p.v.mdev)}, state ${state(env)}`);
  env.set_flag(F_REMOVED, 1);
}
