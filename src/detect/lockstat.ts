// lock_stat (Documentation/locking/lockstat.rst): per lock class and per call site, contentions,
// bounces, wait and hold times, trylock failures, wait-latency histograms, and the user's
// request -> IRB latency. A hook consumer installed per worker over one SharedArrayBuffer:
//
//   header | locks | sites | slots | histogram bytes used | site strings | counters (per actor) | histogram bytes (per actor)
//
// Counters are exact. Each actor writes only its own counter block with plain stores (counting
// bounces no cache line between workers); main sums the blocks after the run. Times cost a
// performance.now() each (~90 ns), so holds are timed for every Nth acquisition per actor and
// waits for every Mth contention: min/max/avg are over the timed ones, totals are estimates.
//
// A lock's last holder lives in the lock table and is read and written only while holding that
// lock, so acq-bounces and con-bounces are exact without atomics. Interning (a lock id, a call
// site, a (lock, site) pair) takes a small table lock once per thread and key.
//
// Histograms are hdr-histogram-js, one per lock per worker, encoded into the worker's byte area
// when the consumer is uninstalled (the end of the run) and merged by main: the data path never
// posts a message.
import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64, type Histogram } from 'hdr-histogram-js';
import { H, type HookFn, register_hook } from '../kernel/hook.ts';
import { objClass } from '../kernel/layout.ts';
import { MAX_ACTORS } from '../kernel/global.ts';
import { set_io_latency_hook } from '../client/client.ts';

export const LOCKSTAT_ACTORS = MAX_ACTORS;
const LOCK_CAP = 128;
const SITE_CAP = 512;
const SLOT_CAP = 512;
const STR_BYTES = 32 * 1024;
const HIST_BYTES = 32 * 1024; // per actor
/** Hold times are measured for one acquisition in this many (per actor). */
export const DEFAULT_HOLD_SAMPLE = 16;
/** Wait times are measured for one contention in this many (per actor): a contention already waits. */
export const DEFAULT_WAIT_SAMPLE = 1;

/** Header words. */
const Hdr = {
  version: 0,
  hold_sample: 1,
  wait_sample: 2,
  table_lock: 3,
  locks_used: 4,
  sites_used: 5,
  slots_used: 6,
  str_used: 7,
  /** events on locks, sites or pairs beyond the tables (not counted) */
  dropped: 8,
  /** histograms that did not fit an actor's byte area */
  hist_dropped: 9,
  /** uninstalls: an Atomics op after the plain counter stores, so main's load sees them */
  flushes: 10,
  words: 16,
} as const;
const VERSION = 1;

const LOCK_WORDS = 16; // obj + 1, last holder actor + 1, holder's slot + 1; padded to 64 bytes: each lock's line bounces alone
const L_LAST = 1;
const L_HOLDER_SLOT = 2;
const SITE_WORDS = 2; // byte offset, length
const SLOT_WORDS = 2; // lock + 1, site

/** Counter fields of a slot (Float64: exact integers up to 2^53, and nanoseconds). */
const C = {
  contentions: 0,
  con_bounces: 1,
  wait_n: 2,
  wait_min: 3,
  wait_max: 4,
  wait_total: 5,
  acquisitions: 6,
  acq_bounces: 7,
  hold_n: 8,
  hold_min: 9,
  hold_max: 10,
  hold_total: 11,
  trylock_fail: 12,
  /** contentions in which the holder had taken the lock at this slot's site */
  contending: 13,
  words: 14,
} as const;

interface Layout {
  locks: number; // Int32 index
  sites: number; // Int32 index
  slots: number; // Int32 index
  str: number; // byte offset
  counts: number; // Float64 index
  histUsed: number; // Int32 index: bytes used per actor
  hist: number; // byte offset
  bytes: number;
}

