// Programs that actors run for the primitive contract suites. Every wait is bounded.
import {
  GLOBAL, Workqueue, atomic_inc, atomic_read, complete, complete_all, create_singlethread_workqueue, eventfd_ctx_fdget,
  eventfd_read, eventfd_signal, flush_workqueue, init_completion, INIT_WORK, mutex_lock, mutex_trylock, mutex_unlock, queue_work,
  register_work_fn, spin_lock, spin_lock_irqsave, spin_unlock, spin_unlock_irqrestore, try_wait_for_completion, wait_for_completion,
  wait_for_completion_timeout, worker_thread, wq_stop, type EventfdCtx, type WorkStruct, type WorkqueueStruct,
} from '../../src/kernel/index.ts';
import { backend, clock } from '../../src/kernel/index.ts';
import { buf, type ProgramCtx } from '../../src/runtime/context.ts';
import { AREA_INDEX, WORK_GATED, WORK_RECORD, area } from './area.ts';

const BOUND_MS = 20_000;

function view(ctx: ProgramCtx) {
  return area(buf(ctx, AREA_INDEX));
}

/** The object id of word i of the test area (what the wait backend keys waits by). */
const key = (i: number): number => AREA_INDEX * (1 << 20) + i;

/**
 * Wait (bounded) until a[i] satisfies pred. Through the wait backend and the clock, so the same
 * program runs free (futex waits) and controlled (a blocked actor hands on the baton).
 */
function until(a: Int32Array, i: number, pred: (v: number) => boolean, what: string): void {
  const end = clock.now_ms() + BOUND_MS;
  for (;;) {
    const v = Atomics.load(a, i);
    if (pred(v)) return;
    if (clock.now_ms() > end) throw new Error(`timed out waiting for ${what} (value ${v})`);
    backend.wait(a, i, v, 50, key(i));
  }
}

function post(a: Int32Array, i: number, v: number): void {
  Atomics.store(a, i, v);
  backend.notify(a, i, Infinity, key(i));
}

/** All `n` participants arrive before any leaves. */
export function barrier(ctx: ProgramCtx, n: number): void {
  const v = view(ctx);
  Atomics.add(v.barrier.a, v.barrier.i, 1);
  backend.notify(v.barrier.a, v.barrier.i, Infinity, key(v.barrier.i));
  until(v.barrier.a, v.barrier.i, (x) => x >= n, 'barrier');
}

// --- mutex ---

export function counterLoop(ctx: ProgramCtx, args: { iters: number; locked: boolean; n: number }): number {
  const v = view(ctx);
  barrier(ctx, args.n);
  const a = v.counter.a;
  const i = v.counter.i;
  for (let k = 0; k < args.iters; k++) {
    if (args.locked) mutex_lock(v.m, 'counterLoop');
    const x = a[i]!; // non-atomic read-modify-write
    a[i] = x + 1;
    if (args.locked) mutex_unlock(v.m, 'counterLoop');
  }
  return args.iters;
}

/**
 * An unlocked read-modify-write whose window is held open by a handshake: every actor reads the
 * counter, then waits until all have read before it writes. Each writes the same value, so n - 1
 * increments are lost whatever the host's scheduler does.
 */
export function lostUpdate(ctx: ProgramCtx, args: { n: number }): void {
  const v = view(ctx);
  barrier(ctx, args.n);
  const x = v.counter.a[v.counter.i]!;
  Atomics.add(v.flag.a, v.flag.i, 1);
  backend.notify(v.flag.a, v.flag.i, Infinity, key(v.flag.i));
  until(v.flag.a, v.flag.i, (y) => y >= args.n, 'every read');
  v.counter.a[v.counter.i] = x + 1;
}

export function holdThenRelease(ctx: ProgramCtx): void {
  const v = view(ctx);
  mutex_lock(v.m, 'holdThenRelease');
  post(v.flag.a, v.flag.i, 1);
  until(v.flag2.a, v.flag2.i, (x) => x === 1, 'prober done');
  mutex_unlock(v.m, 'holdThenRelease');
  post(v.flag.a, v.flag.i, 2);
}

export function trylockProbe(ctx: ProgramCtx): number[] {
  const v = view(ctx);
  until(v.flag.a, v.flag.i, (x) => x === 1, 'holder');
  const whileHeld = mutex_trylock(v.m, 'trylockProbe');
  post(v.flag2.a, v.flag2.i, 1);
  until(v.flag.a, v.flag.i, (x) => x === 2, 'release');
  const afterRelease = mutex_trylock(v.m, 'trylockProbe');
  if (afterRelease) mutex_unlock(v.m, 'trylockProbe');
  return [whileHeld, afterRelease];
}

