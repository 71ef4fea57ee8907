// No QEMU file: the guest behind hw/s390x/css.c (Linux dasd_eckd.c, kvm-unit-tests s390x/css.c)
// laying out its channel programs in guest memory.
import { CCW_CMD, CCW_FLAG, CCW_SIZE, ccw, ccw_chain, type Ccw, IDA_BLOCK_SIZE, IDAW_SIZE, idal_encode } from '../uapi/ccw.ts';
import { ORB_C64, ORB_FMT, ORB_ISIC, ORB_PFCH, orb_with_lpm, type Orb } from '../uapi/orb.ts';

/** Guest memory as the client sees it; the harness binds it to the shared guest memory. */
export interface GuestMem {
  write(iova: number, bytes: Uint8Array): void;
}

/** Iova 0 is never handed out: the first page stays unused. */
export const GUEST_MEM_START = 0x1000;
/** 64 KiB of guest address space. */
export const GUEST_MEM_END = 0x10000;

/** A bump allocator over the guest address space; programs are freed in stack order or all at once. */
export class GuestAlloc {
  private next: number;
  constructor(
    readonly start = GUEST_MEM_START,
    readonly end = GUEST_MEM_END,
  ) {
    this.next = start;
  }

  /** Start of `size` bytes aligned to `align` (a power of two); throws when the space is exhausted. */
  alloc(size: number, align = 8): number {
    const base = Math.ceil(this.next / align) * align;
    if (size <= 0 || base + size > this.end) throw new RangeError(`guest memory exhausted: ${size} bytes at 0x${base.toString(16)} (end 0x${this.end.toString(16)})`);
    this.next = base + size;
    return base;
  }

  mark(): number {
    return this.next;
  }

  /** Frees everything allocated after `mark`. */
  release(mark: number): void {
    this.next = Math.max(this.start, Math.min(mark, this.next));
  }

  reset(): void {
    this.next = this.start;
  }

  get used(): number {
    return this.next - this.start;
  }
}

export interface Segment {
  kind: 'ccw' | 'idal' | 'data';
  /** offset from the program's base */
  off: number;
  iova: number;
  bytes: Uint8Array;
  /** the device stores into it (a read); false: the device fetches it */
  input: boolean;
}

export interface GuestProgram {
  name: string;
  base: number;
  /** bytes from base that the program occupies */
  size: number;
  /** guest address of the first CCW (= base) */
  cpa: number;
  ccws: Uint8Array;
  ccw_count: number;
  /** CCW address a normal end reports: last CCW + 8 */
  end_cpa: number;
  /** index of the CCW carrying PCI, or -1 */
  pci_index: number;
  segments: Segment[];
  orb: Orb;
}

/** A program whose addresses are not fixed yet: build it at any base aligned to `align`. */
export interface ProgramSpec {
  name: string;
  size: number;
  align: number;
  build(base: number): GuestProgram;
}

/** ORB fields the guest chooses; the format is always 1 (format-1 CCWs). */
export interface OrbFields {
  intparm?: number;
  pfch?: boolean;
  lpm?: number;
  isic?: boolean;
  /** format-2 (64-bit) IDAWs */
  c64?: boolean;
}

export function make_orb(cpa: number, f: OrbFields = {}): Orb {
  let flags = ORB_FMT;
  if (f.pfch ?? true) flags |= ORB_PFCH;
  if (f.isic === true) flags |= ORB_ISIC;
  if (f.c64 === true) flags |= ORB_C64;
  return { intparm: (f.intparm ?? 0) >>> 0, flags: orb_with_lpm(flags >>> 0, f.lpm ?? 0x80), cpa: cpa >>> 0 };
}

interface Piece {
  kind: Segment['kind'];
  off: number;
  len: number;
  input: boolean;
  /** contents for buffers the device fetches */
  fill?: Uint8Array;
}

/** Offsets of a program's pieces from its base. */
class Layout {
  size = 0;
  readonly pieces: Piece[] = [];
  add(kind: Segment['kind'], len: number, align: number, input: boolean, fill?: Uint8Array): number {
    const off = Math.ceil(this.size / align) * align;
    this.pieces.push({ kind, off, len, input, fill });
    this.size = off + len;
    return off;
  }
}

/** Turns laid-out CCWs (cda given as an offset from base) into a program at `base`. */
function finish(name: string, layout: Layout, ccws: (base: number) => Ccw[], idals: (base: number) => Uint8Array[], orb: OrbFields, pci_index: number, base: number): GuestProgram {
  const list = ccws(base);
  const ccw_bytes = ccw_chain(list, { chain: false });
  const idal_list = idals(base);
  let idal_i = 0;
  const segments: Segment[] = layout.pieces.map((p) => {
    let bytes: Uint8Array;
    if (p.kind === 'ccw') bytes = ccw_bytes;
    else if (p.kind === 'idal') bytes = idal_list[idal_i++] ?? new Uint8Array(p.len);
    else bytes = p.fill !== undefined ? p.fill.slice(0, p.len) : new Uint8Array(p.len);
    return { kind: p.kind, off: p.off, iova: base + p.off, bytes, input: p.input };
  });
  return {
    name,
    base,
    size: layout.size,
    cpa: base,
    ccws: ccw_bytes,
    ccw_count: list.length,
    end_cpa: base + list.length * CCW_SIZE,
    pci_index,
    segments,
    orb: make_orb(base, orb),
  };
}

