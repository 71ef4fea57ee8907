// The happens-before data-race detector (KCSAN's reports over FastTrack's vector clocks): a hook
// consumer that checks every instrumented shared access against the last accesses to the same
// location, with an edge for every synchronisation the seam reports.
//
// Everything lives in one SharedArrayBuffer, so clocks and shadow memory span the workers:
//   header | lock ids | actor clocks | sync clocks | findings | read clocks | shadow | strings
// Each actor's clock row is written only by the thread that plays it. Every shared entry (a sync
// clock, a shadow location, the findings table, the string table) is guarded by its own lock word,
// so the detector is race-free itself.
//
// Shadow memory: one entry per 4-byte location (a word field's object id; a region's id plus the
// word index), `alloc_race(cap)` entries (default 64 Ki, 64 bytes each), open addressing with at
// most MAX_PROBE probes. A location that finds no slot is not checked: every such word access is
// counted (race_stats().dropped) and the rig turns a non-zero count into an accounting finding.
// The read-clock pool, the sync table, the findings table and the lock slots count their
// overflows the same way (race_losses).
//
// Edges (release side -> acquire side, both keyed by the object id):
//   mutex/spinlock release   -> the next H.acquired of that lock (a failed trylock: no edge)
//   complete / complete_all  -> H.wake of a wait on that completion that returned signalled
//   queue_work               -> H.run of that work item
//   eventfd_signal           -> H.wake of the read that got a count
//   H.run_end of any work    -> H.wake of flush_workqueue (the single workqueue's object)
//   queue_work that queued,  -> H.wake at the return of cancel_work_sync on that work (both
//   H.run_end of that work      sides take pool->lock; a queue_work that found the work
//                               pending takes no lock and gives the cancel nothing)
// Lifetimes (src/kernel/kmem.ts, not hook events): kfree is a write to every word of the object;
// kzalloc of the same words starts them with no history. Synchronisation clocks are kept (an
// edge through a lock of the old object may hide a race, never make one up).
// A work item has two clocks: its own id (what pool->lock orders: queue_work that queued, the
// end of each run) and id + 1, its function word (a queue_work that found it pending, which
// only the next run follows).
// The interrupt needs no edge of its own. Every instruction that starts a function (ssch, hsch,
// csch) is issued under sch->lock, and do_cio_interrupt takes sch->lock before tsch. The handler
// that sees the status can only take the lock after the starter let go of it, so the starter's
// release -> the handler's acquired is already the "interrupt raised -> handler" edge.
import { GLOBAL, MAX_ACTORS, WQ_TAG_CIO } from '../kernel/global.ts';
import { H, type HookFn, register_hook } from '../kernel/hook.ts';
import { Kmem, type KmemFn, register_kmem } from '../kernel/kmem.ts';
import { Order, type OrderFn, register_order } from '../kernel/order.ts';
import { objName } from '../kernel/layout.ts';
import { QUEUE_DISABLED, QUEUE_PENDING } from '../kernel/workqueue.ts';

/** a vector clock per actor: every actor a run can have */
export const RACE_ACTORS = MAX_ACTORS;
const N = RACE_ACTORS;

/** Header words (one place for every slot, as piscina names its fields). */
const Hdr = {
  shadow_cap: 0,
  shadow_used: 1,
  /** accesses (per 4-byte word) not checked: no shadow slot within MAX_PROBE probes */
  dropped: 2,
  read_vc_used: 3,
  /** concurrent reads that could not get a read clock: the older reader was forgotten */
  read_vc_dropped: 4,
  /** synchronisations lost: the sync table was full */
  sync_dropped: 5,
  /** distinct races not recorded: the findings table was full (their repeats still count nowhere) */
  findings_dropped: 6,
  /** lock objects beyond LOCK_SLOTS: never shown in "locks held" */
  locks_dropped: 7,
  str_used: 8,
  str_lock: 9,
  find_lock: 10,
  accesses: 11,
  races: 12,
  words: 16,
} as const;

