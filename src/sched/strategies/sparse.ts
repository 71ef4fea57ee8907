// A few choices at named decisions, the non-preemptive default everywhere else: what a shrunk
// schedule is made of. A choice whose actor cannot run there is skipped, not a divergence, so
// dropping choices (shrinking) always gives a schedule that runs. Forced words hold
// (decision index, actor) pairs.
import { defineStruct, i32 } from '../../kernel/layout.ts';
import { default_pick, type Strategy } from './api.ts';

const slots = defineStruct('sparse', { next: i32('the next (decision, actor) pair to apply') });
const NEXT = slots.fields.next.off;

export const sparse: Strategy = {
  name: 'sparse',
  id: 4,
  slots,
  pick(c) {
    const { a: A, w } = c.v;
    const n = A[w.ndec]!;
    const k = A[w.slots + NEXT]!;
    if (2 * k + 1 < A[w.nforced]! && A[w.forced + 2 * k] === n) {
      A[w.slots + NEXT] = k + 1;
      const a = A[w.forced + 2 * k + 1]!;
      if ((c.mask & (1 << a)) !== 0) return a;
    }
    return default_pick(c.current, c.mask, c.kind);
  },
};
