// A shared byte area (UAPI regions, the IRB slot, the schib): plain copies, big-endian
// helpers, every access visible to the hook (arg = pos << 16 | length).
import { current } from './current.ts';
import { H, hook } from './hook.ts';
import { KObj } from './obj.ts';

export class Bytes extends KObj {
  readonly u8: Uint8Array;
  readonly dv: DataView;
  readonly base: number;
  constructor(a: Int32Array, i: number, id: number, readonly size: number) {
    super(a, i, id);
    this.base = i * 4;
    this.u8 = new Uint8Array(a.buffer, this.base, size);
    this.dv = new DataView(a.buffer, this.base, size);
  }
  private h(kind: number, pos: number, len: number, site: string): void {
    if (hook !== null) hook(kind as 13, this.id, site, current.id, (pos << 16) | len);
  }
  /** copy out [pos, pos+len) */
  read(pos: number, len: number, site: string): Uint8Array {
    this.h(H.read, pos, len, site);
    return this.u8.slice(pos, pos + len);
  }
  /** copy `src` in at pos */
  write(pos: number, src: Uint8Array, site: string): void {
    this.h(H.write, pos, src.length, site);
    this.u8.set(src, pos);
  }
  /** memcpy(this + pos, from + fromPos, len) between shared areas */
  copy_from(from: Bytes, site: string, len = Math.min(this.size, from.size), pos = 0, fromPos = 0): void {
    from.h(H.read, fromPos, len, site);
    this.h(H.write, pos, len, site);
    this.u8.set(from.u8.subarray(fromPos, fromPos + len), pos);
  }
  fill(v: number, site: string, pos = 0, len = this.size - pos): void {
    this.h(H.write, pos, len, site);
    this.u8.fill(v, pos, pos + len);
  }
  get_u32(pos: number, site: string): number {
    this.h(H.read, pos, 4, site);
    return this.dv.getUint32(pos);
  }
  get_i32(pos: number, site: string): number {
    this.h(H.read, pos, 4, site);
    return this.dv.getInt32(pos);
  }
  set_u32(pos: number, v: number, site: string): void {
    this.h(H.write, pos, 4, site);
    this.dv.setUint32(pos, v >>> 0);
  }
  set_i32(pos: number, v: number, site: string): void {
    this.h(H.write, pos, 4, site);
    this.dv.setInt32(pos, v | 0);
  }
  get_u8(pos: number, site: string): number {
    this.h(H.read, pos, 1, site);
    return this.u8[pos]!;
  }
}
