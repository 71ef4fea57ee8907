// The tracer: a hook consumer that writes every event into its actor's ring in a shared
// trace buffer. Reports, interleaving tables and timelines are rebuilt from these rings.
import { H, type HookFn, type HookKind, HookName, register_hook } from '../kernel/hook.ts';
import { set_trace_seq } from '../kernel/bug.ts';
import { MAX_ACTORS } from '../kernel/global.ts';

export const TRACE_ACTORS = MAX_ACTORS;
export const EVENT_WORDS = 8; // f64 time (2 words), seq, kind|actor, site, obj, arg, spare
const HDR = 16; // words: [0] global seq, [1] ring capacity, [2] string table used bytes, [3] string lock
const STR_BYTES = 64 * 1024;

export interface TraceEvent {
  /** ms since the epoch (performance.timeOrigin + now, so workers agree) */
  t: number;
  seq: number;
  kind: HookKind;
  actor: number;
  site: string;
  obj: number;
  arg: number;
}

export interface TraceBuf {
  sab: SharedArrayBuffer;
  cap: number;
}

function layout(cap: number): { ringBase: (a: number) => number; strBase: number; words: number } {
  const ringWords = cap * EVENT_WORDS + 4; // +4: head counter (in events) and padding; keeps f64 alignment
  const ringsStart = HDR;
  const strBase = ringsStart + TRACE_ACTORS * ringWords;
  return { ringBase: (a) => ringsStart + a * ringWords, strBase, words: strBase + STR_BYTES / 4 };
}

/** Main: allocate a trace buffer with `cap` events per actor (a power of two). */
export function alloc_trace(cap = 1 << 14): TraceBuf {
  const L = layout(cap);
  const sab = new SharedArrayBuffer(L.words * 4);
  const a = new Int32Array(sab);
  a[1] = cap;
  return { sab, cap };
}

export function reset_trace(tb: TraceBuf): void {
  const a = new Int32Array(tb.sab);
  const L = layout(tb.cap);
  // Only the counters: events past a ring's head are never read. The string table survives
  // (ids are hashes, still valid).
  a[0] = 0;
  a[1] = tb.cap;
  for (let k = 0; k < TRACE_ACTORS; k++) a[L.ringBase(k)] = 0;
}

const fnv = (s: string): number => {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
};

// One tracer per thread and trace buffer, re-armed per run: its interned strings stay valid (the
// string table survives reset_trace), and a hook consumer that stays the same function keeps its
// call sites monomorphic.
interface Tracer {
  fn: HookFn;
  seq: () => number;
  /** a new run: the clock read afresh */
  arm: () => void;
  active: boolean;
}
const tracers = new WeakMap<SharedArrayBuffer, Tracer>();

/** Install the tracer in this thread; returns its unregister function. */
export function start_tracer(tb: TraceBuf): () => void {
  let t = tracers.get(tb.sab);
  if (t === undefined || t.active) {
    t = build_tracer(tb);
    if (!tracers.has(tb.sab)) tracers.set(tb.sab, t);
  }
  const armed = t;
  armed.arm();
  armed.active = true;
  const off = register_hook(armed.fn);
  set_trace_seq(armed.seq);
  return () => {
    off();
    set_trace_seq(null);
    armed.active = false;
  };
}

