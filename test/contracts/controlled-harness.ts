// The controlled-mode harness: the same contract programs, one actor at a time, chosen by the
// scheduler's random strategy; a deadlock or a stall fails the case.
import { alloc_global, allocBuf, read_warnings, reset_global, ActorKind, GLOBAL, Workqueue } from '../../src/kernel/index.ts';
import { ActorPool, prog, unwrap } from '../../src/runtime/pool.ts';
import { SchedAbortName, SchedView } from '../../src/sched/state.ts';
import { init_strategy } from '../../src/sched/strategy.ts';
import { sched_start, sched_wait } from '../../src/sched/scheduler.ts';
import { AREA_INDEX, TestArea } from '../programs/area.ts';
import type { Harness, Step } from './harness.ts';

const CONTROLLED = new URL('../programs/controlled.ts', import.meta.url);
const PROGRAMS = new URL('../programs/primitives.ts', import.meta.url);

export async function controlledHarness(seed: number): Promise<Harness & { close(): Promise<void>; schedules: number }> {
  const g = alloc_global();
  const area = allocBuf(AREA_INDEX, TestArea.words);
  const ids = [1, 2, 3, 4];
  const pool = await ActorPool.start(
    ids.map((id) => ({ id, kind: id === 1 ? ActorKind.todo : ActorKind.test, name: id === 1 ? 'todo' : `user${id - 1}` })),
    g,
    [area],
    [PROGRAMS.href, CONTROLLED.href],
  );
  let schedules = 0;
  const go = async (steps: Step[], withExecutor: boolean): Promise<unknown[]> => {
    const v = new SchedView(g);
    v.reset();
    v.set('mode', 1);
    v.set('users', steps.length);
    v.set('max_steps', 5_000_000);
    const actors = [...(withExecutor ? [1] : []), ...steps.map((s) => s.actor)];
    init_strategy(v, { strategy: 'random', seed: seed + schedules++, depth: 1, expected: 1000, actors });
    // The end of an earlier run of this case stopped the workqueue: let the executor start again.
    if (withExecutor) Atomics.store(g.i32, GLOBAL.workqueue + Workqueue.fields.stop.off, 0);
    const ex = withExecutor ? pool.run(1, prog(CONTROLLED, 'controlled'), { fn: 'executor', args: null, user: false }) : null;
    const runs = steps.map((s) => pool.run(s.actor, prog(CONTROLLED, 'controlled'), { fn: s.fn, args: s.args ?? null, user: true }));
    if (!(await sched_start(g, actors.length))) throw new Error('actors did not enter the schedule');
    await sched_wait(g, 120_000);
    // Every actor must have left before the next schedule resets the shared state.
    const rs = await Promise.all(runs);
    const exr = ex !== null ? await ex : null;
    const abort = v.get('abort');
    if (abort !== 0) throw new Error(`schedule aborted: ${SchedAbortName[abort]}`);
    if (exr !== null) unwrap(exr);
    return rs.map((r) => unwrap(r));
  };
  return {
    g,
    area,
    actors: ids,
    get schedules() {
      return schedules;
    },
    reset() {
      area.i32.fill(0);
      reset_global(g);
    },
    run: (steps) => go(steps, false),
    runWithExecutor: (steps) => go(steps, true),
    warnings: () => read_warnings(g).records,
    close: () => pool.close(),
  };
}
