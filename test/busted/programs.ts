// Programs run on actor workers: each detector's busted case and its correct twin.
import {
  complete, create_singlethread_workqueue, flush_workqueue, INIT_WORK, mutex_lock, mutex_unlock, queue_work, register_work_fn, spin_lock,
  spin_lock_irq, spin_unlock, spin_unlock_irq, wait_for_completion, wait_for_completion_timeout, worker_thread, wq_stop, type WorkqueueStruct, H, hook, current,
} from '../../src/kernel/index.ts';
import { alloc_lockdep, start_lockdep, type LockdepBuf } from '../../src/detect/lockdep.ts';
import { buf, type ProgramCtx } from '../../src/runtime/context.ts';
import { BUSTED_INDEX, bustedArea } from './area.ts';

const v = (ctx: ProgramCtx) => bustedArea(buf(ctx, BUSTED_INDEX));

let stop: (() => void) | null = null;
/** Install lockdep in this worker over the given shared graph. */
export function lockdepOn(_ctx: ProgramCtx, args: { sab: SharedArrayBuffer }): void {
  stop?.();
  const b: LockdepBuf = { sab: args.sab };
  stop = start_lockdep(b);
}
export function lockdepOff(): void {
  stop?.();
  stop = null;
}
export { alloc_lockdep };

export function takeAB(ctx: ProgramCtx): void {
  const x = v(ctx);
  mutex_lock(x.lock_a, 'takeAB');
  mutex_lock(x.lock_b, 'takeAB');
  mutex_unlock(x.lock_b, 'takeAB');
  mutex_unlock(x.lock_a, 'takeAB');
}

export function takeBA(ctx: ProgramCtx): void {
  const x = v(ctx);
  mutex_lock(x.lock_b, 'takeBA');
  mutex_lock(x.lock_a, 'takeBA');
  mutex_unlock(x.lock_a, 'takeBA');
  mutex_unlock(x.lock_b, 'takeBA');
}

/** The lock an IRQ handler takes, taken elsewhere with interrupts on (spin_lock instead of _irq). */
export function irqUse(ctx: ProgramCtx): void {
  const x = v(ctx);
  ctx.actor.inIrq = true;
  ctx.actor.irqsOff = true;
  hookIrq(true);
  spin_lock(x.sch_lock, 'irq handler');
  spin_unlock(x.sch_lock, 'irq handler');
  hookIrq(false);
  ctx.actor.inIrq = false;
  ctx.actor.irqsOff = false;
}
export function processUseIrqsOn(ctx: ProgramCtx): void {
  const x = v(ctx);
  spin_lock(x.sch_lock, 'process, irqs on');
  spin_unlock(x.sch_lock, 'process, irqs on');
}
export function processUseIrqsOff(ctx: ProgramCtx): void {
  const x = v(ctx);
  spin_lock_irq(x.sch_lock, 'process, irqs off');
  spin_unlock_irq(x.sch_lock, 'process, irqs off');
}

function hookIrq(enter: boolean): void {
  if (hook !== null) hook(enter ? H.irq_enter : H.irq_exit, 0, 'irq', current.id, 0);
}

// flush_workqueue under a lock that a work item takes
let wq: WorkqueueStruct | null = null;
let wctx: ProgramCtx | null = null;
const the_wq = (ctx: ProgramCtx): WorkqueueStruct => {
  if (wq === null) {
    const x = v(ctx);
    wq = create_singlethread_workqueue(ctx.g, 'vfio-ccw', (id) => (id === x.w.id ? x.w : undefined));
  }
  return wq;
};
register_work_fn(7, () => {
  if (wctx === null) return;
  const x = v(wctx);
  mutex_lock(x.lock_a, 'work fn');
  mutex_unlock(x.lock_a, 'work fn');
});
export function initWork(ctx: ProgramCtx): void {
  INIT_WORK(v(ctx).w, 7, 0);
}
export function executor(ctx: ProgramCtx): number {
  wctx = ctx;
  return worker_thread(the_wq(ctx));
}
export function stopExecutor(ctx: ProgramCtx): void {
  wq_stop(the_wq(ctx));
}
/** Run the work (it takes lock_a), then flush: no lock held while flushing. */
export function queueAndFlush(ctx: ProgramCtx): void {
  const q = the_wq(ctx);
  queue_work(q, v(ctx).w, 'queueAndFlush');
  flush_workqueue(q, 'queueAndFlush');
}
/**
 * Flush an empty queue while holding lock_a: it returns at once, so nothing deadlocks now, but
 * had the work been queued it would wait for a work that waits for lock_a.
 */
