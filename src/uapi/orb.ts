// Command-mode ORB (12 bytes, big-endian; struct cmd_orb in drivers/s390/cio/orb.h). Word 0 intparm, word 1 flags, word 2 cpa.

export const ORB_SIZE = 12;

// word 1 bits, bit 0 = MSB
const bit = (n: number): number => (1 << (31 - n)) >>> 0;
export const ORB_KEY_SHIFT = 28;
export const ORB_SPND = bit(4);
export const ORB_MOD = bit(6);
export const ORB_SYNC = bit(7);
export const ORB_FMT = bit(8);
export const ORB_PFCH = bit(9);
export const ORB_ISIC = bit(10);
export const ORB_ALCC = bit(11);
export const ORB_SSIC = bit(12);
/** transport-mode view: bit 13 is `b` (byte 5, mask 0x04) */
export const ORB_TM_B = bit(13);
export const ORB_C64 = bit(14);
export const ORB_I2K = bit(15);
export const ORB_LPM_SHIFT = 8; // bits 16-23
export const ORB_ILS = bit(24);
export const ORB_ORBX = bit(31);

export interface Orb {
  intparm: number;
  flags: number;
  cpa: number;
}

export const orb_lpm = (flags: number): number => (flags >>> ORB_LPM_SHIFT) & 0xff;
export const orb_with_lpm = (flags: number, lpm: number): number => ((flags & ~(0xff << ORB_LPM_SHIFT)) | ((lpm & 0xff) << ORB_LPM_SHIFT)) >>> 0;
export const orb_has = (flags: number, b: number): boolean => (flags & b) !== 0;

export function orb_read(dv: DataView, off: number): Orb {
  return { intparm: dv.getUint32(off), flags: dv.getUint32(off + 4), cpa: dv.getUint32(off + 8) };
}

export function orb_write(dv: DataView, off: number, o: Orb): void {
  dv.setUint32(off, o.intparm >>> 0);
  dv.setUint32(off + 4, o.flags >>> 0);
  dv.setUint32(off + 8, o.cpa >>> 0);
}

export function orb_bytes(o: Orb): Uint8Array {
  const b = new Uint8Array(ORB_SIZE);
  orb_write(new DataView(b.buffer), 0, o);
  return b;
}
