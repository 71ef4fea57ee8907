// Coverage (issue 14, item 4): jump-table cells (state × event) dispatched, errnos each entry point
// answered, and the pairs of driver entry points that were running at the same time.
//
// A hook consumer in every actor writes into one shared buffer. Overlap is exact in both modes:
// an actor publishes its entry (seq-cst store) before it reads every other actor's slot, so of two
// entries that overlap, at least one sees the other (in controlled mode only one runs at a time).
import { H, objName, register_hook, type HookFn } from '../kernel/index.ts';
import { ENTRIES, ENTRY, ENTRY_SITE } from './entry.ts';

const CELLS = 32 * 32;
const ACTORS = 16;
const E = ENTRIES.length;
export const ERRS = 160;
/** word offsets in the buffer */
export const W = { cells: 0, active: CELLS, pairs: CELLS + ACTORS, rets: CELLS + ACTORS + E * E } as const;
const WORDS = W.rets + E * ERRS;

export function alloc_coverage(): SharedArrayBuffer {
  return new SharedArrayBuffer(WORDS * 4);
}

/** Add `src` into `dst` (a campaign's total). */
export function merge_coverage(dst: SharedArrayBuffer, src: SharedArrayBuffer): void {
  const d = new Int32Array(dst);
  const s = new Int32Array(src);
  for (let i = 0; i < WORDS; i++) if (i < W.active || i >= W.pairs) d[i]! += s[i]!;
}

/** One buffer holding the sum of `bufs` (every run's counts; the pairs any run saw). */
export function sum_coverage(bufs: readonly SharedArrayBuffer[]): SharedArrayBuffer {
  const out = alloc_coverage();
  for (const b of bufs) merge_coverage(out, b);
  return out;
}

/** Install the consumer in this thread (actor `me`); returns its removal. */
export function start_coverage(sab: SharedArrayBuffer, me: number): () => void {
  const a = new Int32Array(sab);
  const stack: number[] = [];
  const enter = (id: number): void => {
    stack.push(id);
    Atomics.store(a, W.active + me, id + 1);
    for (let k = 0; k < ACTORS; k++) {
      if (k === me) continue;
      const o = Atomics.load(a, W.active + k) - 1;
      if (o < 0) continue;
      const lo = Math.min(id, o);
      const hi = Math.max(id, o);
      if (a[W.pairs + lo * E + hi] === 0) Atomics.store(a, W.pairs + lo * E + hi, 1);
    }
  };
  const leave = (): void => {
    stack.pop();
    Atomics.store(a, W.active + me, stack.length > 0 ? stack[stack.length - 1]! + 1 : 0);
  };
  const work = new Map<number, number>();
  const fn: HookFn = (kind, obj, site, _actor, arg) => {
    switch (kind) {
      case H.fsm:
        Atomics.add(a, W.cells + ((arg >> 8) & 31) * 32 + (arg & 31), 1);
        return;
      case H.mark:
        if (site !== ENTRY_SITE) return;
        if (((arg >> 10) & 3) === 1) enter(arg >> 12);
        else {
          Atomics.add(a, W.rets + (arg >> 12) * ERRS + Math.min(arg & 1023, ERRS - 1), 1);
          leave();
        }
        return;
      case H.irq_enter:
        enter(ENTRY.sch_irq);
        return;
      case H.irq_exit:
        leave();
        return;
      case H.run: {
        let id = work.get(obj);
        if (id === undefined) {
          id = /crw/i.test(objName(obj)) ? ENTRY.crw_todo : ENTRY.io_todo;
          work.set(obj, id);
        }
        enter(id);
        return;
      }
      case H.run_end:
        leave();
        return;
    }
  };
  const off = register_hook(fn);
  return () => {
    off();
    Atomics.store(a, W.active + me, 0);
  };
}

