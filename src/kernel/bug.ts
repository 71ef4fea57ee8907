// WARN, BUG and the debug checks (might_sleep, lockdep_assert_held). Every report is
// recorded in the global warning ring, so main sees it whichever worker hit it.
import { current } from './current.ts';
import { GLOBAL, GlobalHeader, WARN_MSG_BYTES, WARN_RING, WarnEntry } from './global.ts';
import { H, hook } from './hook.ts';
import { objName, type SharedBuf } from './layout.ts';

export const Warn = {
  mutex_not_owner: 1, // mutex_unlock by an actor that does not own it
  spin_not_owner: 2,
  sleep_in_atomic: 3, // a sleeping primitive with a spinlock held or in IRQ context
  lock_not_held: 4, // lockdep_assert_held failed
  irq_state: 5, // _irq unlock with interrupts already on, and the like
  work_state: 6,
  eventfd: 7,
  driver: 8, // WARN_ON in driver code
  invariant: 9, // an invariant oracle fired (message starts with its id, e.g. "I2:")
  use_after_free: 10, // an object used after its last put / kfree (lifetime.ts)
} as const;
export type WarnCode = (typeof Warn)[keyof typeof Warn];
export const WarnName: Record<number, string> = Object.fromEntries(Object.entries(Warn).map(([k, v]) => [v, k]));

/** Thrown by BUG(): the actor stops, loudly; the record stays in the ring. */
export class KernelBug extends Error {
  constructor(
    readonly code: WarnCode,
    message: string,
  ) {
    super(message);
    this.name = 'KernelBug';
  }
}

const enc = new TextEncoder();

/** The tracer installs its sequence counter here, so a record can point into the trace. */
let trace_seq: () => number = () => -1;
export function set_trace_seq(fn: (() => number) | null): void {
  trace_seq = fn ?? (() => -1);
}
const HDR = GlobalHeader.fields;
const WF = WarnEntry.fields;
let u8: Uint8Array | null = null;

function record(code: WarnCode, obj: number, msg: string, isBug: boolean): void {
  const g = current.g;
  if (u8 === null || u8.buffer !== g.buffer) u8 = new Uint8Array(g.buffer);
  if (isBug) Atomics.add(g, GLOBAL.header + HDR.bug_count.off, 1);
  const bytes = enc.encode(msg).subarray(0, WARN_MSG_BYTES);
  // A repeat of a record already in the ring counts there: a flood of one warning (a sleep in
  // atomic context on every pass of a loop) must not evict the others.
  const made = Math.min(Atomics.load(g, GLOBAL.header + HDR.warn_count.off), WARN_RING);
  for (let k = 0; k < made; k++) {
    const b = GLOBAL.warn(k);
    if (g[b + WF.code.off] !== code || g[b + WF.obj.off] !== obj || Atomics.load(g, b + WF.len.off) !== bytes.length) continue;
    const off = (b + WF.msg.off) * 4;
    let same = true;
    for (let j = 0; j < bytes.length && same; j++) same = u8[off + j] === bytes[j];
    if (same) {
      Atomics.add(g, b + WF.count.off, 1);
      if (hook !== null) hook(H.warn, obj, msg, current.id, code);
      return;
    }
  }
  const n = Atomics.add(g, GLOBAL.header + HDR.warn_count.off, 1);
  const base = GLOBAL.warn(n % WARN_RING);
  Atomics.store(g, base + WF.count.off, 1);
  g[base + WF.code.off] = code;
  g[base + WF.actor.off] = current.id;
  g[base + WF.obj.off] = obj;
  g[base + WF.seq.off] = trace_seq();
  u8.set(bytes, (base + WF.msg.off) * 4);
  Atomics.store(g, base + WF.len.off, bytes.length);
  if (hook !== null) hook(H.warn, obj, msg, current.id, code);
}

export function WARN(code: WarnCode, obj: number, msg: string): void {
  record(code, obj, msg, false);
}

export function BUG(code: WarnCode, obj: number, msg: string): never {
  record(code, obj, msg, true);
  throw new KernelBug(code, msg);
}

let sleep_mode: 'bug' | 'warn' = 'bug';
/**
 * 'bug' (default): a sleep in atomic context throws, stopping the actor loudly. 'warn': it is
 * recorded and the actor goes on, as the kernel's splat does, so a run can report it and finish.
 */
export function set_might_sleep_mode(m: 'bug' | 'warn'): void {
  sleep_mode = m;
}

/** A sleeping primitive was called: with a spinlock held or in IRQ context that is a BUG. */
export function might_sleep(obj: number, site: string): void {
  const c = current;
  if (c.spinDepth !== 0 || c.inIrq) {
    if (hook !== null) hook(H.might_sleep, obj, site, c.id, 1);
    const why = c.inIrq ? 'in IRQ context' : `with ${c.spinDepth} spinlock(s) held`;
    const msg = `BUG: sleeping function called from invalid context at ${site} (${objName(obj)}) ${why}`;
    if (sleep_mode === 'bug') BUG(Warn.sleep_in_atomic, obj, msg);
    record(Warn.sleep_in_atomic, obj, msg, true);
  }
}

export interface WarnRecord { code: number; name: string; actor: number; obj: number; msg: string; seq: number; count: number }

/** Read the warnings recorded so far (main, after or during a run). */
export function read_warnings(g: SharedBuf, from = 0): { records: WarnRecord[]; count: number; bugs: number } {
  const a = g.i32;
  const count = Atomics.load(a, GLOBAL.header + HDR.warn_count.off);
  const bugs = Atomics.load(a, GLOBAL.header + HDR.bug_count.off);
  const dec = new TextDecoder();
  const records: WarnRecord[] = [];
  for (let n = Math.max(from, count - WARN_RING); n < count; n++) {
    const base = GLOBAL.warn(n % WARN_RING);
    const len = Atomics.load(a, base + WF.len.off);
    const off = (base + WF.msg.off) * 4;
    const code = a[base + WF.code.off] ?? 0;
    records.push({ code, name: WarnName[code] ?? 'unknown', actor: a[base + WF.actor.off] ?? 0, obj: a[base + WF.obj.off] ?? 0, msg: dec.decode(g.u8.slice(off, off + len)), seq: a[base + WF.seq.off] ?? -1, count: Math.max(1, Atomics.load(a, base + WF.count.off)) });
  }
  return { records, count, bugs };
}