/** A work's second clock, keyed by its second word (the function id: never a sync object). */
const PENDING_CLOCK = 1;
const LOCK_SLOTS = 32; // interned lock ids: a held set is a 32-bit mask over them
const SYNC_CAP = 1024; // locks, completions, works, eventfds, the workqueue
const SYNC_WORDS = 2 + N; // key+1, lock, clock
const FIND_CAP = 512;
const FIND_WORDS = 16;
/** A findings-table row: its words by name. Word 5 is unused. */
const Row = { used: 0, obj: 1 /* object id + 1 */, count: 2, lo_site: 3, hi_site: 4, first: 6, second: 11 } as const;
/** One access of a row (first, second): actor, interned site, flags, span (offset << 16 | size), held-lock mask. */
const Acc = { actor: 0, site: 1, flags: 2, span: 3, locks: 4 } as const;

function put_access(a: Int32Array, at: number, actor: number, site: number, flags: number, span: number, locks: number): void {
  a[at + Acc.actor] = actor;
  a[at + Acc.site] = site;
  a[at + Acc.flags] = flags;
  a[at + Acc.span] = span;
  a[at + Acc.locks] = locks;
}
const RV_CAP = 2048; // read clocks for locations read concurrently
const RV_ACTOR_WORDS = 5; // clock, site, flags, span, locks
const RV_WORDS = N * RV_ACTOR_WORDS;
const STR_BYTES = 64 * 1024;
const MAX_PROBE = 64;

/** A shadow entry: the last write, and the last read (or a read clock when reads are concurrent). */
const S = {
  key: 0, // location + 1 (0: empty)
  lock: 1,
  base: 2, // object id of the accessed field (the region, for a word inside one)
  w_clock: 3, // 0: never written
  w_actor: 4,
  w_site: 5,
  w_flags: 6,
  w_span: 7, // pos << 16 | len of the whole access
  w_locks: 8,
  r_clock: 9, // 0: none; -1: shared, r_actor is the read clock's block index
  r_actor: 10,
  r_site: 11,
  r_flags: 12,
  r_span: 13,
  r_locks: 14,
  words: 16,
} as const;

const F_WRITE = 1;
const F_MARKED = 2;

export const DEFAULT_SHADOW_CAP = 1 << 16; // 64 Ki locations, 4 MiB: one device has ~25 Ki instrumented words

interface Layout {
  cap: number;
  locks: number;
  vc: number;
  sync: number;
  find: number;
  rv: number;
  shadow: number;
  str: number;
  words: number;
}

function layout(cap: number): Layout {
  const locks = Hdr.words;
  const vc = locks + LOCK_SLOTS;
  const sync = vc + N * N;
  const find = sync + SYNC_CAP * SYNC_WORDS;
  const rv = find + FIND_CAP * FIND_WORDS;
  const shadow = rv + RV_CAP * RV_WORDS;
  const str = shadow + cap * S.words;
  return { cap, locks, vc, sync, find, rv, shadow, str, words: str + STR_BYTES / 4 };
}

/**
 * Main: a detector buffer for one run. `shadowCap` locations (a power of two) are checked; an
 * access to a location that finds no slot is counted in `race_stats().dropped`, not checked.
 */
export function alloc_race(shadowCap = DEFAULT_SHADOW_CAP): SharedArrayBuffer {
  if (shadowCap < 16 || (shadowCap & (shadowCap - 1)) !== 0) throw new Error(`race: shadow capacity ${shadowCap} is not a power of two >= 16`);
  const sab = new SharedArrayBuffer(layout(shadowCap).words * 4);
  new Int32Array(sab)[Hdr.shadow_cap] = shadowCap;
  return sab;
}

const fnv = (s: string): number => {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h | 1; // never 0
};

// A futex lock word (0 free, 1 held, 2 held with waiters). Critical sections are a few dozen
// loads; a short spin covers them, the wait covers a holder the OS preempted.
function lock(a: Int32Array, i: number): void {
  let c = Atomics.compareExchange(a, i, 0, 1);
  if (c === 0) return;
  for (let n = 0; n < 16 && c !== 0; n++) c = Atomics.compareExchange(a, i, 0, 1);
  if (c === 0) return;
  if (c !== 2) c = Atomics.exchange(a, i, 2);
  while (c !== 0) {
    Atomics.wait(a, i, 2);
    c = Atomics.exchange(a, i, 2);
  }
}
function unlock(a: Int32Array, i: number): void {
  if (Atomics.exchange(a, i, 0) === 2) Atomics.notify(a, i, 1);
}

