// The channel subsystem's state in shared memory (the machine, not kernel code): one HwCss
// (the engine's doorbell and stop word) and one HwSubchannel per device. Every instruction and
// every engine step runs under the subchannel's internal lock word, so each instruction is
// atomic with respect to the engine whichever thread issues it.
import { clock } from '../kernel/clock.ts';
import { backend } from '../kernel/backend.ts';
import { atomic, bytes, defineStruct, nameRegion, objId, words, type SharedBuf } from '../kernel/layout.ts';
import { IRB_SIZE } from './schib.ts';

/** Kinds of interrupts (status made pending), for the counters. */
export const HwIrq = { start_final: 0, intermediate: 1, halt: 2, clear: 3, unsolicited: 4 } as const;
export type HwIrq = (typeof HwIrq)[keyof typeof HwIrq];
export const HW_IRQ_KINDS = 5;
export const HwIrqName = ['start_final', 'intermediate', 'halt', 'clear', 'unsolicited'] as const;

/** How a start function ended (exactly one per accepted ssch). */
export const HwStartEnd = { final: 0, halt: 1, clear: 2, xsch: 3, gone: 4 } as const;
export type HwStartEnd = (typeof HwStartEnd)[keyof typeof HwStartEnd];
export const HW_START_ENDS = 5;

/** Instructions, for the per-instruction counters and fault injection. */
export const HwInstr = { ssch: 0, hsch: 1, csch: 2, xsch: 3, msch: 4, stsch: 5, tsch: 6 } as const;
export type HwInstr = (typeof HwInstr)[keyof typeof HwInstr];
export const HW_INSTRS = 7;

/** pend_kind when no status is pending. */
export const PEND_NONE = -1;
/** pend_kind of the unsolicited status injected while a start is active (S3 robustness). */
export const PEND_PHANTOM = 5;

export const MB_SLOTS = 8;
export const MB_SENSE_WORDS = 8;
/** slot: op, a0..a3, rc, sense (32 bytes) */
export const MB_SLOT_WORDS = 6 + MB_SENSE_WORDS;

export const HwCss = defineStruct('hw_css', {
  doorbell: atomic('bumped by every instruction and mailbox post of any subchannel; the engine waits here'),
  sleeping: atomic('1 while the engine waits on doorbell (notify only then)'),
  stop: atomic('asks hw_run to return'),
  running: atomic('1 while hw_run runs'),
  loops: atomic('engine iterations'),
});