export function lockAndHold(ctx: ProgramCtx): void {
  const v = view(ctx);
  mutex_lock(v.m, 'lockAndHold');
  post(v.flag.a, v.flag.i, 1);
  until(v.flag2.a, v.flag2.i, (x) => x === 1, 'intruder');
  mutex_unlock(v.m, 'lockAndHold');
}

export function unlockNotOwned(ctx: ProgramCtx): boolean {
  const v = view(ctx);
  until(v.flag.a, v.flag.i, (x) => x === 1, 'owner');
  mutex_unlock(v.m, 'unlockNotOwned');
  const stillHeld = Atomics.load(v.m.a, v.m.i) !== 0;
  post(v.flag2.a, v.flag2.i, 1);
  return stillHeld;
}

// --- spinlock ---

export function spinCounterLoop(ctx: ProgramCtx, args: { iters: number; n: number }): number {
  const v = view(ctx);
  barrier(ctx, args.n);
  const a = v.counter.a;
  const i = v.counter.i;
  for (let k = 0; k < args.iters; k++) {
    const f = spin_lock_irqsave(v.s, 'spinCounterLoop');
    a[i] = a[i]! + 1;
    spin_unlock_irqrestore(v.s, f, 'spinCounterLoop');
  }
  return args.iters;
}

export function sleepUnderSpinlock(ctx: ProgramCtx): string {
  const v = view(ctx);
  spin_lock(v.s, 'sleepUnderSpinlock');
  try {
    mutex_lock(v.m, 'sleepUnderSpinlock');
    mutex_unlock(v.m, 'sleepUnderSpinlock');
    return 'no bug';
  } catch (e) {
    return (e as Error).name;
  } finally {
    spin_unlock(v.s, 'sleepUnderSpinlock');
  }
}

export function sleepInIrq(ctx: ProgramCtx): string {
  const v = view(ctx);
  ctx.actor.inIrq = true;
  try {
    wait_for_completion_timeout(v.c, 1, 'sleepInIrq');
    return 'no bug';
  } catch (e) {
    return (e as Error).name;
  } finally {
    ctx.actor.inIrq = false;
  }
}

// --- completion ---

export function initCompletion(ctx: ProgramCtx): void {
  init_completion(view(ctx).c);
}

export function completeOnce(ctx: ProgramCtx): void {
  complete(view(ctx).c, 'completeOnce');
}

export function completeAll(ctx: ProgramCtx): void {
  complete_all(view(ctx).c, 'completeAll');
}

/** Complete only once `n` waiters are asleep on the completion (a handshake, not a sleep). */
export function completeWhenWaiters(ctx: ProgramCtx, args: { n: number; all: boolean }): void {
  const v = view(ctx);
  until(v.c.a, v.c.i + 1, (x) => x >= args.n, 'waiters');
  if (args.all) complete_all(v.c, 'completeWhenWaiters');
  else for (let k = 0; k < args.n; k++) complete(v.c, 'completeWhenWaiters');
}

export function waitCompletion(ctx: ProgramCtx): boolean {
  wait_for_completion(view(ctx).c, 'waitCompletion');
  return true;
}

export function waitCompletionTimeout(ctx: ProgramCtx, args: { jiffies: number }): number {
  return wait_for_completion_timeout(view(ctx).c, args.jiffies, 'waitCompletionTimeout');
}

export function tryWait(ctx: ProgramCtx): boolean {
  return try_wait_for_completion(view(ctx).c);
}

// --- workqueue ---

let wq: WorkqueueStruct | null = null;
function the_wq(ctx: ProgramCtx): WorkqueueStruct {
  if (wq === null) {
    const v = view(ctx);
    const works = new Map<number, WorkStruct>([v.w0, v.w1, v.w2].map((w) => [w.id, w]));
    wq = create_singlethread_workqueue(ctx.g, 'vfio-ccw', (id) => works.get(id));
  }
  return wq;
}

function record(ctx: ProgramCtx, work: WorkStruct): void {
  const v = view(ctx);
  const n = Atomics.add(v.norder.a, v.norder.i, 1);
  Atomics.store(v.order.a, v.order.i + n, work.id);
  atomic_inc(v.ran, 'record');
}

let recordCtx: ProgramCtx | null = null;
register_work_fn(WORK_RECORD, (w) => {
  if (recordCtx !== null) record(recordCtx, w);
});
register_work_fn(WORK_GATED, (w) => {
  if (recordCtx === null) return;
  const v = view(recordCtx);
  post(v.flag.a, v.flag.i, 1); // the executor is inside the gated work
  if (wait_for_completion_timeout(v.gate, 2000, 'gated work') === 0) throw new Error('gate never opened');
  record(recordCtx, w);
});