/** One CCW with a single data buffer right after it (Sense ID, Basic Sense, Reserve, ...). */
function single(name: string, cmd: number, count: number, input: boolean, orb: OrbFields): ProgramSpec {
  const layout = new Layout();
  layout.add('ccw', CCW_SIZE, 8, false);
  const data = layout.add('data', count, 8, input);
  return {
    name,
    size: layout.size,
    align: 8,
    build: (base) => finish(name, layout, (b) => [ccw(cmd, CCW_FLAG.SLI, count, b + data)], () => [], orb, -1, base),
  };
}

/** Sense ID: one CCW, SLI, 20 bytes; kvm-unit-tests' ORB: ISIC, LPM 0x80, no PFCH. */
export function sense_id(orb: OrbFields = {}): ProgramSpec {
  return single('sense-id', CCW_CMD.SENSE_ID, 20, true, { isic: true, lpm: 0x80, pfch: false, ...orb });
}

/** Basic Sense: 32 bytes, after a unit check without concurrent sense. */
export function basic_sense(orb: OrbFields = {}): ProgramSpec {
  return single('basic-sense', CCW_CMD.BASIC_SENSE, 32, true, { lpm: 0xf0, ...orb });
}

export function reserve(orb: OrbFields = {}): ProgramSpec {
  return single('reserve', CCW_CMD.RESERVE, 32, true, { lpm: 0xf0, ...orb });
}

export function release(orb: OrbFields = {}): ProgramSpec {
  return single('release', CCW_CMD.RELEASE, 32, true, { lpm: 0xf0, ...orb });
}

export function steal_lock(orb: OrbFields = {}): ProgramSpec {
  return single('steal-lock', CCW_CMD.STEAL_LOCK, 32, true, { lpm: 0xf0, ...orb });
}

/** Read Configuration Data, issued per path: give a single-bit LPM. */
export function rcd(orb: OrbFields = {}, count = 256): ProgramSpec {
  return single('rcd', CCW_CMD.RCD, count, true, { lpm: 0x80, ...orb });
}

export interface DasdReadOpts extends OrbFields {
  /** Read MT CCWs (4 KiB blocks), 1..64 */
  blocks: number;
  /** PCI on the middle CCW */
  pci?: boolean;
  /**
   * Distinct 4 KiB data pages (default min(blocks, 4)); block i reads into page i % pages.
   * The guest space is 64 KiB, so a 64-block program cannot have a page per block.
   */
  data_pages?: number;
}

export const PFX_DATA_SIZE = 64;

/** Prefix 0xE7 + k × Read MT 0x86, command-chained, each Read MT through a one-IDAW IDAL. */
export function dasd_read(o: DasdReadOpts): ProgramSpec {
  const k = o.blocks;
  if (!Number.isInteger(k) || k < 1 || k > 64) throw new RangeError(`dasd_read: blocks ${k} not in 1..64`);
  const pages = Math.max(1, Math.min(k, o.data_pages ?? 4));
  const layout = new Layout();
  layout.add('ccw', (k + 1) * CCW_SIZE, 8, false);
  const pfx = layout.add('data', PFX_DATA_SIZE, 8, false, pfx_data(k));
  const idal: number[] = [];
  for (let i = 0; i < k; i++) idal.push(layout.add('idal', IDAW_SIZE, 8, false));
  const page: number[] = [];
  for (let i = 0; i < pages; i++) page.push(layout.add('data', IDA_BLOCK_SIZE, IDA_BLOCK_SIZE, true));
  const pci_index = o.pci === true ? 1 + Math.floor((k - 1) / 2) : -1;
  const orb: OrbFields = { lpm: 0xf0, c64: true, ...o };
  const at = <T>(a: readonly T[], i: number): T => {
    const v = a[i];
    if (v === undefined) throw new RangeError('dasd_read: layout index');
    return v;
  };
  const ccws = (b: number): Ccw[] => {
    const list = [ccw(CCW_CMD.PREFIX, CCW_FLAG.CC, PFX_DATA_SIZE, b + pfx)];
    for (let i = 0; i < k; i++) {
      let flags = CCW_FLAG.IDA | (i < k - 1 ? CCW_FLAG.CC : 0);
      if (i + 1 === pci_index) flags |= CCW_FLAG.PCI;
      list.push(ccw(CCW_CMD.READ_MT, flags, IDA_BLOCK_SIZE, b + at(idal, i)));
    }
    return list;
  };
  const idals = (b: number): Uint8Array[] => idal.map((_, i) => idal_encode([b + at(page, i % pages)]));
  return { name: `dasd-read-${k}`, size: layout.size, align: IDA_BLOCK_SIZE, build: (base) => finish(`dasd-read-${k}`, layout, ccws, idals, orb, pci_index, base) };
}

/** Prefix parameter bytes: only a recognisable pattern, the model does not interpret them. */
function pfx_data(k: number): Uint8Array {
  const b = new Uint8Array(PFX_DATA_SIZE);
  b[0] = 0x01; // format
  b[1] = 0x01; // validity: define extent present
  b[2] = k & 0xff;
  return b;
}

/** Allocates room for `spec` and builds it there. */
export function place(spec: ProgramSpec, alloc: GuestAlloc): GuestProgram {
  return spec.build(alloc.alloc(spec.size, spec.align));
}

/** Writes the program's CCWs, IDALs and buffers into guest memory. */
export function load_program(mem: GuestMem, prog: GuestProgram): void {
  for (const s of prog.segments) mem.write(s.iova, s.bytes);
}
