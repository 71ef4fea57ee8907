// An ordered, single-threaded workqueue (create_singlethread_workqueue) with work items
// that carry a pending bit. Its queue lives in the global buffer; a worker actor runs
// worker_thread(): the todo worker vfio-ccw's queue, the css worker the css layer's cio_work_q.
// The queue's own lock is internal (pool->lock) and not reported.
import { backend } from './backend.ts';
import { WARN, Warn, might_sleep } from './bug.ts';
import { current, progress } from './current.ts';
import { CIO_WQ_RING, GLOBAL, WQ_RING, WQ_TAG_CIO, Workqueue } from './global.ts';
import { H, hook } from './hook.ts';
import { objId, type SharedBuf } from './layout.ts';
import { KObj } from './obj.ts';

export class WorkStruct extends KObj {}
/** work->data: bit 0 PENDING, above it the disable count (v6.10+ work_offq_data.disable). */
const PENDING = 0;
const FN = 1;
const ARG = 2;
const PENDING_BIT = 1;
const DISABLE_ONE = 2;

export type WorkFn = (work: WorkStruct, arg: number) => void;

/** H.queue's arg when nothing was queued: the work was pending, or a cancel had it disabled. */
export const QUEUE_PENDING = 0;
export const QUEUE_DISABLED = 2;

/** Work functions by id; every worker registers the same table. */
const work_fns = new Map<number, WorkFn>();
export function register_work_fn(fnId: number, fn: WorkFn): void {
  work_fns.set(fnId, fn);
}

/** INIT_WORK: main, before the buffer is shared. */
export function INIT_WORK(w: WorkStruct, fnId: number, arg: number): void {
  Atomics.store(w.a, w.i + PENDING, 0);
  w.a[w.i + FN] = fnId;
  w.a[w.i + ARG] = arg;
}

export function work_pending(w: WorkStruct): boolean {
  return (Atomics.load(w.a, w.i + PENDING) & PENDING_BIT) !== 0;
}

const W = Workqueue.fields;

/**
 * Where a queue lives in the global buffer: its struct, its ring's size and the word of ring slot
 * k; and its tag, the arg of its run/run_end/flush hooks (0 vfio-ccw, 1 cio), so that lockdep and
 * the race detector tell the two queues apart.
 */
interface WqPlace {
  base: number;
  ring: number;
  slot: (k: number) => number;
  tag: number;
}
const PLACES: Readonly<Record<string, WqPlace>> = {
  'vfio-ccw': { base: GLOBAL.workqueue, ring: WQ_RING, slot: GLOBAL.wq_slot, tag: 0 },
  cio: { base: GLOBAL.cio_workqueue, ring: CIO_WQ_RING, slot: GLOBAL.cio_wq_slot, tag: WQ_TAG_CIO },
};

export class WorkqueueStruct {
  readonly a: Int32Array;
  readonly b: number;
  readonly id: number;
  readonly ring: number;
  readonly slot: (k: number) => number;
  readonly tag: number;
  constructor(
    g: SharedBuf,
    readonly name: string,
    /** resolves a queued work's object id to its view (the worker's own registry) */
    readonly resolve: (id: number) => WorkStruct | undefined,
  ) {
    const at = PLACES[name];
    if (at === undefined) throw new Error(`workqueue ${name}: no place in the global buffer`);
    this.a = g.i32;
    this.b = at.base;
    this.ring = at.ring;
    this.slot = at.slot;
    this.tag = at.tag;
    this.id = objId(g, this.b);
  }
}

/** create_singlethread_workqueue: 'vfio-ccw' (vfio_ccw_drv.c) or 'cio' (css.c's cio_work_q). */
export function create_singlethread_workqueue(g: SharedBuf, name: string, resolve: (id: number) => WorkStruct | undefined): WorkqueueStruct {
  return new WorkqueueStruct(g, name, resolve);
}

function raw_lock(a: Int32Array, i: number): void {
  while (Atomics.compareExchange(a, i, 0, 1) !== 0) {
    if (Atomics.compareExchange(a, i, 1, 2) === 0) continue;
    Atomics.wait(a, i, 2, 1);
  }
}
function raw_unlock(a: Int32Array, i: number): void {
  if (Atomics.exchange(a, i, 0) === 2) Atomics.notify(a, i, 1);
}

