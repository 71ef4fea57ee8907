// The allocator's side of an object's memory, for the detectors: kfree ends the memory's life
// and kzalloc (vfio_alloc_device) starts a new one where the model reuses the same words. As
// ThreadSanitizer treats them: a free is a write to the whole object, an allocation starts the
// words with no history. The model's lifetimes (lifetime.ts) say which generation is alive;
// this says where it lives.
//
// Not a hook event: the scheduler makes every hook event a schedule point, and the kernel's
// kfree / kzalloc of private are none of the driver's synchronisation.
import { current } from './current.ts';

/** Object ids [lo, hi) (layout.ts: buffer * 2^20 + word) the object's memory covers. */
export interface MemRange {
  readonly lo: number;
  readonly hi: number;
}

export const Kmem = { free: 1, alloc: 2 } as const;
export type KmemOp = (typeof Kmem)[keyof typeof Kmem];

/** A consumer sees the object's ranges, the site (the kernel function that frees or allocates) and the actor. */
export type KmemFn = (op: KmemOp, ranges: readonly MemRange[], site: string, actor: number) => void;

const consumers: KmemFn[] = [];

/** Register a consumer for this thread; returns its unregister function. */
export function register_kmem(fn: KmemFn): () => void {
  consumers.push(fn);
  return () => {
    const i = consumers.indexOf(fn);
    if (i >= 0) consumers.splice(i, 1);
  };
}

/** kfree / kvfree of an object occupying `ranges`. */
export function kmem_free(ranges: readonly MemRange[], site: string): void {
  for (const c of consumers) c(Kmem.free, ranges, site, current.id);
}

/** kzalloc / kvzalloc handing out `ranges` to a new object. */
export function kmem_alloc(ranges: readonly MemRange[], site: string): void {
  for (const c of consumers) c(Kmem.alloc, ranges, site, current.id);
}
