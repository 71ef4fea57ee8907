// Benchmark programs: each measures ours and the raw Atomics baseline in the same process.
import { Completion, complete, mutex_lock, mutex_unlock, wait_for_completion } from '../kernel/index.ts';
import { buf, type ProgramCtx } from '../runtime/context.ts';
import { BENCH_INDEX, BenchArea, benchArea } from './area.ts';

const v = (ctx: ProgramCtx) => benchArea(buf(ctx, BENCH_INDEX));
const F = BenchArea.fields;

function start(ctx: ProgramCtx, n: number): Int32Array {
  const a = buf(ctx, BENCH_INDEX).i32;
  Atomics.add(a, F.ready.off, 1);
  Atomics.notify(a, F.ready.off);
  const end = performance.now() + 20_000;
  while (Atomics.load(a, F.ready.off) < n) {
    if (performance.now() > end) throw new Error('bench start barrier timed out');
    Atomics.wait(a, F.ready.off, Atomics.load(a, F.ready.off), 20);
  }
  return a;
}

// --- raw baselines ---

function rawLock(a: Int32Array, i: number): void {
  let c = Atomics.compareExchange(a, i, 0, 1);
  if (c === 0) return;
  for (let k = 0; k < 32; k++) if (a[i] === 0 && Atomics.compareExchange(a, i, 0, 1) === 0) return;
  if (c !== 2) c = Atomics.exchange(a, i, 2);
  while (c !== 0) {
    Atomics.wait(a, i, 2);
    c = Atomics.exchange(a, i, 2);
  }
}
function rawUnlock(a: Int32Array, i: number): void {
  if (Atomics.exchange(a, i, 0) === 2) Atomics.notify(a, i, 1);
}

/** ns per uncontended lock+unlock: [ours, raw CAS/store] */
export function uncontended(ctx: ProgramCtx, args: { iters: number }): { ours: number; raw: number } {
  const m = v(ctx).m;
  const a = buf(ctx, BENCH_INDEX).i32;
  const r = F.raw.off;
  // warm up both paths so they are compiled before timing
  for (let k = 0; k < 200_000; k++) {
    mutex_lock(m, 'bench');
    mutex_unlock(m, 'bench');
    if (Atomics.compareExchange(a, r, 0, 1) === 0) Atomics.store(a, r, 0);
  }
  let t = performance.now();
  for (let k = 0; k < args.iters; k++) {
    if (Atomics.compareExchange(a, r, 0, 1) === 0) Atomics.store(a, r, 0);
  }
  const raw = ((performance.now() - t) * 1e6) / args.iters;
  t = performance.now();
  for (let k = 0; k < args.iters; k++) {
    mutex_lock(m, 'bench');
    mutex_unlock(m, 'bench');
  }
  const ours = ((performance.now() - t) * 1e6) / args.iters;
  return { ours, raw };
}

/** Contended: every participant does `iters` lock/unlock pairs; returns elapsed ms. */
export function contended(ctx: ProgramCtx, args: { iters: number; n: number; raw: boolean }): number {
  const a = start(ctx, args.n);
  const m = v(ctx).m;
  const t = performance.now();
  if (args.raw) {
    for (let k = 0; k < args.iters; k++) {
      rawLock(a, F.raw.off);
      a[F.counter.off]!++;
      rawUnlock(a, F.raw.off);
    }
  } else {
    for (let k = 0; k < args.iters; k++) {
      mutex_lock(m, 'bench');
      a[F.counter.off]!++;
      mutex_unlock(m, 'bench');
    }
  }
  return performance.now() - t;
}

function comp(ctx: ProgramCtx, k: number): Completion {
  const b = buf(ctx, BENCH_INDEX);
  const i = F.c.off + 2 * k;
  return new Completion(b.i32, i, BENCH_INDEX * (1 << 20) + i);
}

/**
 * A ring of `n` actors passing one token: actor `pos` waits on link pos, then hands the token to
 * link pos+1. n = 2 is a ping-pong. Returns elapsed ms for `rounds` trips.
 */
export function ring(ctx: ProgramCtx, args: { pos: number; n: number; rounds: number; raw: boolean }): number {
  const a = start(ctx, args.n);
  const { pos, n, rounds } = args;
  const t = performance.now();
  if (args.raw) {
    const mine = F.ring.off + pos;
    const next = F.ring.off + ((pos + 1) % n);
    for (let r = 0; r < rounds; r++) {
      if (!(pos === 0 && r === 0)) {
        while (Atomics.load(a, mine) === 0) Atomics.wait(a, mine, 0);
        Atomics.store(a, mine, 0);
      }
      Atomics.store(a, next, 1);
      Atomics.notify(a, next, 1);
    }
    if (pos === 0) {
      while (Atomics.load(a, mine) === 0) Atomics.wait(a, mine, 0);
      Atomics.store(a, mine, 0);
    }
  } else {
    const mine = comp(ctx, pos);
    const next = comp(ctx, (pos + 1) % n);
    for (let r = 0; r < rounds; r++) {
      if (!(pos === 0 && r === 0)) wait_for_completion(mine, 'bench');
      complete(next, 'bench');
    }
    if (pos === 0) wait_for_completion(mine, 'bench');
  }
  return performance.now() - t;
}

/** Stress: lock-protected plain increments; the caller checks the exact total. */
export function stressCounter(ctx: ProgramCtx, args: { iters: number; n: number }): number {
  const a = start(ctx, args.n);
  const m = v(ctx).m;
  for (let k = 0; k < args.iters; k++) {
    mutex_lock(m, 'stressCounter');
    const x = a[F.counter.off]!;
    a[F.counter.off] = x + 1;
    mutex_unlock(m, 'stressCounter');
  }
  return args.iters;
}
