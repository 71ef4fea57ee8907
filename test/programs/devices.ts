// Programs for test/devices.test.ts: two devices over the one vfio-ccw workqueue. The work
// function stands in for io_todo and holds device 1's item at a gate, so the test can see who
// waits for it. Every wait is bounded.
import { backend, clock, flush_workqueue, queue_work, register_work_fn, worker_thread, wq_stop } from '../../src/kernel/index.ts';
import type { ProgramCtx } from '../../src/runtime/context.ts';
import { WORK_IO_TODO, bind_system, type System } from '../../src/system/device.ts';

/** Words of sys.results the programs and the test share. */
export const R = { inside: 0, gate: 1, nrun: 2, run: 3, flushed: 10, seen_at_flush: 11 } as const;

const sys_of = (ctx: ProgramCtx): System => bind_system(ctx.g, ctx.bufs, 'mainline');

function until(a: Int32Array, i: number, v: number, what: string): void {
  const end = clock.now_ms() + 20_000;
  while (Atomics.load(a, i) !== v) {
    if (clock.now_ms() > end) throw new Error(`timed out waiting for ${what}`);
    backend.wait(a, i, Atomics.load(a, i), 50, 0);
  }
}

function post(a: Int32Array, i: number, v: number): void {
  Atomics.store(a, i, v);
  Atomics.notify(a, i);
}

/** The todo worker: runs the one queue; each item records its device, device 1's waits at the gate. */
export function executor(ctx: ProgramCtx): number {
  const s = sys_of(ctx);
  const r = s.sys.results;
  register_work_fn(WORK_IO_TODO, (_w, dev) => {
    if (dev === 1) {
      post(r.a, r.i + R.inside, 1);
      until(r.a, r.i + R.gate, 1, 'the gate');
    }
    const n = Atomics.add(r.a, r.i + R.nrun, 1);
    Atomics.store(r.a, r.i + R.run + n, dev);
  });
  return worker_thread(s.wq);
}

/** Device 1's interrupt queued its io_work, then device 0's; device 0's quiesce flushes the queue. */
export function quiesce_dev0(ctx: ProgramCtx): { seen: number; order: number[] } {
  const s = sys_of(ctx);
  const [p0, p1] = [s.devs[0]!, s.devs[1]!];
  const r = s.sys.results;
  queue_work(p1.wq, p1.v.io_work, 'vfio_ccw_sch_irq');
  until(r.a, r.i + R.inside, 1, 'device 1\'s work to start');
  queue_work(p0.wq, p0.v.io_work, 'vfio_ccw_sch_irq');
  // what vfio_ccw_sch_quiesce does for device 0 (drv.ts quiesce_loop): flush the one workqueue
  flush_workqueue(p0.wq, 'vfio_ccw_sch_quiesce');
  const seen = Atomics.load(r.a, r.i + R.nrun);
  post(r.a, r.i + R.flushed, 1);
  return { seen, order: Array.from({ length: seen }, (_, k) => Atomics.load(r.a, r.i + R.run + k)) };
}

export function stop(ctx: ProgramCtx): void {
  wq_stop(sys_of(ctx).wq);
}
