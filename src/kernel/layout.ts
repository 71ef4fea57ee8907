// The shared-memory layout: every shared field is named once here (or in a struct
// declared with these builders), with its word offset and size. Views are stateless.
//
// An object id names one shared object everywhere (hook, trace, reports):
//   id = buffer index * 2^20 + word offset. Buffer 0 is the global buffer.

export const OBJ_SHIFT = 20;
export const WORD = 4;

export type FieldKind =
  | 'i32' // plain shared word (accessed through the seam's accessors)
  | 'atomic' // atomic_t
  | 'mutex'
  | 'spinlock'
  | 'completion'
  | 'work'
  | 'bytes'
  | 'words';

export interface FieldSpec<K extends FieldKind = FieldKind> {
  readonly kind: K;
  /** size in 32-bit words */
  readonly words: number;
  /** for 'bytes': exact byte length */
  readonly bytes?: number;
  readonly doc?: string;
}

export const MUTEX_WORDS = 1; // owner and waiters flag in one word (lockword.ts)
export const SPINLOCK_WORDS = 1; // as MUTEX_WORDS
export const COMPLETION_WORDS = 2; // done, waiters
export const WORK_WORDS = 3; // pending, fn id, arg

export const i32 = (doc?: string): FieldSpec<'i32'> => ({ kind: 'i32', words: 1, doc });
export const atomic = (doc?: string): FieldSpec<'atomic'> => ({ kind: 'atomic', words: 1, doc });
export const mutex = (doc?: string): FieldSpec<'mutex'> => ({ kind: 'mutex', words: MUTEX_WORDS, doc });
export const spinlock = (doc?: string): FieldSpec<'spinlock'> => ({ kind: 'spinlock', words: SPINLOCK_WORDS, doc });
export const completion = (doc?: string): FieldSpec<'completion'> => ({ kind: 'completion', words: COMPLETION_WORDS, doc });
export const work = (doc?: string): FieldSpec<'work'> => ({ kind: 'work', words: WORK_WORDS, doc });
export const bytes = (n: number, doc?: string): FieldSpec<'bytes'> => ({ kind: 'bytes', words: Math.ceil(n / WORD), bytes: n, doc });
export const words = (n: number, doc?: string): FieldSpec<'words'> => ({ kind: 'words', words: n, doc });
/** lifetime.ts: count, generation, freeing actor, site length, then the freeing site's bytes */
export const KREF_SITE_BYTES = 48;
export const KREF_WORDS = 4 + KREF_SITE_BYTES / 4;
/** An object's lifetime (lifetime.ts) inside a shared struct. */
export const kref = (doc?: string): FieldSpec<'words'> => words(KREF_WORDS, doc);

export interface FieldInfo extends FieldSpec {
  readonly name: string;
  /** word offset from the start of the struct */
  readonly off: number;
}

export interface StructLayout<S extends Record<string, FieldSpec>> {
  readonly name: string;
  readonly fields: { readonly [K in keyof S]: FieldInfo };
  /** size in words */
  readonly words: number;
  readonly list: readonly FieldInfo[];
}

/** Lay out a struct: fields in declaration order, word aligned. */
export function defineStruct<S extends Record<string, FieldSpec>>(name: string, spec: S): StructLayout<S> {
  let off = 0;
  const fields: Record<string, FieldInfo> = {};
  const list: FieldInfo[] = [];
  for (const [fname, f] of Object.entries(spec)) {
    const info: FieldInfo = { ...f, name: fname, off };
    fields[fname] = info;
    list.push(info);
    off += f.words;
  }
  return { name, fields: fields as StructLayout<S>['fields'], words: off, list };
}

/** A shared buffer with its index (the high bits of every object id in it). */
export interface SharedBuf {
  readonly index: number;
  readonly sab: SharedArrayBuffer;
  readonly i32: Int32Array;
  readonly u8: Uint8Array;
}

export function wrapBuf(index: number, sab: SharedArrayBuffer): SharedBuf {
  return { index, sab, i32: new Int32Array(sab), u8: new Uint8Array(sab) };
}

/** Only main allocates buffers, before they reach any worker. Zero is the initial value of every field. */
export function allocBuf(index: number, layoutWords: number): SharedBuf {
  return wrapBuf(index, new SharedArrayBuffer(layoutWords * WORD));
}

export const objId = (buf: SharedBuf, wordOff: number): number => buf.index * (1 << OBJ_SHIFT) + wordOff;
export const objBuf = (id: number): number => Math.floor(id / (1 << OBJ_SHIFT));
export const objOff = (id: number): number => id % (1 << OBJ_SHIFT);

// Names for reports: each buffer index maps to a struct layout (or a list of them at offsets).
interface NameEntry { base: number; layout: StructLayout<Record<string, FieldSpec>>; prefix: string }
const names = new Map<number, NameEntry[]>();

/** Record that `layout` sits at word `base` of buffer `bufIndex`, so object ids can be named. */
export function nameRegion(bufIndex: number, base: number, layout: StructLayout<Record<string, FieldSpec>>, prefix: string): void {
  const list = names.get(bufIndex) ?? [];
  const same = list.findIndex((e) => e.base === base && e.layout.name === layout.name);
  if (same >= 0) list.splice(same, 1);
  list.push({ base, layout, prefix });
  names.set(bufIndex, list);
}

/** Human name of an object id, e.g. "dev0.io_mutex"; falls back to "buf1+42". */
export function objName(id: number): string {
  const b = objBuf(id);
  const off = objOff(id);
  for (const e of names.get(b) ?? []) {
    const rel = off - e.base;
    if (rel < 0 || rel >= e.layout.words) continue;
    for (const f of e.layout.list) {
      if (rel >= f.off && rel < f.off + f.words) {
        return rel === f.off ? `${e.prefix}${f.name}` : `${e.prefix}${f.name}+${rel - f.off}`;
      }
    }
  }
  return `buf${b}+${off}`;
}

/** Lock class of an object (lockdep): the struct and field, shared by every instance, e.g. "private.io_mutex". */
export function objClass(id: number): string {
  const b = objBuf(id);
  const off = objOff(id);
  for (const e of names.get(b) ?? []) {
    const rel = off - e.base;
    if (rel < 0 || rel >= e.layout.words) continue;
    for (const f of e.layout.list) if (rel >= f.off && rel < f.off + f.words) return `${e.layout.name}.${f.name}`;
  }
  return `buf${b}+${off}`;
}

/** Every named object of a kind (for reports that enumerate locks). */
export function namedObjects(kind: FieldKind): { id: number; name: string; cls: string }[] {
  const out: { id: number; name: string; cls: string }[] = [];
  for (const [b, list] of names) {
    for (const e of list) {
      for (const f of e.layout.list) {
        if (f.kind !== kind) continue;
        const id = b * (1 << OBJ_SHIFT) + e.base + f.off;
        out.push({ id, name: `${e.prefix}${f.name}`, cls: `${e.layout.name}.${f.name}` });
      }
    }
  }
  return out;
}
