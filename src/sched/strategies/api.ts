// The interface every scheduling strategy implements (one file each, in this folder), and the
// helpers they share. A pick runs on whichever actor holds the baton; a strategy keeps its state
// in shared memory, in the slots it declares (SchedArea.slots), so that any actor can make the next pick.
import { H } from '../../kernel/hook.ts';
import type { FieldSpec, StructLayout } from '../../kernel/layout.ts';
import type { SchedView } from '../state.ts';

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

/** What main knows before a schedule starts. */
export interface StrategyInit {
  seed: number;
  depth: number;
  expected: number;
  actors: readonly number[];
  /** a seeded generator for the strategy's own set-up (not the shared PRNG) */
  rng: () => number;
}

export interface Strategy {
  /** the name tools and tokens use */
  readonly name: string;
  /** its number in shared memory (unique) */
  readonly id: number;
  /** its own shared state, laid out in SchedArea.slots (absolute word: v.w.slots + field offset) */
  readonly slots?: StructLayout<Record<string, FieldSpec>>;
  /** Main, before a schedule: seed the strategy's own shared state. */
  init?(v: SchedView, o: StrategyInit): void;
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
export function nth_bit(mask: number, k: number): number {
  for (let a = 0, seen = 0; a < 32; a++) {
    if ((mask & (1 << a)) === 0) continue;
    if (seen++ === k) return a;
  }
  return -1;
}

export const popcount = (m: number): number => {
  let x = m - ((m >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
};

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
export const is_preemption = (d: { cur: number; mask: number; kind: number }, pick: number): boolean => d.cur >= 0 && pick !== d.cur && (d.mask & (1 << d.cur)) !== 0 && d.kind !== H.mark;
