// arch/s390/include/asm/cio.h (struct ccw1), asm/idals.h, and the CCW commands the workloads issue.
// Format-1 CCW, 8 bytes big-endian: cmd u8, flags u8, count u16, data address u32.

export const CCW_SIZE = 8;
/** format-2 IDAW: one 64-bit address of a 4K block */
export const IDAW_SIZE = 8;
export const IDA_BLOCK_SIZE = 4096;

export const CCW_FLAG = {
  /** chain data (the kernel's CCW_FLAG_DC) */
  CD: 0x80,
  CC: 0x40,
  SLI: 0x20,
  SKIP: 0x10,
  PCI: 0x08,
  IDA: 0x04,
  SUSPEND: 0x02,
  MIDA: 0x01,
} as const;

export const CCW_CMD = {
  TIC: 0x08,
  NOP: 0x03,
  SENSE_ID: 0xe4,
  BASIC_SENSE: 0x04,
  READ_MT: 0x86,
  WRITE: 0x85,
  PREFIX: 0xe7,
  DEFINE_EXTENT: 0x63,
  LOCATE_RECORD: 0x47,
  RCD: 0xfa,
  RESERVE: 0xb4,
  RELEASE: 0x94,
  STEAL_LOCK: 0x14,
  PSF: 0x27,
  RSSD: 0x3e,
  RDC: 0x64,
} as const;

export interface Ccw {
  cmd: number;
  flags: number;
  count: number;
  /** data address (TIC: the next CCW; IDA: the IDAL) */
  cda: number;
}

export function ccw_read(dv: DataView, off: number): Ccw {
  return { cmd: dv.getUint8(off), flags: dv.getUint8(off + 1), count: dv.getUint16(off + 2), cda: dv.getUint32(off + 4) };
}

export function ccw_write(dv: DataView, off: number, c: Ccw): void {
  dv.setUint8(off, c.cmd & 0xff);
  dv.setUint8(off + 1, c.flags & 0xff);
  dv.setUint16(off + 2, c.count & 0xffff);
  dv.setUint32(off + 4, c.cda >>> 0);
}

export function ccw_encode(c: Ccw): Uint8Array {
  const b = new Uint8Array(CCW_SIZE);
  ccw_write(new DataView(b.buffer), 0, c);
  return b;
}

export function ccw_decode(b: Uint8Array, off = 0): Ccw {
  return ccw_read(new DataView(b.buffer, b.byteOffset, b.byteLength), off);
}

export const ccw_is_chain = (c: Ccw): boolean => (c.flags & (CCW_FLAG.CC | CCW_FLAG.CD)) !== 0;
export const ccw_is_tic = (c: Ccw): boolean => c.cmd === CCW_CMD.TIC;
export const ccw_is_noop = (c: Ccw): boolean => c.cmd === CCW_CMD.NOP;
export const ccw_is_idal = (c: Ccw): boolean => (c.flags & CCW_FLAG.IDA) !== 0;

/**
 * Whether the driver pins data pages for this CCW. The kernel also skips read-type CCWs
 * with SKIP set; the model pins them anyway (more pinning, never less).
 */
export const ccw_does_data_transfer = (c: Ccw): boolean => c.count !== 0 && !ccw_is_tic(c) && !ccw_is_noop(c);

/** Shorthand: ccw(CCW_CMD.SENSE_ID, CCW_FLAG.SLI, 8, 0x2000). */
export const ccw = (cmd: number, flags: number, count: number, cda: number): Ccw => ({ cmd, flags, count, cda });

/**
 * Lay a chain out as guest bytes. With `chain` (the default), command chaining is set on every
 * CCW but the last and on no TIC, so the chain ends where the list ends; without it the flags
 * are taken as given.
 */
export function ccw_chain(ccws: readonly Ccw[], opts: { chain?: boolean } = {}): Uint8Array {
  const chain = opts.chain ?? true;
  const b = new Uint8Array(ccws.length * CCW_SIZE);
  const dv = new DataView(b.buffer);
  ccws.forEach((c, i) => {
    const last = i === ccws.length - 1;
    const flags = chain && !last && !ccw_is_tic(c) ? c.flags | CCW_FLAG.CC : c.flags;
    ccw_write(dv, i * CCW_SIZE, { ...c, flags });
  });
  return b;
}

/** An IDAL: format-2 IDAWs (8 bytes, big-endian). */
export function idal_encode(addrs: readonly number[]): Uint8Array {
  const b = new Uint8Array(addrs.length * IDAW_SIZE);
  const dv = new DataView(b.buffer);
  addrs.forEach((a, i) => dv.setBigUint64(i * IDAW_SIZE, BigInt(a)));
  return b;
}

/** IDAWs needed for `len` bytes starting at `addr` (idal_nr_words): the 4K blocks it spans. */
export const idal_nr_words = (addr: number, len: number): number =>
  len <= 0 ? 0 : Math.floor((addr % IDA_BLOCK_SIZE + len + IDA_BLOCK_SIZE - 1) / IDA_BLOCK_SIZE);