const LAYOUT: Layout = (() => {
  const locks = Hdr.words;
  const sites = locks + LOCK_CAP * LOCK_WORDS;
  const slots = sites + SITE_CAP * SITE_WORDS;
  const histUsed = slots + SLOT_CAP * SLOT_WORDS;
  const str = (histUsed + LOCKSTAT_ACTORS) * 4;
  const countsByte = Math.ceil((str + STR_BYTES) / 8) * 8;
  const hist = countsByte + LOCKSTAT_ACTORS * SLOT_CAP * C.words * 8;
  return { locks, sites, slots, str, counts: countsByte / 8, histUsed, hist, bytes: hist + LOCKSTAT_ACTORS * HIST_BYTES };
})();
const BLOCK = SLOT_CAP * C.words; // Float64 words per actor

export interface LockstatOptions {
  /** time one acquisition in this many (hold times) */
  hold_sample?: number;
  /** time one contention in this many (wait times) */
  wait_sample?: number;
}

/** Main: a fresh buffer for one run. */
export function alloc_lockstat(o: LockstatOptions = {}): SharedArrayBuffer {
  const hs = o.hold_sample ?? DEFAULT_HOLD_SAMPLE;
  const ws = o.wait_sample ?? DEFAULT_WAIT_SAMPLE;
  for (const [k, v] of [['hold_sample', hs], ['wait_sample', ws]] as const) {
    if (!Number.isInteger(v) || v < 1 || v > 0x7fffffff) throw new Error(`lockstat: ${k} must be a whole number >= 1, got ${v}`);
  }
  const sab = new SharedArrayBuffer(LAYOUT.bytes);
  const a = new Int32Array(sab);
  a[Hdr.version] = VERSION;
  a[Hdr.hold_sample] = hs;
  a[Hdr.wait_sample] = ws;
  return sab;
}

// The table lock: a 3-state futex word. Held for a few dozen loads, once per thread and key.
function lock(a: Int32Array, i: number): void {
  let c = Atomics.compareExchange(a, i, 0, 1);
  if (c === 0) return;
  if (c !== 2) c = Atomics.exchange(a, i, 2);
  while (c !== 0) {
    Atomics.wait(a, i, 2, 100);
    c = Atomics.exchange(a, i, 2);
  }
}
function unlock(a: Int32Array, i: number): void {
  if (Atomics.exchange(a, i, 0) === 2) Atomics.notify(a, i, 1);
}

const ns = (): number => performance.now() * 1e6;
const newHist = (): Histogram => build({ bitBucketSize: 32, numberOfSignificantValueDigits: 3, lowestDiscernibleValue: 1, autoResize: true });
const NO_SLOT = -2;
/** Histogram key of the request -> IRB latency (lock keys are lock indexes). */
const IO_KEY = 0xffff;

