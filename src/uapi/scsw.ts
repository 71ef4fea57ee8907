// SCSW (12 bytes, big-endian; union scsw in arch/s390/include/asm/scsw.h). Word 0 carries cc, fctl, actl, stctl.
// Functions work on word 0 as a number, or on a 12-byte view at an offset.

export const SCSW_SIZE = 12;

export const SCSW_FCTL_CLEAR_FUNC = 0x1;
export const SCSW_FCTL_HALT_FUNC = 0x2;
export const SCSW_FCTL_START_FUNC = 0x4;

export const SCSW_ACTL_SUSPENDED = 0x01;
export const SCSW_ACTL_DEVACT = 0x02;
export const SCSW_ACTL_SCHACT = 0x04;
export const SCSW_ACTL_CLEAR_PEND = 0x08;
export const SCSW_ACTL_HALT_PEND = 0x10;
export const SCSW_ACTL_START_PEND = 0x20;
export const SCSW_ACTL_RESUME_PEND = 0x40;

export const SCSW_STCTL_STATUS_PEND = 0x01;
export const SCSW_STCTL_SEC_STATUS = 0x02;
export const SCSW_STCTL_PRIM_STATUS = 0x04;
export const SCSW_STCTL_INTER_STATUS = 0x08;
export const SCSW_STCTL_ALERT_STATUS = 0x10;

// device status (word 2, byte 0) and subchannel status (word 2, byte 1)
export const DEV_STAT_ATTENTION = 0x80;
export const DEV_STAT_STAT_MOD = 0x40;
export const DEV_STAT_CU_END = 0x20;
export const DEV_STAT_BUSY = 0x10;
export const DEV_STAT_CHN_END = 0x08;
export const DEV_STAT_DEV_END = 0x04;
export const DEV_STAT_UNIT_CHECK = 0x02;
export const DEV_STAT_UNIT_EXCEP = 0x01;
export const SCHN_STAT_PCI = 0x80;
export const SCHN_STAT_INCORR_LEN = 0x40;
export const SCHN_STAT_PROG_CHECK = 0x20;
export const SCHN_STAT_PROT_CHECK = 0x10;
export const SCHN_STAT_CHN_DATA_CHK = 0x08;
export const SCHN_STAT_CHN_CTRL_CHK = 0x04;

// word 0 accessors
export const scsw_cc = (w0: number): number => (w0 >>> 24) & 3;
export const scsw_fctl = (w0: number): number => (w0 >>> 12) & 7;
export const scsw_actl = (w0: number): number => (w0 >>> 5) & 0x7f;
export const scsw_stctl = (w0: number): number => w0 & 0x1f;
/** bit 13: zero condition code (initial status) */
export const SCSW_ZCC = 1 << (31 - 13);
/** bit 15: path not operational */
export const SCSW_PNO = 1 << (31 - 15);

/** Compose word 0 (key, flags other than cc/fctl/actl/stctl are 0 unless given in `extra`). */
export function scsw_word0(f: { cc?: number; fctl?: number; actl?: number; stctl?: number; extra?: number }): number {
  return (((f.cc ?? 0) & 3) << 24) | (((f.fctl ?? 0) & 7) << 12) | (((f.actl ?? 0) & 0x7f) << 5) | ((f.stctl ?? 0) & 0x1f) | (f.extra ?? 0);
}

export const with_fctl = (w0: number, fctl: number): number => (w0 & ~(7 << 12)) | ((fctl & 7) << 12);
export const with_actl = (w0: number, actl: number): number => (w0 & ~(0x7f << 5)) | ((actl & 0x7f) << 5);
export const with_stctl = (w0: number, stctl: number): number => (w0 & ~0x1f) | (stctl & 0x1f);

/** vfio-ccw's is_final: neither subchannel-active nor device-active. */
export const scsw_is_final = (w0: number): boolean => (scsw_actl(w0) & (SCSW_ACTL_SCHACT | SCSW_ACTL_DEVACT)) === 0;

/** scsw_is_solicited: deferred cc != 0, or stctl other than exactly alert + status pending. */
export const scsw_is_solicited = (w0: number): boolean =>
  scsw_cc(w0) !== 0 || scsw_stctl(w0) !== (SCSW_STCTL_STATUS_PEND | SCSW_STCTL_ALERT_STATUS);

/** A plain 12-byte SCSW value. */
export interface Scsw {
  w0: number;
  cpa: number;
  dstat: number;
  cstat: number;
  count: number;
}

export function scsw_read(dv: DataView, off: number): Scsw {
  const w2 = dv.getUint32(off + 8);
  return { w0: dv.getUint32(off) | 0, cpa: dv.getUint32(off + 4), dstat: w2 >>> 24, cstat: (w2 >>> 16) & 0xff, count: w2 & 0xffff };
}

export function scsw_write(dv: DataView, off: number, s: Scsw): void {
  dv.setUint32(off, s.w0 >>> 0);
  dv.setUint32(off + 4, s.cpa >>> 0);
  dv.setUint32(off + 8, (((s.dstat & 0xff) << 24) | ((s.cstat & 0xff) << 16) | (s.count & 0xffff)) >>> 0);
}
