// struct vfio_ccw_crw and the private->crw list (v5.8+, vfio_ccw_drv.c / vfio_ccw_chp.c, v6.2
// read): the producer (chp_event, sch->lock held by the css) kzalloc(GFP_ATOMIC)s an entry and
// list_add_tail()s it; the CRW region read takes the first entry off with no lock at all, copies
// it under io_mutex and kfree()s it; crw_todo and the reader test list_empty(). Every entry is an
// object with a lifetime (src/kernel/lifetime.ts): a reader that still follows an entry another
// reader freed is a use-after-free. The head is one word (first entry), as list_first_entry and
// list_del on the first entry touch only it and that entry's next; `last` stands for head.prev.
import {
  Kref, KREF_WORDS, kref_gen, kref_init, kref_read, obj_free, obj_use, peek, spin_lock_irqsave, spin_unlock_irqrestore, type Lifetime,
} from '../kernel/index.ts';
import { CRW_QUEUE, type VfioCcwPrivate } from './private.ts';

/** A pointer to an entry (struct vfio_ccw_crw *): generation << 8 | index + 1; 0 is NULL. */
export type CrwPtr = number;

const idx = (e: CrwPtr): number => (e & 0xff) - 1;
const gen = (e: CrwPtr): number => e >>> 8;

function entry(p: VfioCcwPrivate, e: CrwPtr): Lifetime {
  return { ref: p.v.crw_life.sub(idx(e) * KREF_WORDS, Kref), what: 'vfio_ccw_crw' };
}

/** list_empty(&private->crw) */
export function crw_list_empty(p: VfioCcwPrivate, site: string): boolean {
  return p.v.crw_first.get(site) === 0;
}

/**
 * kzalloc(GFP_ATOMIC) + fill: a new entry, not yet on the list, or 0 when the allocation fails.
 * The allocator orders a kfree before the kzalloc that reuses the memory (crw_slab stands for its
 * own synchronisation): the new owner's writes do not race the old owner's last reads.
 */
export function crw_alloc(p: VfioCcwPrivate, value: number, site: string): CrwPtr {
  let e: CrwPtr = 0;
  const flags = spin_lock_irqsave(p.v.crw_slab, 'kzalloc');
  for (let j = 0; j < CRW_QUEUE && e === 0; j++) {
    const cand = entry(p, j + 1);
    if (kref_read(cand.ref) === 0) e = (kref_init(cand.ref) << 8) | (j + 1);
  }
  spin_unlock_irqrestore(p.v.crw_slab, flags, 'kzalloc');
  if (e === 0) return 0;
  p.v.crw_val.at(idx(e)).set(value, site);
  p.v.crw_next.at(idx(e)).set(0, site);
  return e;
}

/** list_add_tail(&crw->next, &private->crw) */
export function crw_list_add_tail(p: VfioCcwPrivate, e: CrwPtr, site: string): void {
  const last = p.v.crw_last.get(site);
  if (last === 0) p.v.crw_first.set(e, site);
  else if (obj_use(entry(p, last), gen(last), site)) p.v.crw_next.at(idx(last)).set(e, site);
  p.v.crw_last.set(e, site);
}

/** kzalloc(GFP_ATOMIC) + fill + list_add_tail; false when the allocation fails (the CRW is dropped). */
export function crw_queue(p: VfioCcwPrivate, value: number, site: string): boolean {
  const e = crw_alloc(p, value, site);
  if (e === 0) return false;
  crw_list_add_tail(p, e, site);
  return true;
}

/**
 * list_first_entry_or_null + list_del: the first entry, unlinked, or 0. Callers before the
 * crw_lock change hold no lock here; the current tree's hold private->crw_lock.
 */
export function crw_dequeue(p: VfioCcwPrivate, site: string): CrwPtr {
  const e = p.v.crw_first.get(site);
  if (e === 0) return 0;
  const next = p.v.crw_next.at(idx(e)).get(site);
  // checked after the load: another reader may have freed the entry since we found it
  if (!obj_use(entry(p, e), gen(e), site, 'list_del of')) return 0;
  p.v.crw_first.set(next, site);
  if (next === 0) p.v.crw_last.set(0, site);
  return e;
}

/** crw->crw of an entry the caller took off the list (0 if it is already freed: reported). */
export function crw_value(p: VfioCcwPrivate, e: CrwPtr, site: string): number {
  return obj_use(entry(p, e), gen(e), site, 'read of') ? p.v.crw_val.at(idx(e)).get(site) : 0;
}

/** kfree(crw) */
export function crw_free(p: VfioCcwPrivate, e: CrwPtr, site: string): void {
  const flags = spin_lock_irqsave(p.v.crw_slab, 'kfree');
  obj_free(entry(p, e), gen(e), site);
  spin_unlock_irqrestore(p.v.crw_slab, flags, 'kfree');
}

/** Entries queued (tests, stats): walks the list with peek(), unseen by the detectors. */
export function crw_count(p: VfioCcwPrivate): number {
  let n = 0;
  for (let e = peek(p.v.crw_first); e !== 0 && n <= CRW_QUEUE; n++) {
    if (kref_gen(entry(p, e).ref) !== gen(e)) break;
    e = peek(p.v.crw_next.at(idx(e)));
  }
  return n;
}

/** release (v6.2+) / probe: every queued entry freed, the list empty. */
export function crw_free_all(p: VfioCcwPrivate, site: string): void {
  for (let e = crw_dequeue(p, site); e !== 0; e = crw_dequeue(p, site)) crw_free(p, e, site);
}
