// DPOR search: the bounded exhaustive search (./dfs.ts) with dynamic partial-order reduction
// (Flanagan and Godefroid, POPL 2005), over the decisions a controlled run records. Two schedules
// that only reorder independent steps reach the same state, so after each run only the decisions
// where a step races with a later one get alternatives.
import { H } from '../../kernel/hook.ts';
import { MAX_ACTORS } from '../../kernel/global.ts';
import type { Decision } from '../decision.ts';
import type { Search } from './api.ts';
import { dfs_explorer } from './dfs.ts';

/** What one step does, as far as ordering goes. */
export interface Op {
  kind: number;
  obj: number;
  /** a hardware mark the step passed (+1), -1 several, 0 none */
  mark: number;
  /** ordered with every other step (a timed wait firing) */
  wild: boolean;
}

const isRead = (k: number): boolean => k === H.read || k === H.read_once;
const isPlain = (k: number): boolean => k === H.read || k === H.write || k === H.read_once || k === H.write_once;
/**
 * Synchronisation and hardware steps are all ordered with each other: their wake-ups and the
 * machine's state (instructions under hw_lock, seen only as marks) do not name one object.
 */
const syncish = (o: Op): boolean => o.mark !== 0 || (o.kind !== 0 && !isPlain(o.kind));

export function dependent(a: Op, b: Op): boolean {
  if (a.wild || b.wild) return true;
  if ((a.kind === 0 && a.mark === 0) || (b.kind === 0 && b.mark === 0)) return false;
  if (syncish(a) && syncish(b)) return true;
  return a.obj === b.obj && !(isRead(a.kind) && isRead(b.kind));
}

interface Step {
  actor: number;
  op: Op;
  /** vector clock after the step */
  vc: Int32Array;
}

/** A timed wait firing: virtual time moves, which any later step may read. */
const TIMER: Op = { kind: 0, obj: -1, mark: 0, wild: true };
/**
 * An actor that has not reached a schedule point yet: it has touched nothing shared (every shared
 * access is a point), so its step is local, apart from the hardware marks it passes.
 */
const LOCAL: Op = { kind: 0, obj: -1, mark: 0, wild: false };

/**
 * For each decision of a run, the actors whose alternative there may lead to a different state:
 * for every actor p and state k, the latest earlier step dependent with p's next step and not
 * ordered before it gets p (or, if p was not enabled there, every enabled actor) as a backtrack
 * choice. Returns one bit mask per decision.
 */
export function backtrack_sets(ds: readonly Decision[]): number[] {
  const out = new Array<number>(ds.length).fill(0);
  const steps: Step[] = [];
  const clock = Array.from({ length: MAX_ACTORS }, () => new Int32Array(MAX_ACTORS));
  const pend: (Op | undefined)[] = new Array(MAX_ACTORS).fill(undefined);
  const exited = new Set<number>();
  const last = new Array<number>(MAX_ACTORS).fill(-1);
  // Latest steps that later steps may race with. Each chain (the writes to one object, the
  // synchronisation and hardware steps, the timer steps) is ordered in itself, so its last step
  // stands for the rest; reads are kept per object and actor (program order does the rest).
  const lastWrite = new Map<number, number>();
  const lastReads = new Map<number, Int32Array>();
  let lastSync = -1;
  let lastWild = -1;

  const hb = (i: number, p: number): boolean => {
    const s = steps[i]!;
    return s.vc[s.actor]! <= clock[p]![s.actor]!;
  };
  const unordered = (i: number | undefined, p: number): number => (i !== undefined && i >= 0 && steps[i]!.actor !== p && !hb(i, p) ? i : -1);
  /** The latest step dependent with p's next step `o` and not ordered before it (-1 none). */
  const race = (p: number, o: Op): number => {
    let r = -1;
    if (o.wild) {
      for (let q = 0; q < MAX_ACTORS; q++) if (q !== p) r = Math.max(r, unordered(last[q], p));
      return r;
    }
    r = unordered(lastWild, p);
    if (syncish(o)) r = Math.max(r, unordered(lastSync, p));
    if (o.kind === 0) return r;
    r = Math.max(r, unordered(lastWrite.get(o.obj), p));
    const reads = lastReads.get(o.obj);
    if (reads !== undefined && !isRead(o.kind)) for (let q = 0; q < MAX_ACTORS; q++) if (q !== p) r = Math.max(r, unordered(reads[q], p));
    return r;
  };

  for (let k = 0; k < ds.length; k++) {
    const d = ds[k]!;
    if (d.cur >= 0) pend[d.cur] = { kind: d.kind, obj: d.obj, mark: 0, wild: false };
    else if (k > 0) exited.add(ds[k - 1]!.pick);
    // next(s_k, p) for every actor still in the run
    for (let p = 0; p < MAX_ACTORS; p++) {
      if (exited.has(p) || ((d.mask | (1 << p)) !== d.mask && pend[p] === undefined && last[p]! < 0)) continue;
      let o = (d.timed & (1 << p)) !== 0 ? TIMER : (pend[p] ?? LOCAL);
      if (p === d.pick && d.mark !== 0) o = { ...o, mark: d.mark };
      const i = race(p, o);
      if (i < 0) continue;
      const e = ds[i]!.mask;
      out[i] = (out[i] ?? 0) | ((e & (1 << p)) !== 0 ? 1 << p : e);
    }
    // execute step k: pick runs its next operation
    const p = d.pick;
    const base = (d.timed & (1 << p)) !== 0 ? TIMER : (pend[p] ?? LOCAL);
    const op: Op = { ...base, mark: d.mark };
    const c = clock[p]!;
    const join = (i: number | undefined): void => {
      if (i === undefined || i < 0) return;
      const v = steps[i]!.vc;
      for (let a = 0; a < MAX_ACTORS; a++) if (v[a]! > c[a]!) c[a] = v[a]!;
    };
    if (op.wild) for (let a = 0; a < MAX_ACTORS; a++) join(last[a]);
    join(lastWild);
    if (syncish(op)) join(lastSync);
    if (op.kind !== 0) {
      join(lastWrite.get(op.obj));
      const reads = lastReads.get(op.obj);
      if (reads !== undefined && !isRead(op.kind)) for (let a = 0; a < MAX_ACTORS; a++) join(reads[a]);
    }
    c[p] = c[p]! + 1;
    const idx = steps.length;
    steps.push({ actor: p, op, vc: c.slice() });
    last[p] = idx;
    if (op.wild) lastWild = idx;
    else {
      if (syncish(op)) lastSync = idx;
      if (op.kind !== 0) {
        if (isRead(op.kind)) {
          let r = lastReads.get(op.obj);
          if (r === undefined) lastReads.set(op.obj, (r = new Int32Array(MAX_ACTORS).fill(-1)));
          r[p] = idx;
        } else lastWrite.set(op.obj, idx);
      }
    }
  }
  return out;
}

/** DFS that tries, at each decision, only the actors of its backtrack set; the lowest first. */
export const dpor: Search = {
  name: 'dpor',
  explorer: (plan) => dfs_explorer(plan, backtrack_sets, false),
};
