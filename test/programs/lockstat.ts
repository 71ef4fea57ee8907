// Programs for the lockstat tests: known contention patterns on the test area's locks, each
// step a handshake on shared words (bounded waits, no sleeps).
import { mutex_lock, mutex_trylock, mutex_unlock, spin_lock, spin_unlock } from '../../src/kernel/index.ts';
import { WAITERS } from '../../src/kernel/lockword.ts';
import { start_lockstat } from '../../src/detect/lockstat.ts';
import { buf, type ProgramCtx } from '../../src/runtime/context.ts';
import { AREA_INDEX, area } from './area.ts';

const BOUND_MS = 20_000;
const view = (ctx: ProgramCtx) => area(buf(ctx, AREA_INDEX));

/** Poll (bounded) until a[i] satisfies pred: a flag or a lock word another worker changes. */
function until(a: Int32Array, i: number, pred: (v: number) => boolean, what: string): void {
  const end = performance.now() + BOUND_MS;
  for (;;) {
    const v = Atomics.load(a, i);
    if (pred(v)) return;
    if (performance.now() > end) throw new Error(`timed out waiting for ${what} (value ${v})`);
    // A lock word's waiters bit is set without a notify: wake up now and then to look.
    Atomics.wait(a, i, v, 1);
  }
}

function post(a: Int32Array, i: number, v: number): void {
  Atomics.store(a, i, v);
  Atomics.notify(a, i);
}

let off: (() => void) | null = null;
export function lockstatOn(ctx: ProgramCtx, args: { sab: SharedArrayBuffer }): void {
  off?.();
  off = start_lockstat(args.sab, ctx.actor.id);
}
/** Uninstall: the histograms reach the shared buffer here. */
export function lockstatOff(): void {
  off?.();
  off = null;
}

/** Take m, let the waiter in, and release only once it is blocked on m (the waiters bit). */
export function holder(ctx: ProgramCtx): void {
  const v = view(ctx);
  mutex_lock(v.m, 'holder');
  post(v.flag.a, v.flag.i, 1);
  until(v.m.a, v.m.i, (w) => (w & WAITERS) !== 0, 'the waiter to block on m');
  mutex_unlock(v.m, 'holder');
}

export function waiter(ctx: ProgramCtx): void {
  const v = view(ctx);
  until(v.flag.a, v.flag.i, (x) => x === 1, 'the holder');
  mutex_lock(v.m, 'waiter');
  mutex_unlock(v.m, 'waiter');
}

/** Hold m until the trylocker has failed. */
export function holdForTrylock(ctx: ProgramCtx): void {
  const v = view(ctx);
  mutex_lock(v.m, 'holdForTrylock');
  post(v.flag.a, v.flag.i, 1);
  until(v.flag2.a, v.flag2.i, (x) => x === 1, 'the trylocker');
  mutex_unlock(v.m, 'holdForTrylock');
}

export function trylocker(ctx: ProgramCtx): number {
  const v = view(ctx);
  until(v.flag.a, v.flag.i, (x) => x === 1, 'the holder');
  const got = mutex_trylock(v.m, 'trylocker');
  if (got === 1) mutex_unlock(v.m, 'trylocker');
  post(v.flag2.a, v.flag2.i, 1);
  return got;
}

/** n lock/unlock pairs of the spinlock, nobody else around. */
export function spinAlone(ctx: ProgramCtx, args: { n: number; site: string }): void {
  const v = view(ctx);
  for (let k = 0; k < args.n; k++) {
    spin_lock(v.s, args.site);
    spin_unlock(v.s, args.site);
  }
}