/** Install the detector in this thread (playing `actor`); returns its uninstall. */
export function start_race_detector(buf: SharedArrayBuffer, actor: number): () => void {
  const a = new Int32Array(buf);
  const L = layout(a[Hdr.shadow_cap]!);
  const mask = L.cap - 1;
  const shift = 32 - Math.log2(L.cap);
  const u8 = new Uint8Array(buf);
  const enc = new TextEncoder();
  const WQ_ID = GLOBAL.workqueue; // vfio-ccw's workqueue, in the global buffer (index 0)
  const CIO_WQ_ID = GLOBAL.cio_workqueue; // the css layer's cio_work_q (run hooks tagged WQ_TAG_CIO)

  // Thread-local state. Each thread plays one actor, but index by the hook's actor anyway.
  const held = new Int32Array(N); // locks held, as masks over the interned lock slots
  let accesses = 0; // added to the header at uninstall: a shared counter per access would bounce a cache line
  let inited = 0; // actors whose own clock component was set to 1 (epoch 0 means "none")
  const initActor = (t: number): void => {
    const i = L.vc + t * N + t;
    if (a[i] === 0) a[i] = 1;
    inited |= 1 << t;
  };
  if (actor >= 0 && actor < N) initActor(actor);

  // Sites: a string per call site, interned once per thread into the shared string table. The
  // hot path looks in a small most-recently-used array (identity compares of literals).
  const MRU = 8;
  const mruS: string[] = new Array<string>(MRU).fill('\0');
  const mruI = new Int32Array(MRU);
  let mruNext = 0;
  const sites = new Map<string, number>();
  const internSlow = (s: string): number => {
    let id = sites.get(s);
    if (id === undefined) {
      id = fnv(s);
      const bytes = enc.encode(s).subarray(0, 250);
      lock(a, Hdr.str_lock);
      const used = a[Hdr.str_used]!;
      if (used + 5 + bytes.length <= STR_BYTES) {
        const off = L.str * 4 + used;
        new DataView(buf).setInt32(off, id);
        u8[off + 4] = bytes.length;
        u8.set(bytes, off + 5);
        a[Hdr.str_used] = used + 5 + bytes.length;
      }
      unlock(a, Hdr.str_lock);
      sites.set(s, id);
    }
    mruS[mruNext] = s;
    mruI[mruNext] = id;
    mruNext = (mruNext + 1) & (MRU - 1);
    return id;
  };
  const siteId = (s: string): number => {
    for (let i = 0; i < MRU; i++) if (mruS[i] === s) return mruI[i]!;
    return internSlow(s);
  };

  /** Take an empty key word for k; true also if another thread just took it for the same k. */
  const claim = (i: number, k: number): boolean => {
    const seen = Atomics.compareExchange(a, i, 0, k);
    return seen === 0 || seen === k;
  };

  // Lock ids -> a bit in the held mask (shared slots, so every thread agrees on the bit).
  const lockBits = new Map<number, number>();
  const lockBit = (obj: number): number => {
    let b = lockBits.get(obj);
    if (b !== undefined) return b;
    b = 0;
    for (let i = 0; i < LOCK_SLOTS && b === 0; i++) {
      const v = Atomics.load(a, L.locks + i);
      if (v === obj + 1 || (v === 0 && claim(L.locks + i, obj + 1))) b = 1 << i;
    }
    if (b === 0) Atomics.add(a, Hdr.locks_dropped, 1);
    lockBits.set(obj, b);
    return b;
  };

  // Sync clocks: open addressing keyed by object id; the slot of an object is cached per thread.
  // Only a release takes a slot: an acquire of an object nobody released finds none (ABSENT) and
  // has nothing to take (a work's pending clock is acquired at every run, rarely released).
  const syncSlots = new Map<number, number>();
  const ABSENT = -2;
  const syncSlot = (obj: number, take: boolean): number => {
    const cached = syncSlots.get(obj);
    if (cached !== undefined) return cached;
    const k = obj + 1;
    let i = Math.imul(obj, 0x9e3779b1) >>> 22; // SYNC_CAP = 2^10
    for (let n = 0; n < SYNC_CAP; n++, i = (i + 1) & (SYNC_CAP - 1)) {
      const b = L.sync + i * SYNC_WORDS;
      const v = Atomics.load(a, b);
      if (v === 0 && !take) return ABSENT;
      if (v === k || (v === 0 && claim(b, k))) {
        syncSlots.set(obj, b);
        return b;
      }
    }
    return -1;
  };
  /** The actor's clock flows into the object's: a later acquire of the object sees it. */
  const release = (t: number, obj: number): void => {
    const b = syncSlot(obj, true);
    const c = L.vc + t * N;
    if (b < 0) Atomics.add(a, Hdr.sync_dropped, 1);
    else {
      lock(a, b + 1);
      for (let u = 0; u < N; u++) {
        const x = a[c + u]!;
        if (x > a[b + 2 + u]!) a[b + 2 + u] = x;
      }
      unlock(a, b + 1);
    }
    a[c + t]! += 1; // a new epoch: what follows the release is not ordered before it
  };
  const acquire = (t: number, obj: number): void => {
    const b = syncSlot(obj, false);
    if (b === ABSENT) return;
    if (b < 0) {
      Atomics.add(a, Hdr.sync_dropped, 1);
      return;
    }
    const c = L.vc + t * N;
    lock(a, b + 1);
    for (let u = 0; u < N; u++) {
      const x = a[b + 2 + u]!;
      if (x > a[c + u]!) a[c + u] = x;
    }
    unlock(a, b + 1);
  };

  /** The entry of a location, -1 if none: `take` claims an empty slot for it, else it stays without one. */
  const shadowSlot = (key: number, take: boolean): number => {
    const k = key + 1;
    let i = Math.imul(key, 0x9e3779b1) >>> shift;
    for (let n = 0; n < MAX_PROBE; n++, i = (i + 1) & mask) {
      const b = L.shadow + i * S.words;
      const v = Atomics.load(a, b);
      if (v === k) return b;
      if (v === 0) {
        if (!take) return -1;
        const seen = Atomics.compareExchange(a, b, 0, k);
        if (seen === 0) Atomics.add(a, Hdr.shadow_used, 1);
        if (seen === 0 || seen === k) return b;
      }
    }
    return -1;
  };

  // Findings: keyed by (field, unordered site pair); the first pair seen is kept. One access
  // over many words of a region counts once per finding (`counted`, reset per access).
  // KCSAN never reports two marked accesses (READ_ONCE/WRITE_ONCE/atomic on both sides,
  // kernel/kcsan/core.c v6.3): such a pair is no data race, and is dropped before it is counted.
  const findSlots = new Map<number, number>();
  const counted = new Int32Array(4);
  let ncounted = 0;
  const bump = (b: number): void => {
    for (let i = 0; i < ncounted; i++) if (counted[i] === b) return;
    if (ncounted < counted.length) counted[ncounted++] = b;
    Atomics.add(a, b + Row.count, 1);
  };
  const report = (base: number, pa: number, ps: number, pf: number, pspan: number, pl: number, t: number, s: number, f: number, span: number, l: number): void => {
    if ((pf & f & F_MARKED) !== 0) return;
    Atomics.add(a, Hdr.races, 1);
    const lo = (ps >>> 0) < (s >>> 0) ? ps : s;
    const hi = lo === ps ? s : ps;
    const h = (Math.imul(base, 0x9e3779b1) ^ Math.imul(lo, 0x85ebca6b) ^ Math.imul(hi, 0xc2b2ae35)) | 0;
    const cached = findSlots.get(h);
    if (cached !== undefined && a[cached + Row.obj] === base + 1 && a[cached + Row.lo_site] === lo && a[cached + Row.hi_site] === hi) {
      bump(cached);
      return;
    }
    lock(a, Hdr.find_lock);
    let i = (h >>> 0) % FIND_CAP;
    for (let n = 0; n < FIND_CAP; n++, i = (i + 1) % FIND_CAP) {
      const b = L.find + i * FIND_WORDS;
      if (a[b + Row.used] === 0) {
        a[b + Row.used] = 1;
        a[b + Row.obj] = base + 1;
        a[b + Row.lo_site] = lo;
        a[b + Row.hi_site] = hi;
        put_access(a, b + Row.first, pa, ps, pf, pspan, pl);
        put_access(a, b + Row.second, t, s, f, span, l);
        unlock(a, Hdr.find_lock);
        bump(b);
        findSlots.set(h, b);
        return;
      }
      if (a[b + Row.obj] === base + 1 && a[b + Row.lo_site] === lo && a[b + Row.hi_site] === hi) {
        unlock(a, Hdr.find_lock);
        bump(b);
        findSlots.set(h, b);
        return;
      }
    }
    unlock(a, Hdr.find_lock);
    Atomics.add(a, Hdr.findings_dropped, 1);
  };

  /** Check one 4-byte location (entry at e) and record this access; the entry lock is held. */
  const check = (e: number, base: number, t: number, c: number, s: number, f: number, span: number, l: number): void => {
    const now = a[c + t]!;
    const wc = a[e + S.w_clock]!;
    const wa = a[e + S.w_actor]!;
    if (wc !== 0 && wa !== t && wc > a[c + wa]!) report(base, wa, a[e + S.w_site]!, a[e + S.w_flags]!, a[e + S.w_span]!, a[e + S.w_locks]!, t, s, f, span, l);
    const rc = a[e + S.r_clock]!;
    if ((f & F_WRITE) !== 0) {
      if (rc > 0) {
        const ra = a[e + S.r_actor]!;
        if (ra !== t && rc > a[c + ra]!) report(base, ra, a[e + S.r_site]!, a[e + S.r_flags]!, a[e + S.r_span]!, a[e + S.r_locks]!, t, s, f, span, l);
      } else if (rc === -1) {
        // Every concurrent reader races with this write; then the reads are forgotten (FastTrack's
        // write-shared rule: later writes are ordered after this one or race with it).
        const rb = L.rv + a[e + S.r_actor]! * RV_WORDS;
        for (let u = 0; u < N; u++) {
          const q = rb + u * RV_ACTOR_WORDS;
          const x = a[q]!;
          if (x !== 0 && u !== t && x > a[c + u]!) report(base, u, a[q + 1]!, a[q + 2]!, a[q + 3]!, a[q + 4]!, t, s, f, span, l);
          a[q] = 0;
        }
      }
      a[e + S.w_clock] = now;
      a[e + S.w_actor] = t;
      a[e + S.w_site] = s;
      a[e + S.w_flags] = f;
      a[e + S.w_span] = span;
      a[e + S.w_locks] = l;
      a[e + S.base] = base;
      return;
    }
    if (rc === -1) {
      const q = L.rv + a[e + S.r_actor]! * RV_WORDS + t * RV_ACTOR_WORDS;
      a[q] = now;
      a[q + 1] = s;
      a[q + 2] = f;
      a[q + 3] = span;
      a[q + 4] = l;
      return;
    }
    const ra = a[e + S.r_actor]!;
    if (rc !== 0 && ra !== t && rc > a[c + ra]!) {
      // Two reads not ordered: keep both in a read clock.
      const blk = Atomics.add(a, Hdr.read_vc_used, 1);
      if (blk < RV_CAP) {
        const rb = L.rv + blk * RV_WORDS;
        let q = rb + ra * RV_ACTOR_WORDS;
        a[q] = rc;
        a[q + 1] = a[e + S.r_site]!;
        a[q + 2] = a[e + S.r_flags]!;
        a[q + 3] = a[e + S.r_span]!;
        a[q + 4] = a[e + S.r_locks]!;
        q = rb + t * RV_ACTOR_WORDS;
        a[q] = now;
        a[q + 1] = s;
        a[q + 2] = f;
        a[q + 3] = span;
        a[q + 4] = l;
        a[e + S.r_clock] = -1;
        a[e + S.r_actor] = blk;
        a[e + S.base] = base;
        return;
      }
      Atomics.add(a, Hdr.read_vc_dropped, 1);
    }
    a[e + S.r_clock] = now;
    a[e + S.r_actor] = t;
    a[e + S.r_site] = s;
    a[e + S.r_flags] = f;
    a[e + S.r_span] = span;
    a[e + S.r_locks] = l;
    a[e + S.base] = base;
  };

  /** A word field (arg 4) or a byte range of a region (arg = pos << 16 | len): each 4-byte word is a location. */
  const access = (t: number, obj: number, site: string, arg: number, f: number): void => {
    const len = arg & 0xffff;
    if (len === 0) return;
    const pos = arg >>> 16;
    const s = siteId(site);
    const c = L.vc + t * N;
    const l = held[t]!;
    const last = (pos + len - 1) >>> 2;
    accesses++;
    ncounted = 0;
    for (let w = pos >>> 2; w <= last; w++) {
      const e = shadowSlot(obj + w, true);
      if (e < 0) {
        Atomics.add(a, Hdr.dropped, 1);
        continue;
      }
      lock(a, e + S.lock);
      check(e, obj, t, c, s, f, arg, l);
      unlock(a, e + S.lock);
    }
  };

  const fn: HookFn = (kind, obj, site, t, arg) => {
    if (t < 0 || t >= N) return;
    if (((inited >>> t) & 1) === 0) initActor(t);
    switch (kind) {
      case H.read:
        access(t, obj, site, arg, 0);
        break;
      case H.write:
        access(t, obj, site, arg, F_WRITE);
        break;
      case H.read_once:
        access(t, obj, site, arg, F_MARKED);
        break;
      case H.write_once:
        access(t, obj, site, arg, F_WRITE | F_MARKED);
        break;
      case H.acquired:
        acquire(t, obj);
        held[t]! |= lockBit(obj);
        break;
      case H.release:
        held[t]! &= ~lockBit(obj);
        release(t, obj);
        break;
      case H.complete:
      case H.signal:
        release(t, obj);
        break;
      case H.queue:
        // arg 0 (already pending) too: the pending bit is cleared before the run, so that run
        // follows this call. The hook comes after the failed test-and-set; an executor that
        // clears the bit and reaches H.run inside that window misses the edge (a false report
        // of a real pattern, never a missed race). Only a queue_work that queued went through
        // pool->lock (insert_work), so only it is on the clock a cancel_work_sync acquires. One
        // refused because a cancel had the work disabled orders nothing.
        if (arg === QUEUE_PENDING) release(t, obj + PENDING_CLOCK);
        else if (arg !== QUEUE_DISABLED) release(t, obj);
        break;
      case H.run:
        acquire(t, obj);
        acquire(t, obj + PENDING_CLOCK);
        break;
      case H.run_end:
        // process_one_work retakes pool->lock after the callback: a later cancel_work_sync of
        // this work (start_flush_work takes the same lock) returns after this run.
        release(t, obj);
        // A flush returns after the works it waited for: over-approximated by every run that
        // ended before the flush returned (may hide a race, never reports a false one).
        release(t, arg === WQ_TAG_CIO ? CIO_WQ_ID : WQ_ID);
        break;
      case H.wake:
        // A completion, an eventfd read that got a count, a flush (on the workqueue object), or
        // the return of cancel_work_sync (on the work: see the top of the file).
        if (arg !== 0) acquire(t, obj);
        break;
      // H.irq_enter/irq_exit: ordered through sch->lock (see the top of the file).
      // H.cancel: its edge is the H.wake at the return, after any wait for a running instance.
    }
  };
  // Object lifetimes, as ThreadSanitizer has them: a free writes every word of the object (an
  // access not ordered before it races with it: a use-after-free race), an allocation leaves the
  // words with no history (the old object's accesses never pair with the new one's). Only words
  // with an entry are touched: a word never accessed has nothing to race with, and an entry
  // keeps its key (emptying it would cut the probe chains of other locations).
  const lifetime: KmemFn = (op, ranges, site, t) => {
    if (t < 0 || t >= N) return;
    if (((inited >>> t) & 1) === 0) initActor(t);
    const s = op === Kmem.free ? siteId(site) : 0;
    const c = L.vc + t * N;
    ncounted = 0;
    for (const r of ranges) {
      for (let key = r.lo; key < r.hi; key++) {
        const e = shadowSlot(key, false);
        if (e < 0) continue;
        lock(a, e + S.lock);
        if (op === Kmem.free) {
          const base = a[e + S.base]!;
          check(e, base, t, c, s, F_WRITE, (((key - base) * 4) << 16) | 4, held[t]!);
        } else {
          a[e + S.w_clock] = 0;
          a[e + S.r_clock] = 0;
        }
        unlock(a, e + S.lock);
      }
    }
  };
  // An atomic's order (refcount_dec_and_test): the same clocks as a lock's release and acquire
  const ordering: OrderFn = (op, obj, t) => {
    if (t < 0 || t >= N) return;
    if (((inited >>> t) & 1) === 0) initActor(t);
    if (op === Order.release) release(t, obj);
    else acquire(t, obj);
  };
  const off = register_hook(fn);
  const offKmem = register_kmem(lifetime);
  const offOrder = register_order(ordering);
  return () => {
    off();
    offKmem();
    offOrder();
    Atomics.add(a, Hdr.accesses, accesses);
    accesses = 0;
  };
}

