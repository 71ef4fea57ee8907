// A user's own scenario: a guest that reads one block at a time and, between I/Os, asks the
// device for an unsolicited attention interrupt. Run it with any tool:
//   npx vfio-ccw-sim stress --scenario ./examples/my-scenario.ts --duration 2
//   npx vfio-ccw-sim race --scenario ./examples/my-scenario.ts --variant v5.3
// The file runs as it is from any directory: the tools bundle it and point 'vfio-ccw-sim' at the
// package that runs it.
import { guest, kernel, register_invariant, run_user, scsw, type ProgramCtx, type Scenario, type UserArgs, type UserResult } from 'vfio-ccw-sim';

export const scenario: Scenario = {
  id: 'my-attention',
  slug: 'attention-between-reads',
  title: 'Reads with an unsolicited attention between them',
  module: import.meta.url,
  users: { min: 1, default: 1 },
  iterations: 50,
  // the machine: fast completions, no intermediate interrupts
  hw: { start_latency_us: [5, 50], p_pci: 0 },
  // expected outcomes over every user's result and the run's statistics
  check: (results) => [{ id: 'my.reads', ok: (results[0]?.counters.reads ?? 0) > 0, message: `${results[0]?.counters.reads ?? 0} reads completed` }],
};

// An extra invariant, checked online wherever the device's state changes, on every actor.
register_invariant({
  id: 'my.no-pinned-when-idle',
  check: (p) => {
    // kernel.peek: the check itself stays invisible to the detectors and the scheduler
    const idle = kernel.peek(p.v.state) === p.drv.S.IDLE;
    const pinned = kernel.peek(p.cp.v.pinned_pages);
    return idle && pinned > 0 && kernel.peek(p.v.o_io_req_running) === 0 ? `IDLE with ${pinned} pages pinned` : null;
  },
});

export function user(ctx: ProgramCtx, args: UserArgs): UserResult {
  return run_user(ctx, args, (env) => {
    env.wait_hw_running();
    const r = env.client.realize();
    env.check('my.realize', r.ok, r.error ?? 'realized');
    if (!r.ok) return;
    for (let i = 0; env.more(i); i++) {
      const prog = env.program(guest.dasd_read({ blocks: 1 }));
      if (env.client.ssch(prog.orb) !== 0) {
        env.count('ssch-refused');
        continue;
      }
      // wait for the final IRB (intermediate and unsolicited ones may come first)
      for (;;) {
        const ev = env.client.wait_io(5000);
        if (ev === null) {
          env.check('my.no-lost-interrupt', false, 'no IRB within 5 s');
          return;
        }
        const t = env.client.tsch();
        if (t.cc !== 0 || t.irb === null) continue;
        const w0 = new DataView(t.irb.buffer, t.irb.byteOffset).getUint32(0);
        if (scsw.scsw_is_final(w0) && scsw.scsw_is_solicited(w0)) break;
      }
      env.count('reads');
      // the device presents attention while idle (unsolicited status); the guest takes that
      // interrupt (TSCH) before its next start, or the start would find status pending (cc 1)
      env.hw({ op: 'unsolicited', dstat: scsw.DEV_STAT_ATTENTION });
      for (;;) {
        const ev = env.client.wait_io(5000);
        if (ev === null) break;
        const t = env.client.tsch();
        if (t.cc === 0 && t.irb !== null && !scsw.scsw_is_solicited(new DataView(t.irb.buffer, t.irb.byteOffset).getUint32(0))) {
          env.count('attentions');
          break;
        }
      }
    }
    env.client.unrealize();
  });
}
