// hw/s390x/css.c (+ target/s390x/ioinst.c): the subchannel QEMU emulates in front of a passthrough
// device. Guest instructions are checked and answered here; only the forwarding step
// (do_subchannel_work) reaches the driver, through a callback the vfio-ccw client supplies.
import { IRB_ECW, IRB_ECW_SIZE, IRB_ESW, IRB_ESW_SIZE, IRB_SIZE } from '../uapi/irb.ts';
import type { Orb } from '../uapi/orb.ts';
import {
  type GuestCc,
  ORB_CPA_HIGH_ORDER_BIT,
  ORB_CTRL0_MASK,
  ORB_CTRL1_MASK,
  PMCW_CHARS_MASK,
  PMCW_FLAGS_MASK,
  PMCW_ISC_SHIFT,
  PMCW_OFF,
  SCHIB_OFF_SCSW,
  SCHIB_SIZE,
  SCSW_ACTL,
  SCSW_CTRL_MASK,
  SCSW_DSTAT,
  SCSW_FCTL,
  SCSW_FLAGS_MASK,
  SCSW_STCTL,
} from './ioinst.ts';

/** QEMU's SCSW: word 0 as flags + ctrl halves (the Linux-encoded Scsw is in src/uapi/scsw.ts). */
export interface SCSW {
  flags: number;
  ctrl: number;
  cpa: number;
  dstat: number;
  cstat: number;
  count: number;
}

export interface PMCW {
  intparm: number;
  flags: number;
  devno: number;
  lpm: number;
  pnom: number;
  lpum: number;
  pim: number;
  mbi: number;
  pom: number;
  pam: number;
  chpid: number[];
  chars: number;
}

/** What realize builds the virtual SCHIB from (QEMU reads it from host sysfs). */
export interface SubchInit {
  schid?: number;
  devno?: number;
  pim?: number;
  pam?: number;
  pom?: number;
  chpid?: readonly number[];
  /** the guest has already enabled the subchannel with MSCH (default true) */
  enabled?: boolean;
  /** the guest asked for concurrent sense (PMCW CSENSE) */
  csense?: boolean;
  isc?: number;
}

export const scsw_zero = (): SCSW => ({ flags: 0, ctrl: 0, cpa: 0, dstat: 0, cstat: 0, count: 0 });

export function scsw_from_bytes(b: Uint8Array, off = 0): SCSW {
  const d = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { flags: d.getUint16(off), ctrl: d.getUint16(off + 2), cpa: d.getUint32(off + 4), dstat: d.getUint8(off + 8), cstat: d.getUint8(off + 9), count: d.getUint16(off + 10) };
}

export function scsw_to_bytes(s: SCSW, into: Uint8Array = new Uint8Array(12), off = 0): Uint8Array {
  const d = new DataView(into.buffer, into.byteOffset, into.byteLength);
  d.setUint16(off, s.flags & 0xffff);
  d.setUint16(off + 2, s.ctrl & 0xffff);
  d.setUint32(off + 4, s.cpa >>> 0);
  d.setUint8(off + 8, s.dstat & 0xff);
  d.setUint8(off + 9, s.cstat & 0xff);
  d.setUint16(off + 10, s.count & 0xffff);
  return into;
}

/** ORB word 1 split the way QEMU's struct ORB holds it. */
export const orb_ctrl0 = (o: Orb): number => (o.flags >>> 16) & 0xffff;
export const orb_ctrl1 = (o: Orb): number => o.flags & 0xff;

export class SubchDev {
  readonly schid: number;
  pmcw: PMCW;
  scsw: SCSW = scsw_zero();
  orb: Orb | null = null;
  /** guest address of the running channel program (QEMU `channel_prog`) */
  channel_prog = 0;
  /** ESW of the last host IRB, and the ECW when it carried concurrent sense */
  esw = new Uint8Array(IRB_ESW_SIZE);
  sense_data = new Uint8Array(IRB_ECW_SIZE);
  /** I/O interrupts injected and not yet taken by the guest */
  io_int_pending = 0;
  io_int_injected = 0;
  /** the guest CSS's CRW queue (STCRW pops it) */
  crws: number[] = [];