// ---- reports (main, after the run: every actor is parked) ----

export interface AccessDesc {
  /** actor ("task") id */
  actor: number;
  site: string;
  op: 'read' | 'write';
  /** READ_ONCE / WRITE_ONCE / atomic_* */
  marked: boolean;
  /** lock object names held by the actor at the access */
  locks: string[];
  /** byte offset and length of the access within the field */
  offset: number;
  size: number;
}

export interface RaceFinding {
  /** a plain access on at least one side (marked/marked pairs are never findings) */
  id: 'data-race';
  field: string;
  message: string;
  /** the earlier access (the one the shadow memory remembered) */
  first: AccessDesc;
  /** the access that found it */
  second: AccessDesc;
  /** racing accesses seen for this field and site pair (an access over many words counts once) */
  count: number;
}

export interface RaceStats {
  shadow_capacity: number;
  shadow_used: number;
  accesses: number;
  /** racing accesses, counted per 4-byte word */
  races: number;
  /** 4-byte locations not checked because the shadow table had no slot for them */
  dropped: number;
  read_vc_dropped: number;
  sync_dropped: number;
  findings_dropped: number;
  locks_dropped: number;
}

export function race_stats(buf: SharedArrayBuffer): RaceStats {
  const a = new Int32Array(buf);
  return {
    shadow_capacity: a[Hdr.shadow_cap]!,
    shadow_used: a[Hdr.shadow_used]!,
    accesses: a[Hdr.accesses]!,
    races: a[Hdr.races]!,
    dropped: a[Hdr.dropped]!,
    read_vc_dropped: a[Hdr.read_vc_dropped]!,
    sync_dropped: a[Hdr.sync_dropped]!,
    findings_dropped: a[Hdr.findings_dropped]!,
    locks_dropped: a[Hdr.locks_dropped]!,
  };
}