export function flushUnderLock(ctx: ProgramCtx): void {
  const x = v(ctx);
  mutex_lock(x.lock_a, 'flushUnderLock');
  flush_workqueue(the_wq(ctx), 'flushUnderLock');
  mutex_unlock(x.lock_a, 'flushUnderLock');
}

/** Wait for a completion nobody signals (the watchdog's busted case). Bounded. */
export function waitNever(ctx: ProgramCtx, args: { jiffies: number }): number {
  return wait_for_completion_timeout(v(ctx).never, args.jiffies, 'waitNever');
}
export function completeDone(ctx: ProgramCtx): void {
  complete(v(ctx).done, 'completeDone');
}
/** Complete `done` while holding lock_a (another actor's wait under lock_a needs this actor). */
export function completeUnderA(ctx: ProgramCtx): void {
  const x = v(ctx);
  mutex_lock(x.lock_a, 'completeUnderA');
  complete(x.done, 'completeUnderA');
  mutex_unlock(x.lock_a, 'completeUnderA');
}
/** Wait for `done` while holding lock_a: with completeUnderA by another actor, a real cycle. */
export function waitUnderA(ctx: ProgramCtx): number {
  const x = v(ctx);
  mutex_lock(x.lock_a, 'waitUnderA');
  const left = wait_for_completion_timeout(x.done, 100, 'waitUnderA');
  mutex_unlock(x.lock_a, 'waitUnderA');
  return left;
}
/**
 * Drop the last reference and wait for it under lock_a, as vfio_unregister_group_dev does under
 * the css's reg_mutex: the complete is this actor's own and wakes nobody else.
 */
export function completeThenWaitUnderA(ctx: ProgramCtx): number {
  const x = v(ctx);
  mutex_lock(x.lock_a, 'completeThenWaitUnderA');
  complete(x.done, 'completeThenWaitUnderA');
  const left = wait_for_completion_timeout(x.done, 100, 'completeThenWaitUnderA');
  mutex_unlock(x.lock_a, 'completeThenWaitUnderA');
  return left;
}

// --- the watchdog's busted cases ---

import { backend as kbackend, read_actors } from '../../src/kernel/index.ts';

/** A mutex without its waiter state: unlock stores 0 and never wakes anyone. */
export function rawLockHold(ctx: ProgramCtx, args: { notify: boolean }): void {
  const x = v(ctx);
  const a = x.raw_mutex.a;
  const i = x.raw_mutex.i;
  while (Atomics.compareExchange(a, i, 0, 1) !== 0) kbackend.wait(a, i, 1, Infinity, x.raw_mutex.id);
  Atomics.store(x.step.a, x.step.i, 1);
  Atomics.notify(x.step.a, x.step.i);
  // Hold until the other actor is asleep on the lock word (its actor slot says what it waits on).
  const end = performance.now() + 10_000;
  while (!read_actors(ctx.g).some((o) => o.id !== ctx.actor.id && o.waitingOn === x.raw_mutex.id) && performance.now() < end) Atomics.wait(x.counter.a, x.counter.i, 0, 5);
  Atomics.store(a, i, 0);
  if (args.notify) Atomics.notify(a, i);
}
export function rawLockWait(ctx: ProgramCtx): void {
  const x = v(ctx);
  const a = x.raw_mutex.a;
  const i = x.raw_mutex.i;
  const end = performance.now() + 10_000;
  while (Atomics.load(x.step.a, x.step.i) === 0 && performance.now() < end) Atomics.wait(x.step.a, x.step.i, 0, 20);
  Atomics.store(x.counter.a, x.counter.i, 1);
  Atomics.notify(x.counter.a, x.counter.i);
  while (Atomics.compareExchange(a, i, 0, 1) !== 0) kbackend.wait(a, i, 1, Infinity, x.raw_mutex.id);
  Atomics.store(a, i, 0);
}
/** Wait for a completion that nobody signals (wait_for_completion: no timeout). */
export function waitForever(ctx: ProgramCtx): void {
  wait_for_completion(v(ctx).never, 'waitForever');
}
export function completeNever(ctx: ProgramCtx): void {
  complete(v(ctx).never, 'completeNever');
}