  constructor(init: SubchInit = {}) {
    this.schid = init.schid ?? 0;
    const pim = init.pim ?? 0x80;
    let flags = PMCW_FLAGS_MASK.DNV | (((init.isc ?? 3) << PMCW_ISC_SHIFT) & PMCW_FLAGS_MASK.ISC);
    if (init.enabled ?? true) flags |= PMCW_FLAGS_MASK.ENA;
    this.pmcw = {
      intparm: 0,
      flags,
      devno: init.devno ?? 0x1234,
      lpm: pim,
      pnom: 0,
      lpum: 0,
      pim,
      mbi: 0,
      pom: init.pom ?? 0xff,
      pam: init.pam ?? pim,
      chpid: [...(init.chpid ?? [0x40, 0, 0, 0, 0, 0, 0, 0])].slice(0, 8),
      chars: init.csense === true ? PMCW_CHARS_MASK.CSENSE : 0,
    };
    while (this.pmcw.chpid.length < 8) this.pmcw.chpid.push(0);
  }

  /** DNV and ENA: the only state in which the guest's I/O instructions do anything. */
  get valid_enabled(): boolean {
    return (~this.pmcw.flags & (PMCW_FLAGS_MASK.DNV | PMCW_FLAGS_MASK.ENA)) === 0;
  }

  get status_pending(): boolean {
    return (this.scsw.ctrl & SCSW_STCTL.STATUS_PEND) !== 0;
  }

  get fctl(): number {
    return this.scsw.ctrl & SCSW_CTRL_MASK.FCTL;
  }

  /** Marks the subchannel not valid (device_del): the guest then gets cc3 everywhere. */
  set_not_valid(): void {
    this.pmcw.flags &= ~PMCW_FLAGS_MASK.DNV;
  }
}

/** The forwarding step: returns the guest cc the passthrough path decided. */
export type SubchWork = (sch: SubchDev) => 0 | 1 | 2 | 3;

/** ioinst_orb_valid: reserved bits (incl. the transport-mode bit), MIDAW, or CPA above 2 GiB. */
export function ioinst_orb_valid(orb: Orb): boolean {
  if ((orb_ctrl0(orb) & ORB_CTRL0_MASK.INVALID) !== 0 || (orb_ctrl1(orb) & ORB_CTRL1_MASK.INVALID) !== 0) return false;
  if ((orb_ctrl1(orb) & ORB_CTRL1_MASK.MIDAW) !== 0) return false;
  return (orb.cpa & ORB_CPA_HIGH_ORDER_BIT) === 0;
}

/** Runs a forwarding step; a non-cc0 answer puts back the control bits the instruction had set. */
function forward(sch: SubchDev, work: SubchWork, saved: { flags: number; ctrl: number }): 0 | 1 | 2 | 3 {
  const cc = work(sch);
  if (cc !== 0) {
    sch.scsw.flags = saved.flags;
    sch.scsw.ctrl = saved.ctrl;
  }
  return cc;
}

export function css_do_ssch(sch: SubchDev, orb: Orb, work: SubchWork): GuestCc {
  if (!ioinst_orb_valid(orb)) return 'pgm';
  if (!sch.valid_enabled) return 3;
  const s = sch.scsw;
  if ((s.ctrl & SCSW_STCTL.STATUS_PEND) !== 0) return 1;
  if ((s.ctrl & SCSW_CTRL_MASK.FCTL) !== 0) return 2;
  const saved = { flags: s.flags, ctrl: s.ctrl };
  sch.orb = { ...orb };
  sch.channel_prog = orb.cpa;
  sch.pmcw.intparm = orb.intparm;
  s.ctrl |= SCSW_FCTL.START_FUNC | SCSW_ACTL.START_PEND;
  s.flags &= ~SCSW_FLAGS_MASK.PNO;
  return forward(sch, work, saved);
}