/** Install lock statistics in this thread; returns the uninstall (which flushes the histograms). */
export function start_lockstat(sab: SharedArrayBuffer, actor: number): () => void {
  const a = new Int32Array(sab);
  const f = new Float64Array(sab);
  const u8 = new Uint8Array(sab);
  const L = LAYOUT;
  const holdEvery = a[Hdr.hold_sample]!;
  const waitEvery = a[Hdr.wait_sample]!;
  const enc = new TextEncoder();
  const dec = new TextDecoder();

  // Thread-local caches of the shared tables.
  const lockOf = new Map<number, number>();
  // Hot-path caches: the last few objects and (lock, site) pairs, compared by identity (sites
  // are string literals), before the Maps.
  const MRU = 8;
  const mruObj = new Float64Array(MRU).fill(-1);
  const mruLock = new Int32Array(MRU);
  let mruObjNext = 0;
  const mruSite: string[] = new Array<string>(MRU).fill('\0');
  const mruSiteLock = new Int32Array(MRU).fill(-1);
  const mruSlot = new Int32Array(MRU);
  let mruSlotNext = 0;
  /** site string -> slot per lock index (-1: not interned yet; NO_SLOT: a table was full) */
  const slotsOf = new Map<string, Int32Array>();
  const siteOf = new Map<string, number>();

  const internLock = (obj: number): number => {
    lock(a, Hdr.table_lock);
    let l = -1;
    const n = a[Hdr.locks_used]!;
    for (let i = 0; i < n && l < 0; i++) if (a[L.locks + i * LOCK_WORDS] === obj + 1) l = i;
    if (l < 0 && n < LOCK_CAP) {
      l = n;
      a[L.locks + l * LOCK_WORDS] = obj + 1;
      a[Hdr.locks_used] = n + 1;
    }
    unlock(a, Hdr.table_lock);
    lockOf.set(obj, l); // -1 too: a full table is not asked again
    return l;
  };
  const lockIndex = (obj: number): number => {
    for (let i = 0; i < MRU; i++) if (mruObj[i] === obj) return mruLock[i]!;
    const l = lockOf.get(obj) ?? internLock(obj);
    if (l >= 0) {
      mruObj[mruObjNext] = obj;
      mruLock[mruObjNext] = l;
      mruObjNext = (mruObjNext + 1) & (MRU - 1);
    }
    return l;
  };

  // Called with the table lock held.
  const internSite = (site: string): number => {
    const known = siteOf.get(site);
    if (known !== undefined) return known;
    const n = a[Hdr.sites_used]!;
    for (let i = 0; i < n; i++) {
      const off = a[L.sites + i * SITE_WORDS]!;
      const len = a[L.sites + i * SITE_WORDS + 1]!;
      if (dec.decode(u8.slice(off, off + len)) === site) {
        siteOf.set(site, i);
        return i;
      }
    }
    const bytes = enc.encode(site).subarray(0, 200);
    const used = a[Hdr.str_used]!;
    if (n >= SITE_CAP || used + bytes.length > STR_BYTES) return -1;
    u8.set(bytes, L.str + used);
    a[L.sites + n * SITE_WORDS] = L.str + used;
    a[L.sites + n * SITE_WORDS + 1] = bytes.length;
    a[Hdr.str_used] = used + bytes.length;
    a[Hdr.sites_used] = n + 1;
    siteOf.set(site, n);
    return n;
  };
  const internSlot = (l: number, site: string, row: Int32Array): number => {
    lock(a, Hdr.table_lock);
    let s = -1;
    const st = internSite(site);
    if (st >= 0) {
      const n = a[Hdr.slots_used]!;
      for (let i = 0; i < n && s < 0; i++) if (a[L.slots + i * SLOT_WORDS] === l + 1 && a[L.slots + i * SLOT_WORDS + 1] === st) s = i;
      if (s < 0 && n < SLOT_CAP) {
        s = n;
        a[L.slots + s * SLOT_WORDS] = l + 1;
        a[L.slots + s * SLOT_WORDS + 1] = st;
        a[Hdr.slots_used] = n + 1;
      }
    }
    unlock(a, Hdr.table_lock);
    row[l] = s < 0 ? NO_SLOT : s;
    return s;
  };
  const slotIndex = (l: number, site: string): number => {
    for (let i = 0; i < MRU; i++) if (mruSite[i] === site && mruSiteLock[i] === l) return mruSlot[i]!;
    let row = slotsOf.get(site);
    if (row === undefined) slotsOf.set(site, (row = new Int32Array(LOCK_CAP).fill(-1)));
    const r = row[l]!;
    if (r === NO_SLOT) return -1;
    const s = r >= 0 ? r : internSlot(l, site, row);
    if (s >= 0) {
      mruSite[mruSlotNext] = site;
      mruSiteLock[mruSlotNext] = l;
      mruSlot[mruSlotNext] = s;
      mruSlotNext = (mruSlotNext + 1) & (MRU - 1);
    }
    return s;
  };
  let dropped = 0;

  // Per-thread sampling and in-flight state (each thread plays one actor).
  let holdCountdown = 1;
  let waitCountdown = 1;
  const holdStart = new Float64Array(LOCK_CAP); // 0: this hold is not timed
  const holdSlot = new Int32Array(LOCK_CAP);
  let pendObj = -1; // the contended acquisition in progress
  let pendSlot = -1;
  let pendT = 0;
  const waitHist = new Map<number, Histogram>();
  let ioHist: Histogram | null = null;

  const minmax = (b: number, n: number, min: number, max: number, total: number, d: number): void => {
    if (f[b + n] === 0 || d < f[b + min]!) f[b + min] = d;
    if (d > f[b + max]!) f[b + max] = d;
    f[b + total]! += d;
    f[b + n]! += 1;
  };

  const fn: HookFn = (kind, obj, site, who) => {
    if (kind > H.trylock_fail || kind === H.acquire) return; // the rest are not lock events
    if (who < 0 || who >= LOCKSTAT_ACTORS) return;
    const l = lockIndex(obj);
    if (l < 0) {
      dropped++;
      return;
    }
    const base = L.counts + who * BLOCK;
    if (kind === H.release) {
      const t0 = holdStart[l]!;
      if (t0 !== 0) {
        holdStart[l] = 0;
        minmax(base + holdSlot[l]! * C.words, C.hold_n, C.hold_min, C.hold_max, C.hold_total, ns() - t0);
      }
      return;
    }
    const s = slotIndex(l, site);
    if (s < 0) {
      dropped++;
      return;
    }
    const b = base + s * C.words;
    const lw = L.locks + l * LOCK_WORDS;
    if (kind === H.acquired) {
      f[b + C.acquisitions]! += 1;
      // We hold the lock: its last-holder word is ours to read and write.
      const prev = a[lw + L_LAST]!;
      a[lw + L_LAST] = who + 1;
      a[lw + L_HOLDER_SLOT] = s + 1;
      if (prev !== 0 && prev !== who + 1) f[b + C.acq_bounces]! += 1;
      let now = 0;
      if (pendObj === obj) {
        if (prev !== 0 && prev !== who + 1) f[b + C.con_bounces]! += 1;
        if (pendT !== 0) {
          now = ns();
          const d = now - pendT;
          minmax(base + pendSlot * C.words, C.wait_n, C.wait_min, C.wait_max, C.wait_total, d);
          let h = waitHist.get(l);
          if (h === undefined) waitHist.set(l, (h = newHist()));
          h.recordValue(Math.max(1, Math.round(d)));
        }
        pendObj = -1;
      }
      if (--holdCountdown === 0) {
        holdCountdown = holdEvery;
        holdStart[l] = now !== 0 ? now : ns();
        holdSlot[l] = s;
      }
    } else if (kind === H.contended) {
      f[b + C.contentions]! += 1;
      // The holder's site (a racy read of a word the holder wrote: statistics only).
      const hs = a[lw + L_HOLDER_SLOT]! - 1;
      if (hs >= 0) f[base + hs * C.words + C.contending]! += 1;
      pendObj = obj;
      pendSlot = s;
      if (--waitCountdown === 0) {
        waitCountdown = waitEvery;
        pendT = ns();
      } else pendT = 0;
    } else if (kind === H.trylock_fail) {
      f[b + C.trylock_fail]! += 1;
    }
  };
  const off = register_hook(fn);
  set_io_latency_hook((ms) => {
    if (ioHist === null) ioHist = newHist();
    ioHist.recordValue(Math.max(1, Math.round(ms * 1e6)));
  });

  return () => {
    off();
    set_io_latency_hook(null);
    if (actor >= 0 && actor < LOCKSTAT_ACTORS) {
      const all: [number, Histogram][] = [...waitHist];
      if (ioHist !== null) all.push([IO_KEY, ioHist]);
      const start = L.hist + actor * HIST_BYTES;
      for (const [key, h] of all) {
        const bytes = enc.encode(encodeIntoCompressedBase64(h));
        const used = a[L.histUsed + actor]!;
        if (used + 8 + bytes.length > HIST_BYTES) {
          Atomics.add(a, Hdr.hist_dropped, 1);
          continue;
        }
        const dv = new DataView(sab, start + used, 8);
        dv.setInt32(0, key);
        dv.setInt32(4, bytes.length);
        u8.set(bytes, start + used + 8);
        a[L.histUsed + actor] = used + 8 + bytes.length;
      }
    }
    if (dropped > 0) Atomics.add(a, Hdr.dropped, dropped);
    Atomics.add(a, Hdr.flushes, 1);
  };
}

