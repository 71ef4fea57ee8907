// bench sched: the baton handoff in isolation. Two actors under the controlled scheduler make
// schedule points only (READ_ONCE of a shared word); the random strategy switches at about half of them.
import { ActorKind, READ_ONCE, Field } from '../kernel/index.ts';
import { sched_attach, sched_enter, sched_exit } from '../sched/scheduler.ts';
import { buf, type ProgramCtx } from '../runtime/context.ts';
import { BENCH_INDEX, BenchArea } from './area.ts';

export function points(ctx: ProgramCtx, args: { n: number }): number {
  const b = buf(ctx, BENCH_INDEX);
  const f = new Field(b.i32, BenchArea.fields.counter.off, BENCH_INDEX * (1 << 20) + BenchArea.fields.counter.off);
  const detach = sched_attach(ctx.g, () => {});
  try {
    sched_enter();
    let s = 0;
    for (let k = 0; k < args.n; k++) s += READ_ONCE(f, 'bench_points');
    return s;
  } finally {
    sched_exit(true);
    detach();
  }
}

/** Nothing: a run's round trip alone (main to an actor and back), the control plane's part of a schedule. */
export function noop(): number {
  return 0;
}

export { ActorKind };