export function css_do_hsch(sch: SubchDev, work: SubchWork): GuestCc {
  if (!sch.valid_enabled) return 3;
  const s = sch.scsw;
  const stctl = s.ctrl & SCSW_CTRL_MASK.STCTL;
  // Intermediate-only status does not block a halt.
  if (stctl === SCSW_STCTL.STATUS_PEND || (stctl & (SCSW_STCTL.PRIMARY | SCSW_STCTL.SECONDARY | SCSW_STCTL.ALERT)) !== 0) return 1;
  if ((s.ctrl & (SCSW_FCTL.HALT_FUNC | SCSW_FCTL.CLEAR_FUNC)) !== 0) return 2;
  const saved = { flags: s.flags, ctrl: s.ctrl };
  s.ctrl |= SCSW_FCTL.HALT_FUNC;
  s.ctrl &= ~SCSW_FCTL.START_FUNC;
  const active = SCSW_ACTL.SUBCH_ACTIVE | SCSW_ACTL.DEVICE_ACTIVE;
  if ((s.ctrl & SCSW_CTRL_MASK.ACTL) === active && (s.ctrl & SCSW_CTRL_MASK.STCTL) === (SCSW_STCTL.INTERMEDIATE | SCSW_STCTL.STATUS_PEND)) {
    s.ctrl &= ~SCSW_STCTL.STATUS_PEND;
  }
  s.ctrl |= SCSW_ACTL.HALT_PEND;
  return forward(sch, work, saved);
}

export function css_do_csch(sch: SubchDev, work: SubchWork): GuestCc {
  if (!sch.valid_enabled) return 3;
  const s = sch.scsw;
  const saved = { flags: s.flags, ctrl: s.ctrl };
  s.ctrl &= ~(SCSW_CTRL_MASK.FCTL | SCSW_CTRL_MASK.ACTL);
  s.ctrl |= SCSW_FCTL.CLEAR_FUNC | SCSW_ACTL.CLEAR_PEND;
  return forward(sch, work, saved);
}

/**
 * Entirely local. After a forwarded ssch the SCSW shows start-pending, so this cancels the
 * emulated start with cc0 although the host I/O keeps running (its IRB still arrives later).
 */
export function css_do_xsch(sch: SubchDev): GuestCc {
  if (!sch.valid_enabled) return 3;
  const s = sch.scsw;
  if ((s.ctrl & SCSW_STCTL.STATUS_PEND) !== 0) return 1;
  const cancellable = SCSW_ACTL.RESUME_PEND | SCSW_ACTL.START_PEND | SCSW_ACTL.SUSP;
  if ((s.ctrl & SCSW_CTRL_MASK.FCTL) !== SCSW_FCTL.START_FUNC || (s.ctrl & cancellable) === 0 || (s.ctrl & SCSW_ACTL.SUBCH_ACTIVE) !== 0) return 2;
  s.ctrl &= ~(SCSW_FCTL.START_FUNC | cancellable);
  sch.channel_prog = 0;
  s.dstat = 0;
  s.cstat = 0;
  return 0;
}

export interface MschArgs {
  ena?: boolean;
  isc?: number;
  intparm?: number;
  lpm?: number;
  mp?: boolean;
  csense?: boolean;
}

export function css_do_msch(sch: SubchDev, m: MschArgs): GuestCc {
  if ((sch.pmcw.flags & PMCW_FLAGS_MASK.DNV) === 0) return 3;
  if (sch.status_pending) return 1;
  if (sch.fctl !== 0) return 2;
  const p = sch.pmcw;
  if (m.ena !== undefined) p.flags = m.ena ? p.flags | PMCW_FLAGS_MASK.ENA : p.flags & ~PMCW_FLAGS_MASK.ENA;
  if (m.isc !== undefined) p.flags = (p.flags & ~PMCW_FLAGS_MASK.ISC) | ((m.isc << PMCW_ISC_SHIFT) & PMCW_FLAGS_MASK.ISC);
  if (m.mp !== undefined) p.flags = m.mp ? p.flags | PMCW_FLAGS_MASK.MP : p.flags & ~PMCW_FLAGS_MASK.MP;
  if (m.intparm !== undefined) p.intparm = m.intparm >>> 0;
  if (m.lpm !== undefined) p.lpm = m.lpm & 0xff;
  if (m.csense !== undefined) p.chars = m.csense ? p.chars | PMCW_CHARS_MASK.CSENSE : p.chars & ~PMCW_CHARS_MASK.CSENSE;
  return 0;
}

