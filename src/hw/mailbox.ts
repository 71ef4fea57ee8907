// Scripted control of the machine: a command ring per subchannel that any actor posts to and
// the engine executes in order, acknowledging each by sequence number.
import { backend } from '../kernel/backend.ts';
import { HwSubchannel, MB_SENSE_WORDS, MB_SLOT_WORDS, MB_SLOTS, hw_ring, hw_touch, type Hw } from './layout.ts';

const F = HwSubchannel.fields;

/** Physical and logical path events, numbered as the kernel's CHP_* events (src/cio/chp.ts). */
export const HwPathEvent = { vary_off: 0, vary_on: 1, offline: 2, online: 3 } as const;
export type HwPathEvent = (typeof HwPathEvent)[keyof typeof HwPathEvent];

export const HwOp = { complete: 1, unsolicited: 2, gone: 3, path: 4, hold: 5, release: 6, set_cc: 7, back: 8 } as const;
export type HwOp = (typeof HwOp)[keyof typeof HwOp];

/** What an executed command reports back. */
export const HwRc = {
  /** took effect now (for complete/unsolicited: the status is pending) */
  done: 1,
  /** accepted, takes effect when the subchannel allows (status pending, busy, disabled) */
  queued: 0,
  /** nothing to act on (complete without a running start) */
  not_applicable: -1,
  bad: -2,
} as const;

/** Commands, JSON-able. dstat/cstat default to the architecture's usual values when omitted. */
export type HwCommand =
  /** end the running start now: 'final' (one final interrupt) or 'pci' (an intermediate one); begins a start still pending */
  | { op: 'complete'; kind: 'final' | 'pci'; dstat?: number; cstat?: number; sense?: number[] }
  /** device-initiated status; presented when idle + enabled + not pending, or at once while busy if busy = true (S3 variant) */
  | { op: 'unsolicited'; dstat: number; cstat?: number; sense?: number[]; busy?: boolean }
  /** the device disappears: later instructions cc 3; the css driver's sch_event(sch, 1) is called */
  | { op: 'gone' }
  /** a gone device is attached again: present, disabled, idle; the host sees a subchannel CRW (css_process_crw) */
  | { op: 'back' }
  /** a path event for a CHPID: offline/online change the path-available mask; every one calls chp_event */
  | { op: 'path'; event: HwPathEvent; chpid: number }
  /** the engine stops making timed progress and presenting interrupts, until release */
  | { op: 'hold' }
  | { op: 'release' }
  /** fault injection: the next `count` (default 1) ssch/hsch/csch/xsch answer `cc` without effect; cc 0 cancels */
  | { op: 'set_cc'; instr: 'ssch' | 'hsch' | 'csch' | 'xsch'; cc: number; count?: number };

const INSTR_OF = { ssch: 0, hsch: 1, csch: 2, xsch: 3 } as const;
const INSTR_NAME = ['ssch', 'hsch', 'csch', 'xsch'] as const;

function encode(c: HwCommand): { op: HwOp; a: [number, number, number, number]; sense: number[] | null } {
  switch (c.op) {
    case 'complete':
      return { op: HwOp.complete, a: [c.kind === 'pci' ? 1 : 0, c.dstat ?? -1, c.cstat ?? -1, 0], sense: c.sense ?? null };
    case 'unsolicited':
      return { op: HwOp.unsolicited, a: [c.dstat, c.cstat ?? 0, c.busy === true ? 1 : 0, 0], sense: c.sense ?? null };
    case 'gone':
      return { op: HwOp.gone, a: [0, 0, 0, 0], sense: null };
    case 'back':
      return { op: HwOp.back, a: [0, 0, 0, 0], sense: null };
    case 'path':
      return { op: HwOp.path, a: [c.event, c.chpid, 0, 0], sense: null };
    case 'hold':
      return { op: HwOp.hold, a: [0, 0, 0, 0], sense: null };
    case 'release':
      return { op: HwOp.release, a: [0, 0, 0, 0], sense: null };
    case 'set_cc':
      return { op: HwOp.set_cc, a: [INSTR_OF[c.instr], c.cc, c.count ?? 1, 0], sense: null };
  }
}

/** Decode a slot (the engine side). */
export function hw_decode(op: number, a: readonly number[], sense: number[] | null): HwCommand | null {
  const [a0 = 0, a1 = 0, a2 = 0] = a;
  switch (op) {
    case HwOp.complete:
      return { op: 'complete', kind: a0 === 1 ? 'pci' : 'final', ...(a1 >= 0 ? { dstat: a1 } : {}), ...(a2 >= 0 ? { cstat: a2 } : {}), ...(sense !== null ? { sense } : {}) };
    case HwOp.unsolicited:
      return { op: 'unsolicited', dstat: a0, cstat: a1, busy: a2 === 1, ...(sense !== null ? { sense } : {}) };
    case HwOp.gone:
      return { op: 'gone' };
    case HwOp.back:
      return { op: 'back' };
    case HwOp.path:
      return a0 >= 0 && a0 <= 3 ? { op: 'path', event: a0 as HwPathEvent, chpid: a1 } : null;
    case HwOp.hold:
      return { op: 'hold' };
    case HwOp.release:
      return { op: 'release' };
    case HwOp.set_cc: {
      const name = INSTR_NAME[a0];
      return name === undefined ? null : { op: 'set_cc', instr: name, cc: a1, count: a2 };
    }
    default:
      return null;
  }
}