// ---- main: read the buffer after the run ----

/** One lock_stat row; times in µs. Min/max/avg are over the timed (sampled) events; totals are avg × count. */
export interface LockstatRow {
  class: string;
  con_bounces: number;
  contentions: number;
  waittime_min_us: number;
  waittime_max_us: number;
  waittime_total_us: number;
  waittime_avg_us: number;
  /** contentions whose wait was timed */
  waittime_samples: number;
  acq_bounces: number;
  acquisitions: number;
  holdtime_min_us: number;
  holdtime_max_us: number;
  holdtime_total_us: number;
  holdtime_avg_us: number;
  holdtime_samples: number;
  trylock_failures: number;
  /** contentions in which the holder had taken the lock at this row's site(s) */
  contending: number;
}

export interface LockstatSiteRow extends LockstatRow {
  site: string;
}

export interface LatencySummary {
  count: number;
  min_us: number;
  mean_us: number;
  p50_us: number;
  p90_us: number;
  p99_us: number;
  p99_9_us: number;
  max_us: number;
}

/** What one run measured. */
export interface LockstatData {
  hold_sample: number;
  wait_sample: number;
  classes: LockstatRow[];
  sites: LockstatSiteRow[];
  /** lock-wait latency per class (timed contentions) */
  wait_hist: Record<string, Histogram>;
  /** the user's request -> final IRB latency (every I/O) */
  request_to_irb: Histogram;
  /** lock events not counted because a table was full; histograms that did not fit */
  dropped: number;
  hist_dropped: number;
}

