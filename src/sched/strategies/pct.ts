// PCT (Burckhardt et al., ASPLOS 2010): random distinct priorities, run the highest-priority
// enabled actor; at d-1 change points spread over the expected steps, the running actor drops
// below everyone.
import { MAX_ACTORS } from '../../kernel/global.ts';
import { defineStruct, i32, words } from '../../kernel/layout.ts';
import { ActorSched } from '../state.ts';
import { rand, type Strategy } from './api.ts';

/** Change points at most (depth - 1). */
const MAX_CPS = 16;

const slots = defineStruct('pct', {
  depth: i32('the depth d: d - 1 change points'),
  prio: words(MAX_ACTORS, 'per actor: its priority'),
  cps: words(MAX_CPS, 'the change points (steps)'),
  fair_low: i32('the lowest priority handed out by the fairness bound'),
  starve: words(MAX_ACTORS, 'per actor: decisions it was enabled and passed over since it last ran (the fairness bound)'),
  fair_at: i32('passed-over decisions at which the fairness bound fires next (0: the first, FAIR)'),
});
const F = slots.fields;
const DEPTH = F.depth.off;
const PRIO = F.prio.off;
const CPS = F.cps.off;
const FAIR_LOW = F.fair_low.off;
const STARVE = F.starve.off;
const FAIR_AT = F.fair_at.off;

/** Decisions an enabled actor may be passed over in a row before the fairness bound first runs it. */
const FAIR = 4096;

export const pct: Strategy = {
  name: 'pct',
  id: 2,
  slots,
  init(v, o) {
    const A = v.a;
    const b = v.w.slots;
    A[b + DEPTH] = o.depth;
    A[b + FAIR_LOW] = -64;
    // priorities: a random permutation of d .. d+n-1 (all above the change-point values)
    const ps = o.actors.map((_, k) => o.depth + k);
    for (let k = ps.length - 1; k > 0; k--) {
      const j = o.rng() % (k + 1);
      [ps[k], ps[j]] = [ps[j]!, ps[k]!];
    }
    o.actors.forEach((a, k) => (A[b + PRIO + a] = ps[k]!));
    // a late actor (init_strategy) keeps 0: below every drawn priority, above a change point's
    for (let k = 0; k < Math.max(0, o.depth - 1) && k < MAX_CPS; k++) A[b + CPS + k] = 1 + (o.rng() % Math.max(1, o.expected));
  },
  pick(c) {
    const v = c.v;
    const A = v.a;
    const b = v.w.slots;
    const prio = b + PRIO;
    const d = A[b + DEPTH]!;
    for (let k = 0; k < d - 1; k++) {
      if (A[b + CPS + k] === c.step && c.current >= 0) A[prio + c.current] = -(k + 1);
    }
    let best = -1;
    let bp = -Infinity;
    for (let a = 0, m = c.mask; m !== 0; a++, m >>>= 1) {
      if ((m & 1) === 0) continue;
      const p = A[prio + a]!;
      if (p > bp) {
        bp = p;
        best = a;
      }
    }
    // Fairness bound: an actor passed over for FAIR decisions it was enabled at, since it last ran, is
    // starved (a poller above it never blocks, or hands off to the machine and comes straight
    // back), which no CPU scheduler does for ever: everyone enabled above it drops to the bottom,
    // keeping their order, and it runs.
    // The bound is a time slice, and a CPU's slices are no multiple of a loop's length: after the
    // first it is drawn from [FAIR, 2 FAIR). A fixed one phase-locks with pollers whose loops divide
    // it (v5.2 S2: the monitor's 8-point io_mutex loop was cut inside the mutex every time, and the
    // vCPU's -EAGAIN retrier ran only while the mutex was held, for ever).
    // A timed event passed over counts too, in the high half of the word, and only its firing
    // clears that: the machine woken now and then by a notify (a mailbox round trip) runs without
    // its timed wait coming due, and virtual time would never reach the I/O's end (S6 on v5.2 and
    // gunthorpe-2021: user 1's loop above the machine, user 0 waiting for ever). Real time passes.
    let victim = -1;
    let most = (A[b + FAIR_AT]! || FAIR) - 1;
    for (let a = 0; a < MAX_ACTORS; a++) {
      const i = b + STARVE + a;
      const timed = A[v.w.st + a] === ActorSched.blocked;
      if (a === best) A[i] = timed ? 0 : A[i]! & ~0xffff;
      if ((c.mask & (1 << a)) === 0 || a === best) continue;
      const low = Math.min((A[i]! & 0xffff) + 1, 0xffff);
      const high = Math.min((A[i]! >>> 16) + (timed ? 1 : 0), 0x7fff);
      A[i] = (high << 16) | low;
      const n = Math.max(low, high);
      if (n > most) {
        most = n;
        victim = a;
      }
    }
    if (victim >= 0) {
      const vp = A[prio + victim]!;
      const above: number[] = [];
      for (let a = 0, m = c.mask; m !== 0; a++, m >>>= 1) if ((m & 1) !== 0 && A[prio + a]! > vp) above.push(a);
      above.sort((x, y) => A[prio + y]! - A[prio + x]!);
      const low = A[b + FAIR_LOW]!;
      above.forEach((a, k) => (A[prio + a] = low - 1 - k));
      A[b + FAIR_LOW] = low - above.length;
      A[b + STARVE + victim] = 0;
      A[b + STARVE + best] = 0;
      A[b + FAIR_AT] = FAIR + Math.floor(rand(v) * FAIR);
      return victim;
    }
    return best;
  },
};