const slot = (hw: Hw, seq: number): number => hw.b + F.mb_ring.off + ((seq - 1) % MB_SLOTS) * MB_SLOT_WORDS;
// slot words
const S_OP = 0;
const S_A = 1;
const S_RC = 5;
const S_SENSE = 6;
/** in a3: sense bytes were given (their count in the low byte) */
const SENSE_FLAG = 0x100;

function mb_lock(hw: Hw): void {
  const i = hw.b + F.mb_lock.off;
  while (Atomics.compareExchange(hw.a, i, 0, 1) !== 0) backend.wait(hw.a, i, 1, 1, hw.id + F.mb_lock.off);
}
function mb_unlock(hw: Hw): void {
  Atomics.store(hw.a, hw.b + F.mb_lock.off, 0);
  backend.notify(hw.a, hw.b + F.mb_lock.off, 1, hw.id + F.mb_lock.off);
}

/** Wait (bounded) until at least `seq` commands were executed. */
function wait_acked(hw: Hw, seq: number, timeoutMs: number): boolean {
  const i = hw.b + F.mb_acked.off;
  const end = performance.now() + timeoutMs;
  for (;;) {
    const v = Atomics.load(hw.a, i);
    if (v - seq >= 0) return true;
    const left = end - performance.now();
    if (left <= 0) return false;
    hw.add('mb_waiters', 1);
    backend.wait(hw.a, i, v, left, hw.id + F.mb_acked.off);
    hw.add('mb_waiters', -1);
  }
}

/** Post a command; returns its sequence number. Waits (bounded) for room if the ring is full. */
export function hw_post(hw: Hw, cmd: HwCommand, timeoutMs = 10_000): number {
  const e = encode(cmd);
  const end = performance.now() + timeoutMs;
  for (;;) {
    mb_lock(hw);
    const posted = hw.get('mb_posted');
    if (posted - hw.get('mb_acked') < MB_SLOTS) {
      const seq = posted + 1;
      const s = slot(hw, seq);
      const a = hw.a;
      Atomics.store(a, s + S_OP, e.op);
      for (let k = 0; k < 4; k++) Atomics.store(a, s + S_A + k, e.a[k] ?? 0);
      Atomics.store(a, s + S_RC, 0);
      for (let k = 0; k < MB_SENSE_WORDS * 4; k += 4) {
        let w = 0;
        for (let j = 0; j < 4 && e.sense !== null; j++) w |= ((e.sense[k + j] ?? 0) & 0xff) << (8 * j);
        Atomics.store(a, s + S_SENSE + k / 4, w);
      }
      // a3: whether sense was given, and how many bytes
      Atomics.store(a, s + S_A + 3, e.sense !== null ? SENSE_FLAG | Math.min(e.sense.length, MB_SENSE_WORDS * 4) : 0);
      hw.set('mb_posted', seq);
      mb_unlock(hw);
      hw_ring(hw);
      return seq;
    }
    mb_unlock(hw);
    if (!wait_acked(hw, posted - MB_SLOTS + 1, Math.max(0, end - performance.now()))) throw new Error(`hw mailbox of device ${hw.index} full for ${timeoutMs} ms: is the engine running?`);
  }
}

/** Wait (bounded) for command `seq` to be executed; its HwRc, or null on timeout. */
export function hw_wait_ack(hw: Hw, seq: number, timeoutMs: number): number | null {
  if (!wait_acked(hw, seq, timeoutMs)) return null;
  return Atomics.load(hw.a, slot(hw, seq) + S_RC);
}

/** Post and wait for the ack; throws if the engine does not execute it in time. */
export function hw_cmd(hw: Hw, cmd: HwCommand, timeoutMs = 10_000): number {
  const seq = hw_post(hw, cmd, timeoutMs);
  const rc = hw_wait_ack(hw, seq, timeoutMs);
  if (rc === null) throw new Error(`hw command ${cmd.op} (#${seq}) of device ${hw.index} not executed within ${timeoutMs} ms`);
  return rc;
}

/** Engine side: the next unexecuted command, or null. */
export function mb_peek(hw: Hw): { seq: number; cmd: HwCommand | null } | null {
  const acked = hw.get('mb_acked');
  if (hw.get('mb_posted') === acked) return null;
  const seq = acked + 1;
  const s = slot(hw, seq);
  const a = hw.a;
  const args = [0, 1, 2, 3].map((k) => Atomics.load(a, s + S_A + k));
  const sflag = args[3] ?? 0;
  let sense: number[] | null = null;
  if ((sflag & SENSE_FLAG) !== 0) {
    const n = sflag & 0xff;
    sense = [];
    for (let k = 0; k < n; k++) sense.push((Atomics.load(a, s + S_SENSE + (k >> 2)) >>> (8 * (k & 3))) & 0xff);
  }
  return { seq, cmd: hw_decode(Atomics.load(a, s + S_OP), args, sense) };
}

/** Engine side: command `seq` is done with result rc. */
export function mb_ack(hw: Hw, seq: number, rc: number): void {
  Atomics.store(hw.a, slot(hw, seq) + S_RC, rc);
  hw.set('mb_acked', seq);
  if (hw.get('mb_waiters') !== 0) backend.notify(hw.a, hw.b + F.mb_acked.off, Infinity, hw.id + F.mb_acked.off);
  hw_touch(hw);
}