/** Raw sums of one slot over the actors, in ns. */
type Raw = Float64Array;

const emptyRaw = (): Raw => new Float64Array(C.words);
function addRaw(into: Raw, from: Raw | Float64Array, at = 0): void {
  into[C.contentions]! += from[at + C.contentions]!;
  into[C.con_bounces]! += from[at + C.con_bounces]!;
  into[C.acquisitions]! += from[at + C.acquisitions]!;
  into[C.acq_bounces]! += from[at + C.acq_bounces]!;
  into[C.trylock_fail]! += from[at + C.trylock_fail]!;
  into[C.contending]! += from[at + C.contending]!;
  for (const [n, min, max, total] of [[C.wait_n, C.wait_min, C.wait_max, C.wait_total], [C.hold_n, C.hold_min, C.hold_max, C.hold_total]] as const) {
    const k = from[at + n]!;
    if (k === 0) continue;
    if (into[n] === 0 || from[at + min]! < into[min]!) into[min] = from[at + min]!;
    if (from[at + max]! > into[max]!) into[max] = from[at + max]!;
    into[total]! += from[at + total]!;
    into[n]! += k;
  }
}

const us = (x: number): number => Math.round(x / 10) / 100; // ns -> µs, 2 decimals as lock_stat prints

function toRow(cls: string, r: Raw): LockstatRow {
  const wn = r[C.wait_n]!;
  const hn = r[C.hold_n]!;
  const wavg = wn > 0 ? r[C.wait_total]! / wn : 0;
  const havg = hn > 0 ? r[C.hold_total]! / hn : 0;
  return {
    class: cls,
    con_bounces: r[C.con_bounces]!,
    contentions: r[C.contentions]!,
    waittime_min_us: us(r[C.wait_min]!),
    waittime_max_us: us(r[C.wait_max]!),
    waittime_total_us: us(wavg * r[C.contentions]!),
    waittime_avg_us: us(wavg),
    waittime_samples: wn,
    acq_bounces: r[C.acq_bounces]!,
    acquisitions: r[C.acquisitions]!,
    holdtime_min_us: us(r[C.hold_min]!),
    holdtime_max_us: us(r[C.hold_max]!),
    holdtime_total_us: us(havg * r[C.acquisitions]!),
    holdtime_avg_us: us(havg),
    holdtime_samples: hn,
    trylock_failures: r[C.trylock_fail]!,
    contending: r[C.contending]!,
  };
}