/** The IRB TSCH stores: the emulated SCSW, the ESW of the last host IRB, sense when concurrent sense applies. */
export function build_irb_passthrough(sch: SubchDev): Uint8Array {
  const irb = new Uint8Array(IRB_SIZE);
  scsw_to_bytes(sch.scsw, irb, 0);
  irb.set(sch.esw, IRB_ESW);
  if ((sch.pmcw.chars & PMCW_CHARS_MASK.CSENSE) !== 0 && (sch.scsw.dstat & SCSW_DSTAT.UNIT_CHECK) !== 0) irb.set(sch.sense_data, IRB_ECW);
  return irb;
}

export interface TschResult {
  cc: GuestCc;
  irb: Uint8Array | null;
}

/** TEST SUBCHANNEL, never forwarded. cc0 clears the status conditions (z/Architecture Principles of Operation, TEST SUBCHANNEL). */
export function css_do_tsch(sch: SubchDev): TschResult {
  if (!sch.valid_enabled) return { cc: 3, irb: null };
  const s = sch.scsw;
  const stctl = s.ctrl & SCSW_CTRL_MASK.STCTL;
  if ((stctl & SCSW_STCTL.STATUS_PEND) === 0) return { cc: 1, irb: build_irb_passthrough(sch) };
  const irb = build_irb_passthrough(sch);
  s.ctrl &= ~SCSW_CTRL_MASK.STCTL;
  if (stctl === (SCSW_STCTL.INTERMEDIATE | SCSW_STCTL.STATUS_PEND)) {
    // The start function goes on: more interrupts follow.
    s.flags &= ~SCSW_FLAGS_MASK.ZCC;
  } else {
    s.ctrl &= ~(SCSW_CTRL_MASK.FCTL | SCSW_ACTL.RESUME_PEND | SCSW_ACTL.START_PEND | SCSW_ACTL.HALT_PEND | SCSW_ACTL.CLEAR_PEND | SCSW_ACTL.SUSP);
    s.flags &= ~SCSW_FLAGS_MASK.PNO;
  }
  if ((sch.pmcw.chars & PMCW_CHARS_MASK.CSENSE) !== 0) sch.sense_data.fill(0);
  sch.io_int_pending = 0;
  return { cc: 0, irb };
}

export function schib_to_bytes(sch: SubchDev): Uint8Array {
  const b = new Uint8Array(SCHIB_SIZE);
  const d = new DataView(b.buffer);
  const p = sch.pmcw;
  d.setUint32(PMCW_OFF.INTPARM, p.intparm >>> 0);
  d.setUint16(PMCW_OFF.FLAGS, p.flags & 0xffff);
  d.setUint16(PMCW_OFF.DEVNO, p.devno & 0xffff);
  d.setUint8(PMCW_OFF.LPM, p.lpm);
  d.setUint8(PMCW_OFF.PNOM, p.pnom);
  d.setUint8(PMCW_OFF.LPUM, p.lpum);
  d.setUint8(PMCW_OFF.PIM, p.pim);
  d.setUint16(PMCW_OFF.MBI, p.mbi);
  d.setUint8(PMCW_OFF.POM, p.pom);
  d.setUint8(PMCW_OFF.PAM, p.pam);
  p.chpid.forEach((c, i) => d.setUint8(PMCW_OFF.CHPID + i, c));
  d.setUint32(PMCW_OFF.CHARS, p.chars >>> 0);
  scsw_to_bytes(sch.scsw, b, SCHIB_OFF_SCSW);
  return b;
}

