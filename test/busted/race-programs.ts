// Programs for the race detector's tests: racy accesses and their correctly published twins.
// Test handshakes (`step`) are raw Atomics with bounded waits: they fix the order of the two
// accesses without telling the detector, so "no synchronisation" is deterministic.
import {
  READ_ONCE, WRITE_ONCE, cancel_work_sync, complete, create_singlethread_workqueue, eventfd_ctx_fdget, eventfd_read, eventfd_signal, flush_workqueue, GLOBAL, HZ,
  INIT_WORK, kmem_alloc, kmem_free, mutex_lock, mutex_unlock, queue_work, register_work_fn, wait_for_completion_timeout, worker_thread, Workqueue, wq_stop, type WorkqueueStruct,
} from '../../src/kernel/index.ts';
import { start_race_detector } from '../../src/detect/race.ts';
import { buf, type ProgramCtx } from '../../src/runtime/context.ts';
import { RACE_INDEX, raceArea } from './race-area.ts';

const v = (ctx: ProgramCtx) => raceArea(buf(ctx, RACE_INDEX));
type Area = ReturnType<typeof v>;

let off: (() => void) | null = null;
/** Install the detector in this worker over the given buffer. */
export function raceOn(ctx: ProgramCtx, args: { sab: SharedArrayBuffer }): void {
  off?.();
  off = start_race_detector(args.sab, ctx.actor.id);
}
export function raceOff(): void {
  off?.();
  off = null;
}

function await_step(x: Area, n: number): void {
  const end = performance.now() + 10_000;
  for (;;) {
    const s = Atomics.load(x.step.a, x.step.i);
    if (s >= n) return;
    if (performance.now() > end) throw new Error(`step ${n} not reached (at ${s})`);
    Atomics.wait(x.step.a, x.step.i, s, 50);
  }
}
function post_step(x: Area, n: number): void {
  Atomics.store(x.step.a, x.step.i, n);
  Atomics.notify(x.step.a, x.step.i);
}

export interface AccessArgs {
  op: 'read' | 'write' | 'read_once' | 'write_once' | 'flag_write' | 'region_read' | 'region_write';
  site: string;
  /** hold the mutex around the access */
  lock?: boolean;
  /** wait for this step first */
  wait?: number;
  /** then post this step */
  post?: number;
  /** region byte range */
  pos?: number;
  len?: number;
}

/** One access to racetest.x / flag / region, optionally under the mutex, ordered by steps. */
export function access(ctx: ProgramCtx, args: AccessArgs): number {
  const x = v(ctx);
  if (args.wait !== undefined) await_step(x, args.wait);
  if (args.lock === true) mutex_lock(x.m, args.site);
  let r = 0;
  const pos = args.pos ?? 0;
  const len = args.len ?? 4;
  switch (args.op) {
    case 'read':
      r = x.x.get(args.site);
      break;
    case 'write':
      x.x.set(ctx.actor.id, args.site);
      break;
    case 'read_once':
      r = READ_ONCE(x.flag, args.site);
      break;
    case 'write_once':
      WRITE_ONCE(x.flag, ctx.actor.id, args.site);
      break;
    case 'flag_write':
      x.flag.set(ctx.actor.id, args.site);
      break;
    case 'region_read':
      r = x.region.read(pos, len, args.site).length;
      break;
    case 'region_write':
      x.region.write(pos, new Uint8Array(len).fill(ctx.actor.id), args.site);
      break;
  }
  if (args.lock === true) mutex_unlock(x.m, args.site);
  if (args.post !== undefined) post_step(x, args.post);
  return r;
}

// ---- completion ----