export function initWorks(ctx: ProgramCtx, args: { gated: boolean }): void {
  const v = view(ctx);
  INIT_WORK(v.w0, args.gated ? WORK_GATED : WORK_RECORD, 0);
  INIT_WORK(v.w1, WORK_RECORD, 1);
  INIT_WORK(v.w2, WORK_RECORD, 2);
  init_completion(v.gate);
}

/** The todo actor's loop. */
export function executor(ctx: ProgramCtx): number {
  recordCtx = ctx;
  return worker_thread(the_wq(ctx));
}

export const test_wq = (ctx: ProgramCtx): WorkqueueStruct => the_wq(ctx);

export function stopExecutor(ctx: ProgramCtx): void {
  wq_stop(the_wq(ctx));
}

export function queueInOrder(ctx: ProgramCtx): boolean[] {
  const v = view(ctx);
  const q = the_wq(ctx);
  return [queue_work(q, v.w0, 'q'), queue_work(q, v.w1, 'q'), queue_work(q, v.w2, 'q')];
}

/** With the executor held inside w0: queueing w1 twice coalesces. Then flush sees everything done. */
export function coalesceAndFlush(ctx: ProgramCtx): { first: boolean; again: boolean; ranAtFlush: number; ids: number[] } {
  const v = view(ctx);
  const q = the_wq(ctx);
  queue_work(q, v.w0, 'coalesce');
  until(v.flag.a, v.flag.i, (x) => x === 1, 'executor inside w0');
  const first = queue_work(q, v.w1, 'coalesce');
  const again = queue_work(q, v.w1, 'coalesce');
  complete(v.gate, 'coalesce');
  flush_workqueue(q, 'coalesce');
  return { first, again, ranAtFlush: atomic_read(v.ran, 'coalesce'), ids: [v.w0.id, v.w1.id] };
}

export function flushAfterQueue(ctx: ProgramCtx): number {
  const v = view(ctx);
  const q = the_wq(ctx);
  queue_work(q, v.w0, 'flushAfterQueue');
  queue_work(q, v.w1, 'flushAfterQueue');
  queue_work(q, v.w2, 'flushAfterQueue');
  flush_workqueue(q, 'flushAfterQueue');
  return atomic_read(v.ran, 'flushAfterQueue');
}

export function readOrder(ctx: ProgramCtx): number[] {
  const v = view(ctx);
  const n = Atomics.load(v.norder.a, v.norder.i);
  return Array.from(v.order.a.subarray(v.order.i, v.order.i + n));
}

export function workqueueDepth(ctx: ProgramCtx): number {
  const a = ctx.g.i32;
  return Atomics.load(a, GLOBAL.workqueue + Workqueue.fields.queued_seq.off) - Atomics.load(a, GLOBAL.workqueue + Workqueue.fields.done_seq.off);
}

// --- eventfd ---

function ctxOf(ctx: ProgramCtx, fd: number): EventfdCtx {
  const c = eventfd_ctx_fdget(ctx.g, fd);
  if (typeof c === 'number') throw new Error(`bad fd ${fd}`);
  return c;
}

export function signalN(ctx: ProgramCtx, args: { fd: number; n: number }): void {
  const c = ctxOf(ctx, args.fd);
  for (let k = 0; k < args.n; k++) eventfd_signal(c, 'signalN');
  const v = view(ctx);
  post(v.flag.a, v.flag.i, 1);
}

export function readEventfd(ctx: ProgramCtx, args: { fd: number; timeoutMs: number; afterFlag: boolean }): number {
  const v = view(ctx);
  if (args.afterFlag) until(v.flag.a, v.flag.i, (x) => x === 1, 'signaller');
  return eventfd_read(ctxOf(ctx, args.fd), args.timeoutMs, 'readEventfd');
}

// --- ABBA (the controlled scheduler's deadlock case) ---

export function takeMM2(ctx: ProgramCtx): void {
  const v = view(ctx);
  mutex_lock(v.m, 'takeMM2');
  mutex_lock(v.m2, 'takeMM2');
  mutex_unlock(v.m2, 'takeMM2');
  mutex_unlock(v.m, 'takeMM2');
}

export function takeM2M(ctx: ProgramCtx): void {
  const v = view(ctx);
  mutex_lock(v.m2, 'takeM2M');
  mutex_lock(v.m, 'takeM2M');
  mutex_unlock(v.m, 'takeM2M');
  mutex_unlock(v.m2, 'takeM2M');
}
