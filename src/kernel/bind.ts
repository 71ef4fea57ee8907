// Typed views over a struct laid out in a shared buffer.
import { AtomicT, Field, Words } from './atomic.ts';
import { Bytes } from './bytes.ts';
import { Completion } from './completion.ts';
import { objId, type FieldSpec, type SharedBuf, type StructLayout } from './layout.ts';
import { Mutex } from './mutex.ts';
import type { KObj } from './obj.ts';
import { Spinlock } from './spinlock.ts';
import { WorkStruct } from './workqueue.ts';

type ViewOf<F extends FieldSpec> = F['kind'] extends 'i32'
  ? Field
  : F['kind'] extends 'atomic'
    ? AtomicT
    : F['kind'] extends 'mutex'
      ? Mutex
      : F['kind'] extends 'spinlock'
        ? Spinlock
        : F['kind'] extends 'completion'
          ? Completion
          : F['kind'] extends 'work'
            ? WorkStruct
            : F['kind'] extends 'bytes'
              ? Bytes
              : F['kind'] extends 'words'
                ? Words
                : KObj;

export type StructView<S extends Record<string, FieldSpec>> = { readonly [K in keyof S]: ViewOf<S[K]> };

/** Build the views of `layout` placed at word `base` of `buf`. */
export function bind<S extends Record<string, FieldSpec>>(layout: StructLayout<S>, buf: SharedBuf, base: number): StructView<S> {
  const out: Record<string, KObj> = {};
  for (const f of layout.list) {
    const i = base + f.off;
    const id = objId(buf, i);
    const a = buf.i32;
    switch (f.kind) {
      case 'i32':
        out[f.name] = new Field(a, i, id);
        break;
      case 'atomic':
        out[f.name] = new AtomicT(a, i, id);
        break;
      case 'mutex':
        out[f.name] = new Mutex(a, i, id);
        break;
      case 'spinlock':
        out[f.name] = new Spinlock(a, i, id);
        break;
      case 'completion':
        out[f.name] = new Completion(a, i, id);
        break;
      case 'work':
        out[f.name] = new WorkStruct(a, i, id);
        break;
      case 'bytes':
        out[f.name] = new Bytes(a, i, id, f.bytes ?? f.words * 4);
        break;
      case 'words':
        out[f.name] = new Words(a, i, id, f.words);
        break;
    }
  }
  return out as StructView<S>;
}

/** The view type of a laid-out struct: `LayoutView<typeof MyStruct>`. */
export type LayoutView<L> = L extends StructLayout<infer S> ? StructView<S> : never;