/** Write x, then complete (or, busted: complete, then write x and post step 1). */
export function publishComplete(ctx: ProgramCtx, args: { busted: boolean }): void {
  const x = v(ctx);
  if (!args.busted) x.x.set(1, 'publishComplete');
  complete(x.done, 'publishComplete');
  if (args.busted) {
    x.x.set(1, 'publishComplete');
    post_step(x, 1);
  }
}
export function consumeCompletion(ctx: ProgramCtx, args: { busted: boolean }): number {
  const x = v(ctx);
  if (wait_for_completion_timeout(x.done, 10 * HZ, 'consumeCompletion') === 0) throw new Error('completion timed out');
  if (args.busted) await_step(x, 1);
  return x.x.get('consumeCompletion');
}

// ---- eventfd ----

export function publishSignal(ctx: ProgramCtx, args: { fd: number; busted: boolean }): void {
  const x = v(ctx);
  const e = eventfd_ctx_fdget(ctx.g, args.fd);
  if (typeof e === 'number') throw new Error(`eventfd ${args.fd}: ${e}`);
  if (!args.busted) x.x.set(1, 'publishSignal');
  eventfd_signal(e, 'publishSignal');
  if (args.busted) {
    x.x.set(1, 'publishSignal');
    post_step(x, 1);
  }
}
export function consumeRead(ctx: ProgramCtx, args: { fd: number; busted: boolean }): number {
  const x = v(ctx);
  const e = eventfd_ctx_fdget(ctx.g, args.fd);
  if (typeof e === 'number') throw new Error(`eventfd ${args.fd}: ${e}`);
  if (eventfd_read(e, 10_000, 'consumeRead') === 0) throw new Error('eventfd read timed out');
  if (args.busted) await_step(x, 1);
  return x.x.get('consumeRead');
}

// ---- workqueue ----

const WORK_FN = 11;
let wq: WorkqueueStruct | null = null;
let wctx: ProgramCtx | null = null;
const the_wq = (ctx: ProgramCtx): WorkqueueStruct => {
  if (wq === null) {
    const x = v(ctx);
    wq = create_singlethread_workqueue(ctx.g, 'vfio-ccw', (id) => (id === x.w.id ? x.w : undefined));
  }
  return wq;
};
/**
 * The work reads what the queuer published, writes y, and posts step 1 (for the busted reader).
 * A slow work (arg 1) posts step 1 first and writes y only at step 2: it is still running then.
 */
register_work_fn(WORK_FN, (_w, slow) => {
  if (wctx === null) return;
  const x = v(wctx);
  if (slow === 1) {
    post_step(x, 1);
    await_step(x, 2);
  }
  x.x.get('race work fn');
  x.y.set(7, 'race work fn');
  if (slow !== 1) post_step(x, 1);
});
export function initWork(ctx: ProgramCtx, args: { slow?: boolean } | null): void {
  INIT_WORK(v(ctx).w, WORK_FN, args?.slow === true ? 1 : 0);
}
export function executor(ctx: ProgramCtx): number {
  wctx = ctx;
  return worker_thread(the_wq(ctx));
}
export function stopExecutor(ctx: ProgramCtx): void {
  wq_stop(the_wq(ctx));
}
/**
 * mode 'flush': write x, queue, flush, read y (all published). 'no-flush': write x, queue, wait
 * for the work's step, read y (y is not published). 'write-after-queue': queue, write x, flush,
 * read y (only x races).
 */
export function publishQueue(ctx: ProgramCtx, args: { mode: 'flush' | 'no-flush' | 'write-after-queue' }): number {
  const x = v(ctx);
  const q = the_wq(ctx);
  if (args.mode !== 'write-after-queue') x.x.set(1, 'publishQueue');
  queue_work(q, x.w, 'publishQueue');
  if (args.mode === 'write-after-queue') x.x.set(1, 'publishQueue');
  if (args.mode !== 'no-flush') flush_workqueue(q, 'publishQueue');
  else await_step(x, 1);
  return x.y.get('publishQueue');
}

// ---- cancel_work_sync ----