export const HwSubchannel = defineStruct('hw_sch', {
  lock: atomic('internal lock: 0 free, 1 held, 2 held with waiters'),
  doorbell: atomic('bumped (watchers notified) at every state change'),
  watchers: atomic('threads waiting on doorbell'),
  present: atomic('0: the device has gone (every instruction cc 3)'),
  enabled: atomic('pmcw.ena'),
  isc: atomic(),
  intparm: atomic(),
  devno: atomic(),
  pim: atomic(),
  pam: atomic(),
  pom: atomic(),
  lpm: atomic(),
  lpum: atomic(),
  pnom: atomic(),
  chpids: bytes(8),
  fctl: atomic('SCSW function control'),
  actl: atomic('SCSW activity control'),
  stctl: atomic('SCSW status control'),
  cc: atomic('SCSW deferred condition code'),
  flags: atomic('other SCSW word-0 bits: ORB copies, Z, PNO, ESWF'),
  status_pending: atomic('1 iff stctl has status pending'),
  irq_pending: atomic('an I/O interruption is requested; cleared when presented, by tsch or csch'),
  pend_kind: atomic('HwIrq of the pending status, PEND_NONE, or PEND_PHANTOM'),
  irb: bytes(IRB_SIZE, 'the IRB the pending status will present'),
  start_cpa: atomic('ORB cpa of the start in progress (0: none): which channel program runs'),
  start_flags: atomic('ORB word 1 of the start in progress'),
  start_seq: atomic('starts accepted (ssch cc 0) ever'),
  start_open: atomic('1 from ssch cc 0 until the start has its ending (start_end)'),
  halt_seq: atomic('halts accepted ever'),
  clear_seq: atomic('clears accepted ever'),
  idle_seq: atomic('idle periods begun (a function ended, or the subchannel was enabled)'),
  held: atomic('1: the engine makes no timed progress and presents no interrupt'),
  force_cc: words(HW_INSTRS, 'fault injection: cc the next instructions give'),
  force_n: words(HW_INSTRS, 'fault injection: how many more'),
  made: words(HW_IRQ_KINDS, 'statuses made pending, per HwIrq'),
  taken: words(HW_IRQ_KINDS, 'statuses cleared by a tsch that stored them, per HwIrq'),
  discarded_csch: atomic('pending statuses thrown away by csch'),
  discarded_msch: atomic('pending statuses thrown away by the tsch of a failed msch (cio_commit_config)'),
  discarded_gone: atomic('pending statuses lost when the device went'),
  presented: atomic('interrupts presented to the host'),
  start_end: words(HW_START_ENDS, 'start functions ended, per HwStartEnd'),
  n_instr: words(HW_INSTRS, 'instructions issued, per HwInstr'),
  decisions: atomic('engine decisions drawn'),
  decision_hash: atomic('running FNV-1a of the decision records'),
  sch_events: atomic('sch_event calls made'),
  chp_events: atomic('chp_event calls made'),
  mb_lock: atomic('mailbox posting lock'),
  mb_posted: atomic('commands posted ever (the last sequence number)'),
  mb_acked: atomic('commands executed ever'),
  mb_waiters: atomic(),
  mb_ring: words(MB_SLOTS * MB_SLOT_WORDS),
});

export type HwField = keyof typeof HwSubchannel.fields;
const F = HwSubchannel.fields;
const C = HwCss.fields;

/** View of the css-wide words. */
export class HwCssView {
  readonly a: Int32Array;
  readonly id: number;
  constructor(
    buf: SharedBuf,
    readonly b: number,
  ) {
    this.a = buf.i32;
    this.id = objId(buf, b);
  }
  get(f: keyof typeof C): number {
    return Atomics.load(this.a, this.b + C[f].off);
  }
}

/** View of one subchannel's machine state. Stateless; any thread may build one. */
export class Hw {
  readonly a: Int32Array;
  readonly u8: Uint8Array;
  readonly dv: DataView;
  /** object id of the struct (hooks: instruction marks and irq_enter name it) */
  readonly id: number;
  constructor(
    buf: SharedBuf,
    /** word index of the HwSubchannel */
    readonly b: number,
    readonly css: HwCssView,
    /** device index */
    readonly index: number,
  ) {
    this.a = buf.i32;
    this.u8 = buf.u8;
    this.dv = new DataView(buf.sab);
    this.id = objId(buf, b);
  }
  get(f: HwField): number {
    return Atomics.load(this.a, this.b + F[f].off);
  }
  set(f: HwField, v: number): void {
    Atomics.store(this.a, this.b + F[f].off, v);
  }
  add(f: HwField, v: number): number {
    return Atomics.add(this.a, this.b + F[f].off, v);
  }
  /** k-th word of a words() field */
  at(f: HwField, k: number): number {
    return Atomics.load(this.a, this.b + F[f].off + k);
  }
  set_at(f: HwField, k: number, v: number): void {
    Atomics.store(this.a, this.b + F[f].off + k, v);
  }
  add_at(f: HwField, k: number, v: number): void {
    Atomics.add(this.a, this.b + F[f].off + k, v);
  }
  /** byte offset of a bytes() field in the buffer */
  byte(f: HwField): number {
    return (this.b + F[f].off) * 4;
  }
  irb(): Uint8Array {
    return this.u8.subarray(this.byte('irb'), this.byte('irb') + IRB_SIZE);
  }
  chpid(k: number): number {
    return Atomics.load(this.u8, this.byte('chpids') + k);
  }
}

