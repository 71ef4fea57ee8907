// Shared words: plain fields (every access visible to the hook), READ_ONCE/WRITE_ONCE, atomic_t.
import { current } from './current.ts';
import { H, hook } from './hook.ts';
import { KObj } from './obj.ts';
import { order_acquire, order_release } from './order.ts';

/** A plain shared word. Its accesses are plain (racy) loads and stores, as in C. */
export class Field extends KObj {
  get(site: string): number {
    if (hook !== null) hook(H.read, this.id, site, current.id, 4);
    return this.a[this.i]!;
  }
  set(v: number, site: string): void {
    if (hook !== null) hook(H.write, this.id, site, current.id, 4);
    this.a[this.i] = v;
  }
}

/** A marked access: as KCSAN, the race detector never reports two of these against each other. */
export function READ_ONCE(f: Field, site: string): number {
  if (hook !== null) hook(H.read_once, f.id, site, current.id, 4);
  return Atomics.load(f.a, f.i);
}

export function WRITE_ONCE(f: Field, v: number, site: string): void {
  if (hook !== null) hook(H.write_once, f.id, site, current.id, 4);
  Atomics.store(f.a, f.i, v);
}

/** atomic_t */
export class AtomicT extends KObj {}

/** Any shared word: a field, an atomic_t, or one element of a `words` array. */
export interface SharedWord {
  readonly a: Int32Array;
  readonly i: number;
}

/**
 * A harness's or a checker's look at a shared word (a scenario polling `state`, an invariant
 * reading the cp's generation, a run's statistics): no hook, so no detector files it and no
 * schedule point is made. Driver code never uses it: every kernel read goes through the
 * accessors above.
 */
export function peek(f: SharedWord): number {
  return Atomics.load(f.a, f.i);
}

/** A checker's write to its own bookkeeping word (the o_* oracle fields): as peek, invisible. */
export function poke(f: SharedWord, v: number): void {
  Atomics.store(f.a, f.i, v);
}

/**
 * refcount_t's add: atomic, and no hook event (no schedule point, nothing for the race
 * detector), as kref's count in lifetime.ts. Returns the new count.
 */
export function refcount_add_return(n: number, r: SharedWord): number {
  return Atomics.add(r.a, r.i, n) + n;
}

/**
 * refcount_dec_and_test on a counted object's word: true for the put that reaches zero. Release
 * on every put, acquire on the last (order.ts: for the race detector, no schedule point), so what
 * every putter did is ordered before what follows the last put.
 */
export function refcount_dec_and_test(r: KObj): boolean {
  order_release(r.id);
  const last = Atomics.add(r.a, r.i, -1) === 1;
  if (last) order_acquire(r.id);
  return last;
}

/**
 * A `words` array of a shared struct (the CRW entries, the debug log, the cp's chain tables):
 * each element is its own object for the hook (id = the array's id + index), reached as a
 * plain field (`at`) or an atomic_t (`atomic`), so no element is touched outside the seam.
 */
export class Words extends KObj {
  constructor(
    a: Int32Array,
    i: number,
    id: number,
    /** elements */
    readonly length: number,
  ) {
    super(a, i, id);
  }
  /** element `k` as a plain shared word */
  at(k: number): Field {
    return new Field(this.a, this.i + k, this.id + k);
  }
  /** element `k` as an atomic_t (a per-page pin count) */
  atomic(k: number): AtomicT {
    return new AtomicT(this.a, this.i + k, this.id + k);
  }
  /** `n` words from element `k` as an object of its own (an entry's kref) */
  sub<T extends KObj>(k: number, make: new (a: Int32Array, i: number, id: number) => T): T {
    return new make(this.a, this.i + k, this.id + k);
  }
}

const rd = (v: AtomicT, site: string): void => {
  if (hook !== null) hook(H.read_once, v.id, site, current.id, 4);
};
const wr = (v: AtomicT, site: string): void => {
  if (hook !== null) hook(H.write_once, v.id, site, current.id, 4);
};

export function atomic_read(v: AtomicT, site: string): number {
  rd(v, site);
  return Atomics.load(v.a, v.i);
}
export function atomic_set(v: AtomicT, n: number, site: string): void {
  wr(v, site);
  Atomics.store(v.a, v.i, n);
}
export function atomic_add_return(n: number, v: AtomicT, site: string): number {
  wr(v, site);
  return Atomics.add(v.a, v.i, n) + n;
}
export function atomic_inc(v: AtomicT, site: string): void {
  wr(v, site);
  Atomics.add(v.a, v.i, 1);
}
export function atomic_dec(v: AtomicT, site: string): void {
  wr(v, site);
  Atomics.sub(v.a, v.i, 1);
}
export function atomic_inc_return(v: AtomicT, site: string): number {
  return atomic_add_return(1, v, site);
}
export function atomic_dec_return(v: AtomicT, site: string): number {
  return atomic_add_return(-1, v, site);
}
export function atomic_cmpxchg(v: AtomicT, old: number, n: number, site: string): number {
  wr(v, site);
  return Atomics.compareExchange(v.a, v.i, old, n);
}
/** Decrement unless that would go below zero; returns the new value (negative: not done). */
export function atomic_dec_if_positive(v: AtomicT, site: string): number {
  wr(v, site);
  let c = Atomics.load(v.a, v.i);
  for (;;) {
    const d = c - 1;
    if (d < 0) return d;
    const seen = Atomics.compareExchange(v.a, v.i, c, d);
    if (seen === c) return d;
    c = seen;
  }
}
