// arch/s390/include/asm/cio.h (struct irb, esw0, erw): the 96-byte IRB, and the IRBs each
// function ends with (struct irb, arch/s390/include/asm/cio.h).
import {
  DEV_STAT_CHN_END,
  DEV_STAT_DEV_END,
  DEV_STAT_UNIT_CHECK,
  SCHN_STAT_PCI,
  SCSW_ACTL_DEVACT,
  SCSW_ACTL_SCHACT,
  SCSW_FCTL_CLEAR_FUNC,
  SCSW_FCTL_HALT_FUNC,
  SCSW_FCTL_START_FUNC,
  SCSW_PNO,
  SCSW_STCTL_ALERT_STATUS,
  SCSW_STCTL_INTER_STATUS,
  SCSW_STCTL_PRIM_STATUS,
  SCSW_STCTL_SEC_STATUS,
  SCSW_STCTL_STATUS_PEND,
  SCSW_ZCC,
  scsw_is_final,
  scsw_is_solicited,
  scsw_read,
  scsw_word0,
  scsw_write,
  type Scsw,
} from './scsw.ts';

export const IRB_SIZE = 96;
export const IRB_SCSW = 0;
export const IRB_ESW = 12;
export const IRB_ESW_SIZE = 20;
export const IRB_ECW = 32;
export const IRB_ECW_SIZE = 32;
export const IRB_EMW = 64;
export const IRB_EMW_SIZE = 32;

// Format-0 ESW: sublog word @0, extended-report word (erw) @4. In the erw, bit 7 (cons) says
// the ECW holds concurrent sense and bits 10-15 (scnt) how many bytes. These bit positions
// are from asm/cio.h, not from the spec, which says only "sense in ECW if concurrent sense".
export const ESW_ERW = IRB_ESW + 4;
export const ERW_CONS = 1 << (31 - 7);
export const ERW_SCNT_SHIFT = 16;
/** SCSW word 0 bit 5 (eswf): the ESW is format 0, as it is when sense is stored */
export const SCSW_ESWF = 1 << (31 - 5);

const view = (irb: Uint8Array): DataView => new DataView(irb.buffer, irb.byteOffset, irb.byteLength);

export const irb_read_scsw = (irb: Uint8Array): Scsw => scsw_read(view(irb), IRB_SCSW);
export const irb_write_scsw = (irb: Uint8Array, s: Scsw): void => scsw_write(view(irb), IRB_SCSW, s);
export const irb_is_final = (irb: Uint8Array): boolean => scsw_is_final(irb_read_scsw(irb).w0);
export const irb_is_solicited = (irb: Uint8Array): boolean => scsw_is_solicited(irb_read_scsw(irb).w0);

/** The 32 ECW bytes (a copy). */
export const irb_ecw = (irb: Uint8Array): Uint8Array => irb.slice(IRB_ECW, IRB_ECW + IRB_ECW_SIZE);

/** Concurrent sense stored with this IRB, or null: the first scnt ECW bytes when erw.cons is set. */
export function irb_sense(irb: Uint8Array): Uint8Array | null {
  const erw = view(irb).getUint32(ESW_ERW);
  if ((erw & ERW_CONS) === 0) return null;
  const n = Math.min((erw >>> ERW_SCNT_SHIFT) & 0x3f, IRB_ECW_SIZE);
  return irb.slice(IRB_ECW, IRB_ECW + n);
}

/** Store `sense` (at most 32 bytes) as concurrent sense: ECW bytes, erw cons + scnt, SCSW eswf. */
export function irb_set_sense(irb: Uint8Array, sense: Uint8Array): void {
  const n = Math.min(sense.length, IRB_ECW_SIZE);
  const dv = view(irb);
  irb.fill(0, IRB_ECW, IRB_ECW + IRB_ECW_SIZE);
  irb.set(sense.subarray(0, n), IRB_ECW);
  dv.setUint32(ESW_ERW, ((dv.getUint32(ESW_ERW) & ~(0x3f << ERW_SCNT_SHIFT)) | ERW_CONS | (n << ERW_SCNT_SHIFT)) >>> 0);
  dv.setUint32(IRB_SCSW, (dv.getUint32(IRB_SCSW) | SCSW_ESWF) >>> 0);
}

export function irb_make(s: Scsw, sense?: Uint8Array): Uint8Array {
  const irb = new Uint8Array(IRB_SIZE);
  irb_write_scsw(irb, s);
  if (sense !== undefined) irb_set_sense(irb, sense);
  return irb;
}

/** Where the channel stopped: the CCW address (last executed CCW + 8) and the residual count. */
export interface IrbPos {
  cpa?: number;
  count?: number;
}

const ACTIVE = SCSW_ACTL_SCHACT | SCSW_ACTL_DEVACT;
const ENDED = SCSW_STCTL_PRIM_STATUS | SCSW_STCTL_SEC_STATUS | SCSW_STCTL_STATUS_PEND;

