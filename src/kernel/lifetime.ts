// Object lifetimes: a kref (include/linux/kref.h) whose count, generation and freeing site live
// in shared memory, so that a use of a freed object by any actor on any thread is seen.
//
// The kernel's refcount_t is atomic: get and put make no hook event (no schedule point, nothing
// for the race detector). A pointer remembers the generation of the object it was taken from; a
// use through it after the last put (or after the memory was born again) is reported as KASAN
// would: a use-after-free that names the site that freed the object and the site that used it.
// The access itself is then skipped, as the model has no freed memory to scribble on.
import { current } from './current.ts';
import { WARN, Warn } from './bug.ts';
import { KREF_SITE_BYTES as SITE_BYTES } from './layout.ts';
import { KObj } from './obj.ts';

const REFS = 0;
const GEN = 1;
const FREE_ACTOR = 2;
const SITE_LEN = 3;
const SITE = 4;
/** The count while the put that freed the object records its site (a few stores, no schedule point). */
const DYING = -1;
/** Bound on waiting for a freeing put to finish its stores (it never blocks in between). */
const DYING_SPINS = 1 << 20;

const enc = new TextEncoder();
const dec = new TextDecoder();

/** The view of one kref: `a[i]` is the count, 0 when dead (freed, or never born). */
export class Kref extends KObj {}

/** What an object is, for reports ("eventfd_ctx", "vfio_ccw_private", "vfio_ccw_crw"). */
export interface Lifetime {
  readonly ref: Kref;
  readonly what: string;
}

export const kref_read = (k: Kref): number => Atomics.load(k.a, k.i + REFS);
export const kref_gen = (k: Kref): number => Atomics.load(k.a, k.i + GEN);

/** Born with one reference; returns the new generation (a pointer to it keeps this number). */
export function kref_init(k: Kref): number {
  Atomics.store(k.a, k.i + SITE_LEN, 0);
  const gen = Atomics.add(k.a, k.i + GEN, 1) + 1;
  Atomics.store(k.a, k.i + REFS, 1);
  return gen;
}

function free_site(k: Kref): { site: string; actor: number } {
  for (let n = 0; n < DYING_SPINS && kref_read(k) === DYING; n++);
  const len = Atomics.load(k.a, k.i + SITE_LEN);
  const u8 = new Uint8Array(k.a.buffer, (k.i + SITE) * 4, SITE_BYTES);
  return { site: len > 0 ? dec.decode(u8.slice(0, len)) : '?', actor: Atomics.load(k.a, k.i + FREE_ACTOR) };
}

function report_uaf(o: Lifetime, site: string, how: string): void {
  const f = free_site(o.ref);
  WARN(Warn.use_after_free, o.ref.id, `BUG: KASAN: use-after-free in ${site}: ${how} ${o.what} freed at ${f.site} by actor ${f.actor}`);
}

/** Is the object the pointer of generation `gen` was taken from still alive? */
export function obj_alive(k: Kref, gen: number): boolean {
  return kref_read(k) > 0 && kref_gen(k) === gen;
}

/** A use of the object through a pointer of generation `gen`: false (and a report) if it is dead. */
export function obj_use(o: Lifetime, gen: number, site: string, how = 'access to'): boolean {
  if (obj_alive(o.ref, gen)) return true;
  report_uaf(o, site, how);
  return false;
}

/** kref_get through a pointer of generation `gen`: a get of a dead (or dying) object is a use-after-free. */
export function kref_get(o: Lifetime, gen: number, site: string): boolean {
  const k = o.ref;
  for (;;) {
    const n = kref_read(k);
    if (n <= 0 || kref_gen(k) !== gen) {
      obj_use(o, gen, site, 'kref_get on');
      return false;
    }
    if (Atomics.compareExchange(k.a, k.i + REFS, n, n + 1) === n) return true;
  }
}

/**
 * kref_put: true when this put freed the object (its release runs; its memory is dead now).
 * refcount_t decrements atomically, so of two puts racing on the last reference exactly one
 * frees and the other is refcount_t's underflow (a use-after-free here). The freeing put goes
 * 1 -> DYING, records its site, then 0: whoever sees the object dead finds the site recorded.
 */
export function kref_put(o: Lifetime, gen: number, site: string): boolean {
  const k = o.ref;
  for (;;) {
    const n = kref_read(k);
    if (n <= 0 || kref_gen(k) !== gen) {
      obj_use(o, gen, site, 'kref_put on');
      return false;
    }
    if (n > 1) {
      if (Atomics.compareExchange(k.a, k.i + REFS, n, n - 1) === n) return false;
      continue;
    }
    if (Atomics.compareExchange(k.a, k.i + REFS, 1, DYING) !== 1) continue;
    const b = enc.encode(site).subarray(0, SITE_BYTES);
    new Uint8Array(k.a.buffer, (k.i + SITE) * 4, SITE_BYTES).set(b);
    Atomics.store(k.a, k.i + FREE_ACTOR, current.id);
    Atomics.store(k.a, k.i + SITE_LEN, b.length);
    Atomics.store(k.a, k.i + REFS, 0);
    return true;
  }
}

/** kfree of an object without a count (private, a CRW entry): born by kref_init, dead now. */
export function obj_free(o: Lifetime, gen: number, site: string): void {
  if (!obj_use(o, gen, site, 'kfree of')) return;
  Atomics.store(o.ref.a, o.ref.i + REFS, 1);
  kref_put(o, gen, site);
}
