// Until the driver port lands, `stress` exercises the primitives: 3 actors hammer one mutex.
import { ActorKind, alloc_global, allocBuf } from '../src/kernel/index.ts';
import { BENCH_INDEX, BenchArea } from '../src/bench/area.ts';
import { ActorPool, prog, unwrap } from '../src/runtime/pool.ts';

const PROGS = new URL('../src/bench/primitives.ts', import.meta.url);

export async function stressPrimitives(durationS: number, out: (s: string) => void): Promise<boolean> {
  const g = alloc_global();
  const area = allocBuf(BENCH_INDEX, BenchArea.words);
  const pool = await ActorPool.start([1, 2, 3].map((id) => ({ id, kind: ActorKind.test, name: `stress${id}` })), g, [area], [PROGS.href]);
  const end = performance.now() + durationS * 1000;
  let ok = true;
  let rounds = 0;
  try {
    while (performance.now() < end) {
      area.i32.fill(0);
      const iters = 200_000;
      const rs = await Promise.all([1, 2, 3].map((a) => pool.run(a, prog(PROGS, 'stressCounter'), { iters, n: 3 })));
      rs.forEach((r) => unwrap(r));
      const got = area.i32[BenchArea.fields.counter.off];
      rounds++;
      if (got !== 3 * iters) ok = false;
      if (got !== 3 * iters) out(`primitives: round ${rounds}: counter ${got} of ${3 * iters}`);
    }
  } finally {
    await pool.close();
  }
  out(`primitives: ${rounds} rounds of 3 x 200000 locked increments, ${ok ? 'all exact' : 'LOST UPDATES'}`);
  return ok;
}