export const bind_hw_css = (buf: SharedBuf, base: number): HwCssView => new HwCssView(buf, base);
export const bind_hw_subchannel = (buf: SharedBuf, base: number, css: HwCssView, index: number): Hw => new Hw(buf, base, css, index);

/** Name the words for reports (objName). */
export function hw_name_region(bufIndex: number, cssBase: number | null, hwBase: number, prefix: string): void {
  if (cssBase !== null) nameRegion(bufIndex, cssBase, HwCss, 'css.');
  nameRegion(bufIndex, hwBase, HwSubchannel, prefix);
}

// --- the internal lock: short sections, never held across a call into the host ---

const LOCK_WAIT_MS = 50;

export function hw_lock(hw: Hw): void {
  const a = hw.a;
  const i = hw.b + F.lock.off;
  if (Atomics.compareExchange(a, i, 0, 1) === 0) return;
  for (let k = 0; k < 16; k++) if (Atomics.load(a, i) === 0 && Atomics.compareExchange(a, i, 0, 1) === 0) return;
  while (Atomics.exchange(a, i, 2) !== 0) backend.wait(a, i, 2, LOCK_WAIT_MS, hw.id + F.lock.off);
}

export function hw_unlock(hw: Hw): void {
  const a = hw.a;
  const i = hw.b + F.lock.off;
  if (Atomics.exchange(a, i, 0) === 2) backend.notify(a, i, 1, hw.id + F.lock.off);
}

/** A state change observers may wait for. */
export function hw_touch(hw: Hw): void {
  hw.add('doorbell', 1);
  if (hw.get('watchers') !== 0) backend.notify(hw.a, hw.b + F.doorbell.off, Infinity, hw.id + F.doorbell.off);
}

/** A state change the engine must see: wake it if it sleeps. */
export function hw_ring(hw: Hw): void {
  hw_touch(hw);
  const c = hw.css;
  Atomics.add(c.a, c.b + C.doorbell.off, 1);
  if (Atomics.load(c.a, c.b + C.sleeping.off) !== 0) backend.notify(c.a, c.b + C.doorbell.off, 1, c.id);
}

/**
 * Wait (bounded) until hw's doorbell differs from `seen` (read it first with hw.get('doorbell')).
 * Returns false on timeout. For scenarios and tests; the engine waits on the css doorbell.
 */
export function hw_wait_change(hw: Hw, seen: number, timeoutMs: number): boolean {
  const i = hw.b + F.doorbell.off;
  const end = clock.now_ms() + timeoutMs;
  for (;;) {
    if (Atomics.load(hw.a, i) !== seen) return true;
    const left = end - clock.now_ms();
    if (left <= 0) return false;
    hw.add('watchers', 1);
    backend.wait(hw.a, i, seen, left, hw.id + F.doorbell.off);
    hw.add('watchers', -1);
  }
}

/** Wait (bounded) until pred(hw) holds, re-checking at every state change. */
export function hw_wait_until(hw: Hw, pred: (hw: Hw) => boolean, timeoutMs: number): boolean {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const seen = hw.get('doorbell');
    if (pred(hw)) return true;
    const left = end - performance.now();
    if (left <= 0 || !hw_wait_change(hw, seen, left)) return pred(hw);
  }
}

export interface HwInit {
  devno: number;
  /** path-installed mask */
  pim: number;
  /** the CHPIDs of the eight path positions (missing ones are 0) */
  chpids: number[];
}

export const HW_INIT_DEFAULT: Readonly<HwInit> = { devno: 0x1234, pim: 0x80, chpids: [0x40] };

