// Follow forced choices (replay, or the prefix a bounded-exhaustive search chose), then the
// non-preemptive default.
import { default_pick, type Strategy } from './api.ts';

export const prefix: Strategy = {
  name: 'prefix',
  id: 3,
  pick(c) {
    const { a: A, w } = c.v;
    const n = A[w.ndec]!;
    if (n < A[w.nforced]!) return A[w.forced + n]!;
    return default_pick(c.current, c.mask, c.kind);
  },
};
