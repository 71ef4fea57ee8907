// S2: steady DASD read loop with intermediate interrupts (spec/client-and-hardware.md §8).
// User 0 is the guest's vCPU (ssch, wait for the final IRB, tsch, next); further users are
// client threads that read the schib and I/O regions meanwhile, contending for io_mutex.
import { peek } from '../kernel/index.ts';
import { basic_sense, dasd_read } from '../client/guest.ts';
import { DEV_STAT_UNIT_CHECK, scsw_is_final } from '../uapi/scsw.ts';
import type { ProgramCtx } from '../runtime/context.ts';
import { run_user, type ScenarioEnv, type UserArgs, type UserResult } from './env.ts';
import type { Scenario } from './types.ts';

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

const IO_TIMEOUT_MS = 10_000;

/** One I/O: ssch, then IRBs until a final one; returns the final IRB's device status, or -1 if lost. */
export function one_io(env: ScenarioEnv, orb: Parameters<ScenarioEnv['client']['ssch']>[0]): number {
  const c = env.client;
  let cc = c.ssch(orb);
  // cc 2 from the driver's -EBUSY: DASD retries the start later (a 0.5 s timer; here, after the
  // next eventfd wake-up or 1 ms). It happens when the user read a final IRB that io_todo copied
  // from the single IRB slot before it processed it (R2): see the S2.no-ebusy finding.
  for (let retry = 0; cc === 2 && retry < 100; retry++) {
    env.count('ssch.cc2');
    const ev = c.wait_io(1);
    if (ev !== null) c.tsch();
    cc = c.ssch(orb);
  }
  if (cc !== 0) {
    env.count(`ssch.cc${cc}`);
    return -2;
  }
  for (;;) {
    const ev = c.wait_io(IO_TIMEOUT_MS);
    if (ev === null) {
      env.count('lost');
      env.check('S2.no-lost-interrupt', false, `no IRB within ${IO_TIMEOUT_MS} ms after ssch (state ${env.state_name()})`);
      return -1;
    }
    const t = c.tsch();
    // A stale signal can deliver an IRB the user's own region write zeroed (spec §5.4): the
    // emulated SCSW then shows no status pending, TSCH answers cc 1 and the guest ignores it.
    if (t.cc !== 0 || t.irb === null) {
      env.count('spurious');
      continue;
    }
    const irb = t.irb;
    const w0 = new DataView(irb.buffer, irb.byteOffset, irb.byteLength).getUint32(0);
    if (scsw_is_final(w0)) {
      env.count('finals');
      return irb[8] ?? 0; // dstat
    }
    env.count('intermediates');
    if (env.result.notes.length < 8) env.note(`intermediate: region ${hex(ev.irb)} tsch ${hex(t.irb)}`);
  }
}

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
  while (env.flag(0) === 0 && env.flag(15) === 0) {
    const rc = n % 2 === 0 && env.f.regions === 'io+async+schib+crw' ? env.client.read_schib() : env.client.read_io_region();
    env.count(typeof rc === 'number' && rc < 0 ? `read.err${rc}` : 'reads');
    n++;
    env.relax();
  }
  env.add_flag(1, 1);
}

const hex = (b: Uint8Array | null): string => (b === null ? 'null' : Array.from(b.subarray(0, 12), (x) => x.toString(16).padStart(2, '0')).join(''));