/** Raw Atomics (no edge): wait until the queue's word at `off` reaches n. */
function await_wq(ctx: ProgramCtx, off: number, n: number): void {
  const i = GLOBAL.workqueue + off;
  const end = performance.now() + 10_000;
  while (Atomics.load(ctx.g.i32, i) < n) {
    if (performance.now() > end) throw new Error(`workqueue word ${off} did not reach ${n}`);
    Atomics.wait(ctx.g.i32, i, Atomics.load(ctx.g.i32, i), 5);
  }
}

/** queue_work the area's work, writing x first if asked; then post `post` if given. */
export function queueIt(ctx: ProgramCtx, args: { write: boolean; wait?: number; post?: number }): boolean {
  const x = v(ctx);
  if (args.wait !== undefined) await_step(x, args.wait);
  if (args.write) x.x.set(1, 'queueIt');
  const queued = queue_work(the_wq(ctx), x.w, 'queueIt');
  if (args.post !== undefined) post_step(x, args.post);
  return queued;
}

export interface CancelArgs {
  /** wait for this step first */
  wait: number;
  /** and then for the worker to retire that many items (the run has returned) */
  retired?: number;
  /** the field written around the cancel */
  field: 'x' | 'y';
  /** 'after': cancel, then write; 'before': write, then cancel; 'none': only write */
  cancel: 'after' | 'before' | 'none';
}

/** The other side: cancel_work_sync on the area's work and a plain write, in the order asked. */
export function cancelThenWrite(ctx: ProgramCtx, args: CancelArgs): boolean {
  const x = v(ctx);
  await_step(x, args.wait);
  if (args.retired !== undefined) await_wq(ctx, Workqueue.fields.done_seq.off, args.retired);
  let was = false;
  if (args.cancel === 'before') x[args.field].set(2, 'cancelThenWrite');
  if (args.cancel !== 'none') was = cancel_work_sync(the_wq(ctx), x.w, 'cancelThenWrite');
  if (args.cancel !== 'before') x[args.field].set(2, 'cancelThenWrite');
  return was;
}

/** A bare handshake: wait for one step, post the next. */
export function stepAfter(ctx: ProgramCtx, args: { wait: number; post: number }): void {
  await_step(v(ctx), args.wait);
  post_step(v(ctx), args.post);
}

/**
 * Let a slow work finish (step 2) once a cancel_work_sync waits for it (the queue's
 * flush_waiters); with `queue`, first queue_work it again there. Returns what that queue_work did.
 */
export function releaseWhenCancelWaits(ctx: ProgramCtx, args: { queue?: boolean } | null): boolean {
  await_wq(ctx, Workqueue.fields.flush_waiters.off, 1);
  const x = v(ctx);
  const queued = args?.queue === true && queue_work(the_wq(ctx), x.w, 'releaseWhenCancelWaits');
  post_step(x, 2);
  return queued;
}

// ---- object lifetimes (kmem) ----

export interface LifeArgs {
  /** the area's fields the object covers */
  fields: ('x' | 'y' | 'region')[];
  /** kfree the object; then, with `alloc`, hand the same words out again */
  alloc: boolean;
  /** take and drop the mutex first (ordered after an access made under it) */
  lock?: boolean;
  wait?: number;
  post?: number;
}

/** kfree of an object over some of the area's fields (site "kfree"), then maybe kzalloc of the same words. */
export function freeObject(ctx: ProgramCtx, args: LifeArgs): void {
  const x = v(ctx);
  if (args.wait !== undefined) await_step(x, args.wait);
  if (args.lock === true) {
    mutex_lock(x.m, 'freeObject');
    mutex_unlock(x.m, 'freeObject');
  }
  const ranges = args.fields.map((f) => {
    const o = x[f];
    return { lo: o.id, hi: o.id + (f === 'region' ? Math.ceil(x.region.size / 4) : 1) };
  });
  kmem_free(ranges, 'kfree');
  if (args.alloc) kmem_alloc(ranges, 'kzalloc');
  if (args.post !== undefined) post_step(x, args.post);
}
