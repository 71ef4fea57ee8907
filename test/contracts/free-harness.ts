// The free-mode harness: long-lived actor workers, real parallelism.
import { alloc_global, allocBuf, read_warnings, reset_global, ActorKind } from '../../src/kernel/index.ts';
import { ActorPool, prog, unwrap } from '../../src/runtime/pool.ts';
import { AREA_INDEX, TestArea } from '../programs/area.ts';
import type { Harness, Step } from './harness.ts';

const PROGRAMS = new URL('../programs/primitives.ts', import.meta.url);

export async function freeHarness(): Promise<Harness & { close(): Promise<void> }> {
  const g = alloc_global();
  const area = allocBuf(AREA_INDEX, TestArea.words);
  const ids = [1, 2, 3, 4];
  const pool = await ActorPool.start(
    ids.map((id) => ({ id, kind: id === 1 ? ActorKind.todo : ActorKind.test, name: id === 1 ? 'todo' : `user${id - 1}` })),
    g,
    [area],
    [PROGRAMS.href],
  );
  const run = async (steps: Step[]): Promise<unknown[]> => {
    const rs = await Promise.all(steps.map((s) => pool.run(s.actor, prog(PROGRAMS, s.fn), s.args ?? null)));
    return rs.map((r) => unwrap(r));
  };
  return {
    g,
    area,
    actors: ids,
    reset() {
      area.i32.fill(0);
      reset_global(g);
    },
    run,
    async runWithExecutor(steps) {
      const ex = pool.run(1, prog(PROGRAMS, 'executor'), null);
      try {
        return await run(steps);
      } finally {
        await run([{ actor: 2, fn: 'stopExecutor' }]);
        unwrap(await ex);
      }
    },
    warnings: () => read_warnings(g).records,
    close: () => pool.close(),
  };
}
