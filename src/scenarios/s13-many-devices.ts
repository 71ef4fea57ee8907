// S13: steady I/O on many devices while one of them is closed or reset (issue 12, item 4).
// The users are vCPUs spread over the devices (user u drives devices u, u + users, ...); each
// round every user runs one DASD read on each of its devices. Every few rounds user 0 closes its
// first device and opens it again, or resets it. The devices share the driver's one ordered
// workqueue and one interrupt path, so that device's quiesce (flush_workqueue, where the variant
// has one) waits for the io_todo work the other devices queued, and their work waits behind its own.
//
//   user 0 (device 0)                         user 1 (device 1)
//   close: fsm_close -> quiesce                ssch ... IRQ -> queue_work(io_work of dev 1)
//          flush_workqueue(vfio_ccw_work_q)    (io_todo of dev 1 runs first: the flush waits)
import { basic_sense, dasd_read } from '../client/guest.ts';
import { DEV_STAT_UNIT_CHECK } from '../uapi/scsw.ts';
import type { ProgramCtx } from '../runtime/context.ts';
import { peek } from '../kernel/index.ts';
import { run_user, type ScenarioEnv, type UserArgs, type UserResult } from './env.ts';
import { one_io } from './lib/index.ts';
import type { Scenario } from './types.ts';

export const scenario: Scenario = {
  id: 'S13',
  slug: 'many-devices',
  title: 'Steady I/O on many devices while one of them is closed or reset',
  module: import.meta.url,
  users: { min: 1, default: 2 },
  iterations: 10_000,
  hw: { start_latency_us: [50, 500], p_pci: 0.05, p_error: 0.01, p_isic: 0 },
  check: (results) => {
    const cycles = results.reduce((n, r) => n + (r.counters.cycles ?? 0), 0);
    // a user stopped because an injected failure made its realize fail (the others then idle or stop at their own)
    const stopped = results.some((r) => (r.counters['fault.realize_failed'] ?? 0) > 0);
    return [{ id: 'S13.cycles', ok: cycles > 0 || stopped, message: `${cycles} I/O cycles completed` }];
  },
};

/** Rounds between two closes (or resets) of user 0's first device; a parameter (`every`) may change it. */
const EVERY = 4;

export function user(ctx: ProgramCtx, args: UserArgs): UserResult {
  return run_user(ctx, args, (env) => {
    env.wait_hw_running();
    // with more users than devices, a device is the first user's to open and drive; the rest idle
    const owned = env.user < env.devices ? env.my_devices() : [];
    for (const d of owned) {
      env.use(d);
      const { r, excused } = env.realize_or_excuse('S13');
      if (excused) {
        // the kernel's answer to an injected failure: meet the others (they wait at the barrier), then stop
        for (const o of owned) {
          env.use(o);
          if (env.client.realized) env.client.unrealize();
        }
        env.barrier();
        return;
      }
      env.check('S13.realize', r.ok, r.error ?? 'realized');
      if (!r.ok) return;
    }
    env.barrier();
    const every = typeof env.args.params.every === 'number' ? env.args.params.every : EVERY;
    let closes = 0;
    // every device does at least one I/O, however long opening them all took
    for (let i = 0; owned.length > 0 && (i === 0 || env.more(i)); i++) {
      for (const d of owned) {
        env.use(d);
        if (!io_cycle(env)) return;
      }
      if (env.user === 0 && (i + 1) % every === 0) {
        env.use(owned[0]!);
        if (!(closes % 2 === 0 ? close_and_open(env) : reset(env))) return;
        closes++;
      }
    }
    for (const d of owned) {
      env.use(d);
      env.client.unrealize();
      const pinned = peek(env.p.cp.v.pinned_pages);
      env.check('S13.no-pinned-after-close', pinned === 0, `${pinned} pages still pinned when close returned`);
    }
  });
}

/** One DASD read (and the sense a unit check asks for); false if an interrupt was lost. */
function io_cycle(env: ScenarioEnv): boolean {
  const prog = env.program(dasd_read({ blocks: env.rng.range([1, 16]), pci: env.rng.chance(0.05) }));
  const dstat = one_io(env, prog.orb, 'S13');
  if (dstat === -1) return false;
  if (dstat >= 0 && (dstat & DEV_STAT_UNIT_CHECK) !== 0) {
    env.count('sense');
    one_io(env, env.program(basic_sense()).orb, 'S13');
  }
  env.count('cycles');
  return true;
}

/** Close the device (QEMU's unplug: the eventfds, then the device FD) while the others run, then open it again. */
function close_and_open(env: ScenarioEnv): boolean {
  env.client.unrealize();
  env.count('closes');
  const pinned = peek(env.p.cp.v.pinned_pages);
  env.check('S13.no-pinned-after-close', pinned === 0, `${pinned} pages still pinned when close returned`);
  const { r, excused } = env.realize_or_excuse('S13.reopen');
  if (!excused) env.check('S13.reopen', r.ok, r.ok ? 'opened again' : (r.error ?? 'realize failed'));
  return r.ok;
}

/** VFIO_DEVICE_RESET while the others run (QEMU ignores its result, so the scenario does too). */
function reset(env: ScenarioEnv): boolean {
  env.client.reset();
  env.count('resets');
  return true;
}