/** Normal end: FC start, AC 0, SC prim+sec+pend, CE+DE. */
export function irb_normal_end(p: IrbPos = {}): Uint8Array {
  const w0 = scsw_word0({ fctl: SCSW_FCTL_START_FUNC, stctl: ENDED });
  return irb_make({ w0, cpa: p.cpa ?? 0, dstat: DEV_STAT_CHN_END | DEV_STAT_DEV_END, cstat: 0, count: p.count ?? 0 });
}

/** PCI: intermediate status while the start goes on (not final). */
export function irb_intermediate_pci(p: IrbPos = {}): Uint8Array {
  const w0 = scsw_word0({ fctl: SCSW_FCTL_START_FUNC, actl: ACTIVE, stctl: SCSW_STCTL_INTER_STATUS | SCSW_STCTL_STATUS_PEND });
  return irb_make({ w0, cpa: p.cpa ?? 0, dstat: 0, cstat: SCHN_STAT_PCI, count: p.count ?? 0 });
}

/** Initial status (ORB I=1): intermediate with ZCC, not final. */
export function irb_initial_status(p: IrbPos = {}): Uint8Array {
  const w0 = scsw_word0({ fctl: SCSW_FCTL_START_FUNC, actl: ACTIVE, stctl: SCSW_STCTL_INTER_STATUS | SCSW_STCTL_STATUS_PEND, extra: SCSW_ZCC });
  return irb_make({ w0, cpa: p.cpa ?? 0, dstat: 0, cstat: 0, count: p.count ?? 0 });
}

/**
 * Error end: a normal end plus alert. By default unit check with CE+DE and `sense` in the ECW;
 * pass dstat/cstat for channel checks or incorrect length instead.
 */
export function irb_error_end(p: IrbPos & { sense?: Uint8Array; dstat?: number; cstat?: number } = {}): Uint8Array {
  const w0 = scsw_word0({ fctl: SCSW_FCTL_START_FUNC, stctl: ENDED | SCSW_STCTL_ALERT_STATUS });
  const dstat = p.dstat ?? DEV_STAT_CHN_END | DEV_STAT_DEV_END | DEV_STAT_UNIT_CHECK;
  return irb_make({ w0, cpa: p.cpa ?? 0, dstat, cstat: p.cstat ?? 0, count: p.count ?? 0 }, p.sense);
}

/**
 * Halt. `active`: the start had begun, so the device reports prim+sec with `dstat` (CE+DE by
 * default); otherwise (start withdrawn, or idle) SC is pending alone. `keep_start`: FC keeps
 * the start bit as PoP and Hercules do (QEMU clears it; both must be accepted).
 */
export function irb_halt(p: IrbPos & { active?: boolean; keep_start?: boolean; dstat?: number } = {}): Uint8Array {
  const fctl = SCSW_FCTL_HALT_FUNC | (p.keep_start === true ? SCSW_FCTL_START_FUNC : 0);
  const active = p.active ?? true;
  const w0 = scsw_word0({ fctl, stctl: active ? ENDED : SCSW_STCTL_STATUS_PEND });
  const dstat = active ? (p.dstat ?? DEV_STAT_CHN_END | DEV_STAT_DEV_END) : 0;
  return irb_make({ w0, cpa: active ? (p.cpa ?? 0) : 0, dstat, cstat: 0, count: active ? (p.count ?? 0) : 0 });
}

/** Clear: FC clear, AC 0, SC pending alone, no status; address and count not meaningful. */
export function irb_clear(): Uint8Array {
  return irb_make({ w0: scsw_word0({ fctl: SCSW_FCTL_CLEAR_FUNC, stctl: SCSW_STCTL_STATUS_PEND }), cpa: 0, dstat: 0, cstat: 0, count: 0 });
}

/** Unsolicited: SC alert+pend, cc 0, no function, CCW address 0; `sense` goes with a unit check. */
export function irb_unsolicited(dstat: number, sense?: Uint8Array): Uint8Array {
  const w0 = scsw_word0({ stctl: SCSW_STCTL_ALERT_STATUS | SCSW_STCTL_STATUS_PEND });
  return irb_make({ w0, cpa: 0, dstat, cstat: 0, count: 0 }, sense);
}

/**
 * Deferred condition code at initiation: cc 1 (the device presented `dstat` instead of
 * starting) or cc 3 (not operational; `pno` sets path-not-operational). SC alert+pend, plus
 * prim/sec when dstat carries CE/DE.
 */
export function irb_deferred_cc(cc: 1 | 3, p: { dstat?: number; pno?: boolean; sense?: Uint8Array } = {}): Uint8Array {
  const dstat = p.dstat ?? 0;
  let stctl = SCSW_STCTL_ALERT_STATUS | SCSW_STCTL_STATUS_PEND;
  if ((dstat & DEV_STAT_CHN_END) !== 0) stctl |= SCSW_STCTL_PRIM_STATUS;
  if ((dstat & DEV_STAT_DEV_END) !== 0) stctl |= SCSW_STCTL_SEC_STATUS;
  const w0 = scsw_word0({ cc, fctl: SCSW_FCTL_START_FUNC, stctl, extra: p.pno === true ? SCSW_PNO : 0 });
  return irb_make({ w0, cpa: 0, dstat, cstat: 0, count: 0 }, p.sense);
}