/**
 * Returns false, doing nothing, if the work was already pending, or while a cancel_work_sync
 * holds it disabled (queue_work_on: test_and_set_bit, then clear_pending_if_disabled).
 */
export function queue_work(wq: WorkqueueStruct, w: WorkStruct, site: string): boolean {
  const a = wq.a;
  const b = wq.b;
  for (;;) {
    const d = Atomics.load(w.a, w.i + PENDING);
    const refused = (d & PENDING_BIT) !== 0 ? QUEUE_PENDING : d >= DISABLE_ONE ? QUEUE_DISABLED : -1;
    if (refused >= 0) {
      if (hook !== null) hook(H.queue, w.id, site, current.id, refused);
      return false;
    }
    if (Atomics.compareExchange(w.a, w.i + PENDING, d, d | PENDING_BIT) === d) break;
  }
  if (hook !== null) hook(H.queue, w.id, site, current.id, 1);
  raw_lock(a, b + W.lock.off);
  const tail = a[b + W.tail.off]!;
  if (tail - a[b + W.head.off]! >= wq.ring) {
    raw_unlock(a, b + W.lock.off);
    throw new Error(`workqueue ${wq.name}: ring full`);
  }
  a[wq.slot(tail % wq.ring)] = w.id;
  a[b + W.tail.off] = tail + 1;
  Atomics.add(a, b + W.queued_seq.off, 1);
  raw_unlock(a, b + W.lock.off);
  if (Atomics.load(a, b + W.exec_waiters.off) !== 0) backend.notify(a, b + W.queued_seq.off, 1, wq.id + W.queued_seq.off);
  return true;
}

/** The executor: runs queued work in order until wq_stop(). Returns the number of items run. */
export function worker_thread(wq: WorkqueueStruct): number {
  const a = wq.a;
  const b = wq.b;
  let ran = 0;
  for (;;) {
    if (Atomics.load(a, b + W.stop.off) !== 0) return ran;
    const seq = Atomics.load(a, b + W.queued_seq.off);
    raw_lock(a, b + W.lock.off);
    const head = a[b + W.head.off]!;
    if (head === a[b + W.tail.off]) {
      raw_unlock(a, b + W.lock.off);
      Atomics.add(a, b + W.exec_waiters.off, 1);
      if (Atomics.load(a, b + W.stop.off) === 0) backend.wait(a, b + W.queued_seq.off, seq, Infinity, wq.id + W.queued_seq.off);
      Atomics.sub(a, b + W.exec_waiters.off, 1);
      continue;
    }
    const id = a[wq.slot(head % wq.ring)]!;
    a[b + W.head.off] = head + 1;
    raw_unlock(a, b + W.lock.off);
    const w = wq.resolve(id);
    if (w !== undefined) {
      // Running before pending is cleared (process_one_work sets current_work and clears PENDING
      // under pool->lock): a cancel_work_sync either takes the pending work back or waits for it.
      // Pending is cleared before the run, as the kernel does: a queue_work during it re-queues.
      // A work a cancel took back (its bit already clear) is skipped.
      Atomics.store(a, b + W.running.off, id);
      if ((Atomics.and(w.a, w.i + PENDING, ~PENDING_BIT) & PENDING_BIT) !== 0) {
        const fn = work_fns.get(w.a[w.i + FN]!);
        if (hook !== null) hook(H.run, id, 'worker_thread', current.id, wq.tag);
        if (fn === undefined) WARN(Warn.work_state, id, `workqueue: no function ${w.a[w.i + FN]} for work`);
        else fn(w, w.a[w.i + ARG]!);
        if (hook !== null) hook(H.run_end, id, 'worker_thread', current.id, wq.tag);
        ran++;
      }
      Atomics.store(a, b + W.running.off, 0);
    }
    Atomics.add(a, b + W.done_seq.off, 1);
    progress();
    if (Atomics.load(a, b + W.flush_waiters.off) !== 0) {
      backend.notify(a, b + W.done_seq.off, Infinity, wq.id + W.done_seq.off);
      backend.notify(a, b + W.running.off, Infinity, wq.id + W.running.off);
    }
  }
}

/**
 * An executor that starts idle, before its first look at the queue: counted as waiting for work
 * (so queue_work notifies), on the key returned (the controlled schedule's "blocked on").
 * Undo with wq_idle_end once it runs.
 */
