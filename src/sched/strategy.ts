// Scheduling strategies: small objects behind one interface (shuttle's style). Each pick runs
// on whichever actor holds the baton; a strategy keeps its state in the shared SchedArea.
import { mulberry32 } from '../hw/prng.ts';
import { H } from '../kernel/hook.ts';
import { StrategyId, type SchedView } from './state.ts';

export interface PickCtx {
  v: SchedView;
  step: number;
  /** the actor at the schedule point (-1: nobody, e.g. the first pick or after an exit) */
  current: number;
  /** enabled actors as a bit mask */
  mask: number;
  /** the hook kind of the point (H.mark: a spin loop's relax, where the actor offers to yield) */
  kind: number;
}

export interface Strategy {
  readonly id: number;
  /** Choose one actor of ctx.mask. */
  pick(ctx: PickCtx): number;
}

/** The shared PRNG: one mulberry32 step on the state word (the baton holder is the only user). */
export function rand(v: SchedView): number {
  const s = (v.a[v.w.rng]! + 0x6d2b79f5) | 0;
  v.a[v.w.rng] = s;
  let t = Math.imul(s ^ (s >>> 15), 1 | s);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
}

/** The k-th set bit of a mask (no allocation: this runs at every schedule point). */
function nth_bit(mask: number, k: number): number {
  for (let a = 0, seen = 0; a < 32; a++) {
    if ((mask & (1 << a)) === 0) continue;
    if (seen++ === k) return a;
  }
  return -1;
}
const popcount = (m: number): number => {
  let x = m - ((m >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
};

const random: Strategy = {
  id: StrategyId.random,
  pick(c) {
    return nth_bit(c.mask, Math.floor(rand(c.v) * popcount(c.mask)));
  },
};

/**
 * PCT (Burckhardt et al.): random distinct priorities, run the highest-priority enabled actor;
 * at d-1 change points spread over the expected steps, the running actor drops to the bottom.
 */
const pct: Strategy = {
  id: StrategyId.pct,
  pick(c) {
    const v = c.v;
    const A = v.a;
    const w = v.w;
    const d = A[w.depth]!;
    for (let k = 0; k < d - 1; k++) {
      if (A[w.cps + k] === c.step && c.current >= 0) A[w.prio + c.current] = -(k + 1);
    }
    let best = -1;
    let bp = -Infinity;
    for (let a = 0, m = c.mask; m !== 0; a++, m >>>= 1) {
      if ((m & 1) === 0) continue;
      const p = A[w.prio + a]!;
      if (p > bp) {
        bp = p;
        best = a;
      }
    }
    // Fairness bound: an actor that polls without blocking (a spinning client thread) would
    // starve everyone below it forever; after FAIR consecutive picks it drops to the bottom.
    const run = best === c.current ? A[w.fair_run]! + 1 : 0;
    A[w.fair_run] = run;
    if (run >= FAIR && (c.mask & ~(1 << best)) !== 0) {
      v.set('prio', v.get('fair_low') - 1, best);
      v.set('fair_low', v.get('fair_low') - 1);
      v.set('fair_run', 0);
      return pct.pick(c);
    }
    return best;
  },
};
const FAIR = 4096;

/**
 * Follow forced choices (replay, or the prefix a bounded-exhaustive search chose), then the
 * default policy: keep running the current actor if it can, else the lowest enabled one.
 */
const prefix: Strategy = {
  id: StrategyId.prefix,
  pick(c) {
    const v = c.v;
    const n = v.a[v.w.ndec]!;
    if (n < v.a[v.w.nforced]!) return v.a[v.w.forced + n]!;
    return default_pick(c.current, c.mask, c.kind);
  },
};

/** Non-preemptive: keep the current actor if it can run, else the lowest enabled one. */
/**
 * The non-preemptive default: keep the current actor while it can run; when it blocks, or yields
 * at a relax point (a polling loop's cpu_relax), the next enabled actor in turn. Taking turns is
 * what a fair CPU scheduler would eventually do: with "lowest first" one user that blocks and
 * wakes again starves the other, and a poller never lets the actor it waits for run, and the
 * schedule ends as a livelock no kernel would show.
 */
export function default_pick(current: number, mask: number, kind: number): number {
  const can = current >= 0 && (mask & (1 << current)) !== 0;
  if (can && kind !== H.mark) return current;
  const from = current >= 0 ? current : -1;
  for (let k = 1; k <= 32; k++) {
    const a = (from + k) & 31;
    if ((mask & (1 << a)) !== 0) return a;
  }
  return current;
}

/** A switch away from an actor that could go on: a preemption (a yield at a relax point is not). */
export const is_preemption = (d: { cur: number; mask: number; kind: number }, pick: number): boolean => d.cur !== 0xff && d.cur >= 0 && pick !== d.cur && (d.mask & (1 << d.cur)) !== 0 && d.kind !== H.mark;

/**
 * A few choices at named decisions, the non-preemptive default everywhere else: what a shrunk
 * schedule is made of. A choice whose actor cannot run there is skipped, not a divergence, so
 * dropping choices (shrinking) always gives a schedule that runs.
 */
const sparse: Strategy = {
  id: StrategyId.sparse,
  pick(c) {
    const { a: A, w } = c.v;
    const n = A[w.ndec]!;
    const k = A[w.sp_next]!;
    if (2 * k + 1 < A[w.nforced]! && A[w.forced + 2 * k] === n) {
      A[w.sp_next] = k + 1;
      const a = A[w.forced + 2 * k + 1]!;
      if ((c.mask & (1 << a)) !== 0) return a;
    }
    return default_pick(c.current, c.mask, c.kind);
  },
};

export const STRATEGIES: Readonly<Record<number, Strategy>> = { [StrategyId.random]: random, [StrategyId.pct]: pct, [StrategyId.prefix]: prefix, [StrategyId.sparse]: sparse };

/** Main, before a schedule: seed the shared state of the strategy. */
export function init_strategy(v: SchedView, o: { strategy: number; seed: number; depth: number; expected: number; actors: number[]; forced?: readonly number[] }): void {
  v.set('strategy', o.strategy);
  v.set('seed', o.seed);
  v.set('rng', o.seed | 0);
  v.set('depth', o.depth);
  v.set('fair_low', -64);
  v.set('expected', o.expected);
  const r = mulberry32((o.seed ^ 0x5bd1e995) >>> 0);
  // PCT priorities: a random permutation of d .. d+n-1 (all above the change-point values).
  const ps = o.actors.map((_, k) => o.depth + k);
  for (let k = ps.length - 1; k > 0; k--) {
    const j = r() % (k + 1);
    [ps[k], ps[j]] = [ps[j]!, ps[k]!];
  }
  o.actors.forEach((a, k) => v.set('prio', ps[k]!, a));
  v.set('hi', Math.max(...o.actors) + 1);
  for (let k = 0; k < Math.max(0, o.depth - 1) && k < 16; k++) v.set('cps', 1 + (r() % Math.max(1, o.expected)), k);
  const forced = o.forced ?? [];
  v.set('nforced', forced.length);
  forced.forEach((a, k) => v.set('forced', a, k));
}
