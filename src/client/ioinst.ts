// include/hw/s390x/ioinst.h: QEMU's view of the SCSW, PMCW, ORB and SCHIB as 16-bit halves.
// Grouped in objects because src/uapi/scsw.ts exports the Linux field encodings under the
// same flat names (SCSW_FCTL_START_FUNC is 0x4 there, 0x4000 here).

/** SCSW word 0, first half (QEMU `scsw.flags`). */
export const SCSW_FLAGS_MASK = {
  KEY: 0xf000,
  SCTL: 0x0800,
  ESWF: 0x0400,
  CC: 0x0300,
  FMT: 0x0080,
  PFCH: 0x0040,
  ISIC: 0x0020,
  ALCC: 0x0010,
  SSI: 0x0008,
  ZCC: 0x0004,
  ECTL: 0x0002,
  PNO: 0x0001,
} as const;

/** SCSW word 0, second half (QEMU `scsw.ctrl`). */
export const SCSW_CTRL_MASK = { FCTL: 0x7000, ACTL: 0x0fe0, STCTL: 0x001f } as const;
export const SCSW_FCTL = { START_FUNC: 0x4000, HALT_FUNC: 0x2000, CLEAR_FUNC: 0x1000 } as const;
export const SCSW_ACTL = {
  RESUME_PEND: 0x0800,
  START_PEND: 0x0400,
  HALT_PEND: 0x0200,
  CLEAR_PEND: 0x0100,
  SUBCH_ACTIVE: 0x0080,
  DEVICE_ACTIVE: 0x0040,
  SUSP: 0x0020,
} as const;
export const SCSW_STCTL = { ALERT: 0x10, INTERMEDIATE: 0x08, PRIMARY: 0x04, SECONDARY: 0x02, STATUS_PEND: 0x01 } as const;

export const SCSW_DSTAT = {
  ATTENTION: 0x80,
  STAT_MOD: 0x40,
  CU_END: 0x20,
  BUSY: 0x10,
  CHANNEL_END: 0x08,
  DEVICE_END: 0x04,
  UNIT_CHECK: 0x02,
  UNIT_EXCEP: 0x01,
} as const;
export const SCSW_CSTAT = {
  PCI: 0x80,
  INCORR_LEN: 0x40,
  PROG_CHECK: 0x20,
  PROT_CHECK: 0x10,
  DATA_CHECK: 0x08,
  CHN_CTRL_CHK: 0x04,
  INTF_CTRL_CHK: 0x02,
  CHAIN_CHECK: 0x01,
} as const;

/** PMCW bytes 4-5. */
export const PMCW_FLAGS_MASK = {
  QF: 0x8000,
  W: 0x4000,
  ISC: 0x3800,
  ENA: 0x0080,
  LM: 0x0060,
  MME: 0x0018,
  MP: 0x0004,
  TF: 0x0002,
  DNV: 0x0001,
} as const;
export const PMCW_ISC_SHIFT = 11;
/** PMCW bytes 24-27. */
export const PMCW_CHARS_MASK = { CSENSE: 0x00000001 } as const;

/** ORB word 1 as QEMU splits it: ctrl0 (16 bits), lpm (8), ctrl1 (8). */
export const ORB_CTRL0_MASK = {
  KEY: 0xf000,
  SPND: 0x0800,
  STR: 0x0400,
  MOD: 0x0200,
  SYNC: 0x0100,
  FMT: 0x0080,
  PFCH: 0x0040,
  ISIC: 0x0020,
  ALCC: 0x0010,
  SSIC: 0x0008,
  /** the transport-mode bit: QEMU rejects it */
  INVALID: 0x0004,
  C64: 0x0002,
  I2K: 0x0001,
} as const;
export const ORB_CTRL1_MASK = { ILS: 0x80, MIDAW: 0x40, INVALID: 0x3e, ORBX: 0x01 } as const;
/** CPA bit 0: a channel program above 2 GiB */
export const ORB_CPA_HIGH_ORDER_BIT = 0x80000000;

// SCHIB (52 bytes): PMCW 0-27, SCSW 28-39, measurement-block address 40-47, model area 48-51.
export const SCHIB_SIZE = 52;
export const PMCW_SIZE = 28;
export const SCHIB_OFF_SCSW = 28;
export const PMCW_OFF = {
  INTPARM: 0,
  FLAGS: 4,
  DEVNO: 6,
  LPM: 8,
  PNOM: 9,
  LPUM: 10,
  PIM: 11,
  MBI: 12,
  POM: 14,
  PAM: 15,
  CHPID: 16,
  CHARS: 24,
} as const;

/** The guest's condition code, or a program check the instruction raised instead. */
export type GuestCc = 0 | 1 | 2 | 3 | 'pgm';