const byContention = (x: LockstatRow, y: LockstatRow): number => y.contentions - x.contentions || y.acquisitions - x.acquisitions || x.class.localeCompare(y.class);

/** Main, after every actor uninstalled: sum the actors' blocks, name classes and sites, merge the histograms. */
export function read_lockstat(sab: SharedArrayBuffer): LockstatData {
  const a = new Int32Array(sab);
  const f = new Float64Array(sab);
  const u8 = new Uint8Array(sab);
  const L = LAYOUT;
  Atomics.load(a, Hdr.flushes); // orders the workers' plain stores before the reads below
  const dec = new TextDecoder();
  const nLocks = Math.min(a[Hdr.locks_used]!, LOCK_CAP);
  const lockCls: string[] = [];
  for (let l = 0; l < nLocks; l++) lockCls.push(objClass(a[L.locks + l * LOCK_WORDS]! - 1));
  const siteName = (i: number): string => {
    const off = a[L.sites + i * SITE_WORDS]!;
    return dec.decode(u8.slice(off, off + a[L.sites + i * SITE_WORDS + 1]!));
  };
  const perClass = new Map<string, Raw>();
  const perSite = new Map<string, { cls: string; site: string; raw: Raw }>();
  const nSlots = Math.min(a[Hdr.slots_used]!, SLOT_CAP);
  for (let s = 0; s < nSlots; s++) {
    const l = a[L.slots + s * SLOT_WORDS]! - 1;
    const cls = lockCls[l] ?? `lock#${l}`;
    const site = siteName(a[L.slots + s * SLOT_WORDS + 1]!);
    const key = `${cls}\0${site}`;
    let ps = perSite.get(key);
    if (ps === undefined) perSite.set(key, (ps = { cls, site, raw: emptyRaw() }));
    for (let t = 0; t < LOCKSTAT_ACTORS; t++) addRaw(ps.raw, f, L.counts + t * BLOCK + s * C.words);
  }
  for (const ps of perSite.values()) {
    let pc = perClass.get(ps.cls);
    if (pc === undefined) perClass.set(ps.cls, (pc = emptyRaw()));
    addRaw(pc, ps.raw);
  }
  const wait_hist: Record<string, Histogram> = {};
  const request_to_irb = newHist();
  for (let t = 0; t < LOCKSTAT_ACTORS; t++) {
    const used = a[L.histUsed + t]!;
    const start = L.hist + t * HIST_BYTES;
    for (let p = 0; p + 8 <= used; ) {
      const dv = new DataView(sab, start + p, 8);
      const key = dv.getInt32(0);
      const len = dv.getInt32(4);
      const h = decodeFromCompressedBase64(dec.decode(u8.slice(start + p + 8, start + p + 8 + len)));
      if (key === IO_KEY) request_to_irb.add(h);
      else {
        const cls = lockCls[key] ?? `lock#${key}`;
        (wait_hist[cls] ??= newHist()).add(h);
      }
      p += 8 + len;
    }
  }
  return {
    hold_sample: a[Hdr.hold_sample]!,
    wait_sample: a[Hdr.wait_sample]!,
    classes: [...perClass].map(([c, r]) => toRow(c, r)).sort(byContention),
    sites: [...perSite.values()].map((p) => ({ ...toRow(p.cls, p.raw), site: p.site })).sort(byContention),
    wait_hist,
    request_to_irb,
    dropped: a[Hdr.dropped]!,
    hist_dropped: a[Hdr.hist_dropped]!,
  };
}

/** p50/p90/p99/p99.9 of a histogram of nanoseconds, in µs. */
export function summarize(h: Histogram): LatencySummary {
  const n = h.totalCount;
  const q = (p: number): number => (n === 0 ? 0 : us(h.getValueAtPercentile(p)));
  return { count: n, min_us: n === 0 ? 0 : us(h.minNonZeroValue), mean_us: n === 0 ? 0 : us(h.mean), p50_us: q(50), p90_us: q(90), p99_us: q(99), p99_9_us: q(99.9), max_us: n === 0 ? 0 : us(h.maxValue) };
}
