// arch/s390/include/asm/schib.h, irb.h: PMCW, SCHIB and IRB byte layouts (big-endian).
import { IRB_AREA_SIZE, SCHIB_AREA_SIZE, SCHIB_SCSW } from '../uapi/vfio_ccw.ts';

export { IRB_AREA_SIZE as IRB_SIZE, SCHIB_AREA_SIZE as SCHIB_SIZE, SCHIB_SCSW };

// PMCW (28 bytes at SCHIB offset 0)
export const PMCW_SIZE = 28;
export const PMCW_INTPARM = 0; // u32
export const PMCW_FLAGS = 4; // u16: qf w isc:3 res:3 ena lm:2 mme:2 mp tf dnv
export const PMCW_DEVNO = 6; // u16
export const PMCW_LPM = 8;
export const PMCW_PNOM = 9;
export const PMCW_LPUM = 10;
export const PMCW_PIM = 11;
export const PMCW_MBI = 12; // u16
export const PMCW_POM = 14;
export const PMCW_PAM = 15;
export const PMCW_CHPID = 16; // 8 bytes
export const PMCW_W6 = 24; // u32: st (subchannel type) and mode bits

// flags halfword bits
export const PMCW_ENA = 0x0080;
export const PMCW_DNV = 0x0001;
export const PMCW_MP = 0x0004;
export const PMCW_ISC_SHIFT = 11;
export const PMCW_ISC_MASK = 0x7 << PMCW_ISC_SHIFT;

// IRB (96 bytes): SCSW 12, ESW 20, ECW 32, EMW 32
export const IRB_SCSW = 0;
export const IRB_ESW = 12;
export const IRB_ERW = 16; // format-0 ESW: sublog @12, erw @16
export const IRB_ECW = 32;
export const ECW_SIZE = 32;
export const IRB_EMW = 64;

/** erw.cons: concurrent sense, the ECW holds sense data */
export const ERW_CONS = 1 << (31 - 7);
/** erw.scnt: number of sense bytes (6 bits) */
export const ERW_SCNT_SHIFT = 31 - 15;

/** SCSW word 0 bit 5: ESW format (the ESW/ECW are meaningful) */
export const SCSW_ESWF = 1 << (31 - 5);
/** SCSW word 0 bits copied from the ORB at start: key (0-3), fmt, pfch, isic, alcc (8-11). */
export const SCSW_FROM_ORB = 0xf0f00000 | 0;