export function wq_idle_begin(wq: WorkqueueStruct): number {
  Atomics.add(wq.a, wq.b + W.exec_waiters.off, 1);
  return wq_idle_key(wq);
}
/** The key an idle executor of `wq` is blocked on in the controlled schedule. */
export function wq_idle_key(wq: WorkqueueStruct): number {
  return wq.id + W.queued_seq.off;
}
export function wq_idle_end(wq: WorkqueueStruct): void {
  Atomics.sub(wq.a, wq.b + W.exec_waiters.off, 1);
}

/** Nothing was ever queued on `wq` this run (the words are zeroed between runs). */
export function wq_never_queued(wq: WorkqueueStruct): boolean {
  return Atomics.load(wq.a, wq.b + W.queued_seq.off) === 0;
}

/** Ask the executor to return once idle (main, at the end of a run). */
export function wq_stop(wq: WorkqueueStruct): void {
  Atomics.store(wq.a, wq.b + W.stop.off, 1);
  backend.notify(wq.a, wq.b + W.queued_seq.off, Infinity, wq.id + W.queued_seq.off);
}

/** Reset between runs (main, with every actor parked). */
export function wq_reset(wq: WorkqueueStruct): void {
  const a = wq.a;
  const b = wq.b;
  for (const f of [W.head, W.tail, W.queued_seq, W.done_seq, W.running, W.stop]) Atomics.store(a, b + f.off, 0);
}

/** Wait until every work queued before this call has run. Sleeps. */
export function flush_workqueue(wq: WorkqueueStruct, site: string): void {
  const c = current;
  if (c.spinDepth !== 0 || c.inIrq) might_sleep(wq.id, site);
  if (hook !== null) hook(H.flush, wq.id, site, c.id, wq.tag);
  const a = wq.a;
  const b = wq.b;
  const target = Atomics.load(a, b + W.queued_seq.off);
  for (;;) {
    const done = Atomics.load(a, b + W.done_seq.off);
    if (done - target >= 0) break;
    Atomics.add(a, b + W.flush_waiters.off, 1);
    backend.wait(a, b + W.done_seq.off, done, Infinity, wq.id + W.done_seq.off);
    Atomics.sub(a, b + W.flush_waiters.off, 1);
  }
  if (hook !== null) hook(H.wake, wq.id, site, c.id, 1);
}

/**
 * Cancel a pending work and wait for a running instance to finish. True if it was pending.
 * Its return is ordered after the work's earlier successful queue_work calls and finished runs:
 * __cancel_work_sync -> __flush_work -> start_flush_work takes pool->lock whenever the work has a
 * pool (it was queued once), and the worker retook pool->lock after each callback (process_one_work;
 * read in kernel/workqueue.c @ 009bb421b6ce, the same steps under the raw pool->lock since; the pool
 * id survives the cancel since the v6.10 disable_work rework, which is what the mainline variant
 * runs). The H.wake on the work at the end carries that edge; a work never queued gives nothing.
 */
export function cancel_work_sync(wq: WorkqueueStruct, w: WorkStruct, site: string): boolean {
  const c = current;
  if (c.spinDepth !== 0 || c.inIrq) might_sleep(w.id, site);
  if (hook !== null) hook(H.cancel, w.id, site, c.id, 0);
  // __cancel_work(work, WORK_CANCEL_DISABLE): take the pending work back and disable it, so that
  // a queue_work until the end fails; enable_work after the flush (v6.10+; before, PENDING and
  // CANCELING were held instead, with the same effect on queue_work).
  let d = Atomics.load(w.a, w.i + PENDING);
  for (;;) {
    const seen = Atomics.compareExchange(w.a, w.i + PENDING, d, (d & ~PENDING_BIT) + DISABLE_ONE);
    if (seen === d) break;
    d = seen;
  }
  const was = (d & PENDING_BIT) !== 0;
  const a = wq.a;
  const r = wq.b + W.running.off;
  while (Atomics.load(a, r) === w.id) {
    Atomics.add(a, wq.b + W.flush_waiters.off, 1);
    backend.wait(a, r, w.id, Infinity, wq.id + W.running.off);
    Atomics.sub(a, wq.b + W.flush_waiters.off, 1);
  }
  Atomics.sub(w.a, w.i + PENDING, DISABLE_ONE);
  if (hook !== null) hook(H.wake, w.id, site, c.id, 1);
  return was;
}