/** Human lines for whatever the detector could not check (empty when it saw everything). */
export function race_losses(st: RaceStats): string[] {
  const out: string[] = [];
  if (st.dropped > 0) out.push(`race detector: ${st.dropped} word accesses not checked (shadow table of ${st.shadow_capacity} locations full)`);
  if (st.read_vc_dropped > 0) out.push(`race detector: ${st.read_vc_dropped} concurrent reads forgotten (read clocks exhausted)`);
  if (st.sync_dropped > 0) out.push(`race detector: ${st.sync_dropped} synchronisations lost (sync table full): reports may be false`);
  if (st.findings_dropped > 0) out.push(`race detector: ${st.findings_dropped} races not recorded (findings table full)`);
  if (st.locks_dropped > 0) out.push(`race detector: ${st.locks_dropped} locks beyond ${LOCK_SLOTS} not shown in held sets`);
  return out;
}

function read_strings(buf: SharedArrayBuffer, L: Layout): Map<number, string> {
  const a = new Int32Array(buf);
  const dv = new DataView(buf);
  const u8 = new Uint8Array(buf);
  const dec = new TextDecoder();
  const out = new Map<number, string>();
  const used = a[Hdr.str_used]!;
  for (let p = 0; p < used; ) {
    const off = L.str * 4 + p;
    const len = u8[off + 4]!;
    out.set(dv.getInt32(off), dec.decode(u8.slice(off + 5, off + 5 + len)));
    p += 5 + len;
  }
  return out;
}

