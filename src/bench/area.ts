// Shared area of the primitive benchmarks (buffer index 1).
import { atomic, bind, completion, defineStruct, mutex, words, type SharedBuf } from '../kernel/index.ts';

export const BENCH_INDEX = 1;

export const BenchArea = defineStruct('bench', {
  m: mutex(),
  raw: words(2, 'raw futex mutex for the baseline'),
  go: atomic('start flag'),
  ready: atomic(),
  counter: atomic(),
  c: words(6, 'three completions for the ring / ping-pong'),
  ring: words(3, 'raw ring / ping-pong words'),
  stop: atomic(),
});

export const benchArea = (b: SharedBuf) => bind(BenchArea, b, 0);
export { completion };