/** Main, with every actor parked: a present, disabled, idle subchannel. */
export function hw_reset(hw: Hw, init: Partial<HwInit> = {}): void {
  const it = { ...HW_INIT_DEFAULT, ...init };
  hw.a.fill(0, hw.b, hw.b + HwSubchannel.words);
  hw.set('present', 1);
  hw.set('devno', it.devno & 0xffff);
  hw.set('pim', it.pim & 0xff);
  hw.set('pam', it.pim & 0xff);
  hw.set('pom', 0xff);
  hw.set('lpm', it.pim & 0xff);
  hw.set('pend_kind', PEND_NONE);
  for (let k = 0; k < 8; k++) Atomics.store(hw.u8, hw.byte('chpids') + k, (it.chpids[k] ?? 0) & 0xff);
}

export function hw_css_reset(css: HwCssView): void {
  css.a.fill(0, css.b, css.b + HwCss.words);
}

/** The path-mask bit of `chpid` in this subchannel (0x80 >> position), or 0. */
export function hw_chpid_mask(hw: Hw, chpid: number): number {
  for (let k = 0; k < 8; k++) if ((hw.get('pim') & (0x80 >> k)) !== 0 && hw.chpid(k) === chpid) return 0x80 >> k;
  return 0;
}

/** Counters and state, for reports and invariant checks. */
export interface HwSnapshot {
  present: number;
  enabled: number;
  fctl: number;
  actl: number;
  stctl: number;
  status_pending: number;
  irq_pending: number;
  pend_kind: number;
  start_cpa: number;
  start_seq: number;
  start_open: number;
  made: number[];
  taken: number[];
  discarded_csch: number;
  discarded_msch: number;
  discarded_gone: number;
  presented: number;
  start_end: number[];
  n_instr: number[];
  decisions: number;
  decision_hash: number;
}

export function hw_snapshot(hw: Hw): HwSnapshot {
  const arr = (f: HwField, n: number): number[] => Array.from({ length: n }, (_, k) => hw.at(f, k));
  return {
    present: hw.get('present'),
    enabled: hw.get('enabled'),
    fctl: hw.get('fctl'),
    actl: hw.get('actl'),
    stctl: hw.get('stctl'),
    status_pending: hw.get('status_pending'),
    irq_pending: hw.get('irq_pending'),
    pend_kind: hw.get('pend_kind'),
    start_cpa: hw.get('start_cpa'),
    start_seq: hw.get('start_seq'),
    start_open: hw.get('start_open'),
    made: arr('made', HW_IRQ_KINDS),
    taken: arr('taken', HW_IRQ_KINDS),
    discarded_csch: hw.get('discarded_csch'),
    discarded_msch: hw.get('discarded_msch'),
    discarded_gone: hw.get('discarded_gone'),
    presented: hw.get('presented'),
    start_end: arr('start_end', HW_START_ENDS),
    n_instr: arr('n_instr', HW_INSTRS),
    decisions: hw.get('decisions'),
    decision_hash: hw.get('decision_hash') >>> 0,
  };
}

/**
 * The machine's own accounting (read with the machine quiet, or under hw_lock):
 *   every status made pending was taken by tsch, discarded, or is still pending;
 *   every accepted start has exactly one ending, or is still open.
 * Returns the violated rules (empty: consistent).
 */
export function hw_accounting_errors(s: HwSnapshot): string[] {
  const sum = (x: number[]): number => x.reduce((p, q) => p + q, 0);
  const out: string[] = [];
  const made = sum(s.made);
  const gone = sum(s.taken) + s.discarded_csch + s.discarded_msch + s.discarded_gone + s.status_pending;
  if (made !== gone) out.push(`made ${made} != taken ${sum(s.taken)} + discarded ${s.discarded_csch}/${s.discarded_msch}/${s.discarded_gone} + pending ${s.status_pending}`);
  if (s.start_seq !== sum(s.start_end) + s.start_open) out.push(`starts ${s.start_seq} != ended ${sum(s.start_end)} + open ${s.start_open}`);
  if ((s.status_pending === 1) !== ((s.stctl & 1) === 1)) out.push(`status_pending ${s.status_pending} but stctl ${s.stctl}`);
  return out;
}