export function race_report(buf: SharedArrayBuffer): RaceFinding[] {
  const a = new Int32Array(buf);
  const L = layout(a[Hdr.shadow_cap]!);
  const str = read_strings(buf, L);
  const site = (h: number): string => str.get(h) ?? `site#${(h >>> 0).toString(16)}`;
  const lockIds: number[] = [];
  for (let i = 0; i < LOCK_SLOTS; i++) lockIds.push(a[L.locks + i]! - 1);
  const locks = (m: number): string[] => {
    const out: string[] = [];
    for (let i = 0; i < LOCK_SLOTS; i++) if ((m >>> i) & 1) out.push(objName(lockIds[i]!));
    return out;
  };
  const desc = (b: number): AccessDesc => ({
    actor: a[b + Acc.actor]!,
    site: site(a[b + Acc.site]!),
    op: (a[b + Acc.flags]! & F_WRITE) !== 0 ? 'write' : 'read',
    marked: (a[b + Acc.flags]! & F_MARKED) !== 0,
    locks: locks(a[b + Acc.locks]!),
    offset: a[b + Acc.span]! >>> 16,
    size: a[b + Acc.span]! & 0xffff,
  });
  // Elements of a words() array carry their own object ids ("cp->pa_iova+10"): they are one
  // field, so merge them by (field, site pair, class) and keep the byte offset of the element.
  const merged = new Map<string, RaceFinding>();
  for (let i = 0; i < FIND_CAP; i++) {
    const b = L.find + i * FIND_WORDS;
    if (a[b + Row.used] === 0) continue;
    const name = objName(a[b + Row.obj]! - 1);
    const m = /^(.*)\+(\d+)$/.exec(name);
    const field = m === null ? name : m[1]!;
    const extra = m === null ? 0 : Number(m[2]) * 4;
    const first = desc(b + Row.first);
    const second = desc(b + Row.second);
    first.offset += extra;
    second.offset += extra;
    const id = 'data-race';
    const count = a[b + Row.count]!;
    const key = `${id}|${field}|${[first.site, second.site].sort().join('|')}`;
    const seen = merged.get(key);
    if (seen !== undefined) seen.count += count;
    else merged.set(key, { id, field, message: kcsan_message(field, first, second), first, second, count });
  }
  return [...merged.values()].sort((x, y) => y.count - x.count || x.field.localeCompare(y.field));
}

/** One line in KCSAN's words: the two functions sorted, then each access. */
export function kcsan_message(field: string, first: AccessDesc, second: AccessDesc): string {
  const one = (d: AccessDesc): string => {
    const at = d.offset === 0 ? field : `${field}+${d.offset}`;
    const held = d.locks.length === 0 ? 'no locks held' : `holding ${d.locks.join(', ')}`;
    return `${d.op}${d.marked ? ' (marked)' : ''} to ${at} of ${d.size} bytes by task ${d.actor} in ${d.site}, ${held}`;
  };
  const [x, y] = first.site <= second.site ? [first.site, second.site] : [second.site, first.site];
  return `BUG: KCSAN: data-race in ${x} / ${y}: ${one(first)}; ${one(second)}`;
}