function build_tracer(tb: TraceBuf): Tracer {
  const a = new Int32Array(tb.sab);
  const f = new Float64Array(tb.sab);
  const u8 = new Uint8Array(tb.sab);
  const L = layout(tb.cap);
  const mask = tb.cap - 1;
  const known = new Map<string, number>();
  const enc = new TextEncoder();
  const origin = performance.timeOrigin;

  const intern = (s: string): number => {
    let id = known.get(s);
    if (id !== undefined) return id;
    id = fnv(s);
    const bytes = enc.encode(s).subarray(0, 250);
    // string table entries: [hash i32][len u8][bytes], appended under a tiny lock
    while (Atomics.compareExchange(a, 3, 0, 1) !== 0) Atomics.wait(a, 3, 1, 1);
    const used = a[2]!;
    if (used + 5 + bytes.length <= STR_BYTES) {
      const off = L.strBase * 4 + used;
      new DataView(tb.sab).setInt32(off, id);
      u8[off + 4] = bytes.length;
      u8.set(bytes, off + 5);
      a[2] = used + 5 + bytes.length;
    }
    Atomics.store(a, 3, 0);
    Atomics.notify(a, 3);
    known.set(s, id);
    return id;
  };

  // Call sites are string literals: a small cache compared by identity skips the Map lookup.
  const cacheS: string[] = new Array<string>(8).fill('');
  const cacheI = new Int32Array(8);
  let victim = 0;
  const site_id = (s: string): number => {
    for (let k = 0; k < 8; k++) if (cacheS[k] === s) return cacheI[k]!;
    const id = intern(s);
    cacheS[victim] = s;
    cacheI[victim] = id;
    victim = (victim + 1) & 7;
    return id;
  };

  // Plain field accesses are most of the events and shape no slice of a timeline: they reuse the
  // last clock reading (their order is the sequence number). Everything else is timed exactly.
  let lastT = origin + performance.now();
  const fn: HookFn = (kind, obj, site, actor, arg) => {
    const ring = L.ringBase(actor & (TRACE_ACTORS - 1));
    const head = a[ring]!;
    const e = ring + 4 + (head & mask) * EVENT_WORDS;
    if (kind < H.read || kind > H.write_once) lastT = origin + performance.now();
    f[e >> 1] = lastT;
    a[e + 2] = Atomics.add(a, 0, 1);
    a[e + 3] = (kind << 16) | (actor & 0xffff);
    a[e + 4] = site_id(site);
    a[e + 5] = obj;
    a[e + 6] = arg;
    Atomics.store(a, ring, head + 1);
  };
  // Events must be 8-byte aligned for the f64 time: ring starts and event sizes are even.
  const arm = (): void => {
    lastT = origin + performance.now();
  };
  return { fn, seq: () => Atomics.load(a, 0), arm, active: false };
}

/** Read every actor's ring (main, after a run), merged in global sequence order. */
export function read_trace(tb: TraceBuf, last = Infinity): TraceEvent[] {
  const a = new Int32Array(tb.sab);
  const f = new Float64Array(tb.sab);
  const L = layout(tb.cap);
  const dv = new DataView(tb.sab);
  const dec = new TextDecoder();
  const strings = new Map<number, string>();
  const used = Atomics.load(a, 2);
  for (let off = 0; off + 5 <= used; ) {
    const base = L.strBase * 4 + off;
    const len = dv.getUint8(base + 4);
    strings.set(dv.getInt32(base), dec.decode(new Uint8Array(tb.sab, base + 5, len)));
    off += 5 + len;
  }
  const out: TraceEvent[] = [];
  // A ring that wrapped lost its older events; before its oldest kept event the merged trace
  // would show that actor idle while it ran. Keep only the window every ring still covers.
  let from = -Infinity;
  for (let actor = 0; actor < TRACE_ACTORS; actor++) {
    const ring = L.ringBase(actor);
    const head = Atomics.load(a, ring);
    if (head > tb.cap) from = Math.max(from, a[ring + 4 + (head & (tb.cap - 1)) * EVENT_WORDS + 2]!);
  }
  for (let actor = 0; actor < TRACE_ACTORS; actor++) {
    const ring = L.ringBase(actor);
    const head = Atomics.load(a, ring);
    const n = Math.min(head, tb.cap, last);
    for (let k = head - n; k < head; k++) {
      const e = ring + 4 + (k & (tb.cap - 1)) * EVENT_WORDS;
      if (a[e + 2]! < from) continue;
      const ka = a[e + 3]!;
      out.push({ t: f[e >> 1]!, seq: a[e + 2]!, kind: (ka >>> 16) as HookKind, actor: ka & 0xffff, site: strings.get(a[e + 4]!) ?? '?', obj: a[e + 5]!, arg: a[e + 6]! });
    }
  }
  out.sort((x, y) => x.seq - y.seq);
  return out;
}

export function format_event(e: TraceEvent, name: (obj: number) => string): string {
  return `${e.seq} a${e.actor} ${HookName[e.kind]} ${name(e.obj)} @${e.site}${e.arg !== 0 ? ` (${e.arg})` : ''}`;
}

