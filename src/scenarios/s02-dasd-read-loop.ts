// S2: steady DASD read loop with intermediate interrupts.
// User 0 is the guest's vCPU (ssch, wait for the final IRB, tsch, next); further users are
// client threads that read the schib and I/O regions meanwhile, contending for io_mutex.
import { peek } from '../kernel/index.ts';
import { basic_sense, dasd_read } from '../client/guest.ts';
import { DEV_STAT_UNIT_CHECK } from '../uapi/scsw.ts';
import type { ProgramCtx } from '../runtime/context.ts';
import { run_user, type ScenarioEnv, type UserArgs, type UserResult } from './env.ts';
import type { Scenario } from './types.ts';
import { one_io } from './lib/index.ts';

export const scenario: Scenario = {
  id: 'S2',
  slug: 'dasd-read-loop',
  title: 'Steady DASD read loop with intermediate interrupts',
  module: import.meta.url,
  users: { min: 1, default: 2 },
  iterations: 10_000,
  hw: { start_latency_us: [50, 2000], p_pci: 0.05, p_error: 0.01, p_isic: 0 },
  check: (results, stats) => {
    const u0 = results[0];
    const cycles = u0?.counters.cycles ?? 0;
    return [
      { id: 'S2.cycles', ok: cycles > 0, message: `${cycles} I/O cycles completed` },
      { id: 'S2.finals-reach-user', ok: (stats['hw.start_final'] ?? 0) <= (u0?.counters.finals ?? 0) + (u0?.counters.lost ?? 0) + 1, message: `${stats['hw.start_final']} final IRBs raised, ${u0?.counters.finals} read by the user` },
    ];
  },
};

export function user(ctx: ProgramCtx, args: UserArgs): UserResult {
  return run_user(ctx, args, (env) => {
    if (env.user !== 0) return monitor(env);
    env.wait_hw_running();
    const r = env.realize('S2');
    if (!r.ok) {
      env.set_flag(0, 1);
      return;
    }
    env.barrier();
    let i = 0;
    for (; env.more(i); i++) {
      const pci = env.rng.chance(0.05);
      const maxBlocks = typeof env.args.params.max_blocks === 'number' ? env.args.params.max_blocks : 64;
      const prog = env.program(dasd_read({ blocks: env.rng.range([1, maxBlocks]), pci }));
      const dstat = one_io(env, prog.orb);
      if (dstat === -1) break;
      if (dstat >= 0 && (dstat & DEV_STAT_UNIT_CHECK) !== 0) {
        env.count('sense');
        one_io(env, env.program(basic_sense()).orb);
      }
      env.count('cycles');
    }
    env.set_flag(0, 1); // tell the monitors we are done
    // They stop reading before the close: a read() holds a reference to the file, and the
    // vfio core's close runs only once the last reference is gone.
    if (!env.wait_flag(1, (n) => n >= env.args.users - 1)) env.note('monitors did not stop in time');
    const busy = env.client.counters.results.io_write['-EBUSY'] ?? 0;
    env.check(
      'S2.no-ebusy',
      busy === 0,
      `${busy} -EBUSY answer(s) to a start issued after the user read a final IRB: io_todo judged an intermediate IRB not final, then copied the final one that fsm_irq had meanwhile written into the single IRB slot (R2), and signalled before the run that frees the cp and sets IDLE`,
    );
    env.client.unrealize();
    const pinned = peek(env.p.cp.v.pinned_pages);
    env.check('S2.no-pinned-after-close', pinned === 0, `I6: ${pinned} pages still pinned when close returned (fsm_close's cp_free does not wait for an io_todo that is freeing the same channel program; no workqueue flush orders them when the disable succeeds at once)`);
  });
}

/** A second client thread: schib and I/O region reads while user 0 works. */
function monitor(env: ScenarioEnv): void {
  env.barrier();
  let n = 0;
  while (env.flag(0) === 0 && !env.stop_requested()) {
    const rc = n % 2 === 0 && env.f.regions === 'io+async+schib+crw' ? env.client.read_schib() : env.client.read_io_region();
    env.count(typeof rc === 'number' && rc < 0 ? `read.err${rc}` : 'reads');
    n++;
    env.relax();
  }
  env.add_flag(1, 1);
}