/** The path bits QEMU takes over from a host SCHIB (vfio_ccw_handle_store); nothing else. */
export function copy_path_bits_from_host(sch: SubchDev, host: Uint8Array): void {
  const d = new DataView(host.buffer, host.byteOffset, host.byteLength);
  sch.pmcw.pnom = d.getUint8(PMCW_OFF.PNOM);
  sch.pmcw.lpum = d.getUint8(PMCW_OFF.LPUM);
  sch.pmcw.pam = d.getUint8(PMCW_OFF.PAM);
  sch.pmcw.pom = d.getUint8(PMCW_OFF.POM);
  if ((d.getUint16(SCHIB_OFF_SCSW) & SCSW_FLAGS_MASK.PNO) !== 0) sch.scsw.flags |= SCSW_FLAGS_MASK.PNO;
}

export function css_do_stsch(sch: SubchDev, store: (sch: SubchDev) => void): { cc: GuestCc; schib: Uint8Array | null } {
  if ((sch.pmcw.flags & PMCW_FLAGS_MASK.DNV) === 0) return { cc: 3, schib: null };
  store(sch);
  return { cc: 0, schib: schib_to_bytes(sch) };
}

/**
 * cc0 for an error the guest cannot be told about with a cc: make it look like the I/O
 * ended at once with unit exception (the caller injects the interrupt).
 */
export function sch_gen_unit_exception(sch: SubchDev): void {
  const s = sch.scsw;
  s.ctrl &= ~(SCSW_ACTL.SUBCH_ACTIVE | SCSW_ACTL.DEVICE_ACTIVE);
  s.ctrl |= SCSW_STCTL.PRIMARY | SCSW_STCTL.SECONDARY | SCSW_STCTL.ALERT | SCSW_STCTL.STATUS_PEND;
  s.cpa = (sch.channel_prog + 8) >>> 0;
  s.dstat = SCSW_DSTAT.UNIT_EXCEP;
}

export function css_inject_io_interrupt(sch: SubchDev): void {
  sch.io_int_pending++;
  sch.io_int_injected++;
}

/** Halt emulated locally (no async region): status pending at once, with device end. */
export function sch_handle_halt_func(sch: SubchDev): void {
  const s = sch.scsw;
  const was_active = (s.ctrl & (SCSW_ACTL.SUBCH_ACTIVE | SCSW_ACTL.DEVICE_ACTIVE | SCSW_ACTL.SUSP)) !== 0;
  s.ctrl &= ~(SCSW_ACTL.HALT_PEND | SCSW_ACTL.START_PEND | SCSW_ACTL.SUBCH_ACTIVE | SCSW_ACTL.DEVICE_ACTIVE | SCSW_ACTL.SUSP);
  s.ctrl = (s.ctrl & ~SCSW_CTRL_MASK.STCTL) | SCSW_STCTL.STATUS_PEND;
  s.dstat = SCSW_DSTAT.DEVICE_END;
  if (was_active) s.cpa = (sch.channel_prog + 8) >>> 0;
  s.cstat = 0;
}

/** Clear emulated locally: path masks reset, no status, status pending at once. */
export function sch_handle_clear_func(sch: SubchDev): void {
  const s = sch.scsw;
  const p = sch.pmcw;
  p.pnom = 0;
  p.pom = 0xff;
  p.lpum = 0;
  s.flags &= ~SCSW_FLAGS_MASK.PNO;
  sch.channel_prog = 0;
  s.ctrl &= ~SCSW_ACTL.CLEAR_PEND;
  s.ctrl = (s.ctrl & ~SCSW_CTRL_MASK.STCTL) | SCSW_STCTL.STATUS_PEND;
  s.dstat = 0;
  s.cstat = 0;
}

export function css_crw_add_to_queue(sch: SubchDev, crw: number): void {
  sch.crws.push(crw >>> 0);
}

/** STCRW: cc0 with the oldest CRW, or cc1 and a zero CRW when none is queued. */
export function css_do_stcrw(sch: SubchDev): { cc: 0 | 1; crw: number } {
  const crw = sch.crws.shift();
  return crw === undefined ? { cc: 1, crw: 0 } : { cc: 0, crw };
}
