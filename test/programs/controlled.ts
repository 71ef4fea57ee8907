// Run a contract program under the controlled scheduler: attach, enter the schedule, run, leave.
import { wq_stop } from '../../src/kernel/index.ts';
import { sched_attach, sched_enter, sched_exit } from '../../src/sched/scheduler.ts';
import type { ProgramCtx } from '../../src/runtime/context.ts';
import * as P from './primitives.ts';

type Prog = (ctx: ProgramCtx, args: unknown) => unknown;

export function controlled(ctx: ProgramCtx, args: { fn: string; args: unknown; user: boolean }): unknown {
  const fn = (P as unknown as Record<string, Prog>)[args.fn];
  if (fn === undefined) throw new Error(`no program ${args.fn}`);
  // When the last user leaves, stop the workqueue executor so it can leave too.
  const detach = sched_attach(ctx.g, () => wq_stop(P.test_wq(ctx)));
  try {
    sched_enter();
    return fn(ctx, args.args);
  } finally {
    sched_exit(args.user);
    detach();
  }
}
