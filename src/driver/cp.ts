// drivers/s390/cio/vfio_ccw_cp.c, vfio_ccw_cp.h: the channel program, per kernel line.
//
// The cp lives in the device's shared buffer. Its fields have no lock of their own: io_mutex
// covers them by design, but io_todo, close and the DMA-unmap path reach them without it
// (cp_init, cp_prefetch, cp_free, cp_update_scsw in vfio_ccw_cp.c), and those races are what the tools look for. So every access goes through the seam.
import type {
  Field} from '../kernel/index.ts';
import {
  KREF_WORDS,
  Kref,
  WARN,
  Warn,
  atomic,
  atomic_read,
  atomic_set,
  bind,
  bytes,
  current,
  defineStruct,
  i32,
  kref_init,
  kref_read,
  obj_alive,
  obj_free,
  obj_use,
  peek,
  poke,
  should_fail,
  words,
  type AtomicT,
  type Lifetime,
  type SharedBuf,
  type Words,
  type StructView,
} from '../kernel/index.ts';
import { CCW_SIZE, IDAW_SIZE, ccw_decode, ccw_does_data_transfer, ccw_is_chain, ccw_is_idal, ccw_is_tic, idal_nr_words, type Ccw } from '../uapi/ccw.ts';
import { EBUSY, EFAULT, EINVAL, ENOMEM, EOPNOTSUPP } from '../uapi/errno.ts';
import { ORB_C64, ORB_FMT, ORB_PFCH, ORB_SIZE, orb_bytes, orb_lpm, orb_with_lpm, type Orb } from '../uapi/orb.ts';
import type { Scsw } from '../uapi/scsw.ts';
import { SITES } from './sites.ts';
import { PAGE_SIZE, vfio_dma_rw, vfio_pin_pages, vfio_unpin_pages, type GuestMemoryView } from '../vfio/guest.ts';

/** The longest chain: a 257th CCW without an end fails cp_init with -EINVAL. */
export const CCWCHAIN_LEN_MAX = 256;
/** Model limits (the kernel allocates as it goes): chains per cp, pinned pages per cp. */
export const CP_MAX_CHAINS = 8;
export const CP_MAX_PINNED = 1024;
const CHAIN_BYTES = CCWCHAIN_LEN_MAX * CCW_SIZE;
/** Chain objects the model's allocator holds: live, leaked (I7) and freed ones. */
const CHAIN_POOL = 4 * CP_MAX_CHAINS;

// Host ("physical") address of translated CCW `idx` of chain `c`, for cp generation `gen`:
//   0x40000000 | (gen & 0xff) << 16 | c << 12 | idx * 8
// Deterministic, disjoint from guest memory (64 KiB), and different per generation, so an
// SCSW left over from an older channel program does not match the current chains.
export const CP_HOST_BASE = 0x40000000;
export const cp_host_addr = (gen: number, c: number, idx: number): number =>
  (CP_HOST_BASE | ((gen & 0xff) << 16) | (c << 12) | (idx * CCW_SIZE)) >>> 0;

const spec = {
  initialized: i32('v5.2+: set by a successful cp_init, cleared by cp_free'),
  list_valid: i32('ccwchain_list head set up; private is zero-filled, so it stays 0 until the first cp_init'),
  generation: i32('bumped by every successful cp_init: tells a free "by someone else" apart'),
  owner: i32('actor that last initialised the cp'),
  pinned_pages: i32('pages pinned by cp_prefetch and reachable from the cp (entries of pa_iova)'),
  // I7's counters are the model's, not the kernel's: marked (atomic) updates, so the race
  // detector never reports an access KCSAN could not see; the invariant still sees each update.
  unreachable_pinned_pages: atomic('I7: still pinned, no longer reachable from the cp'),
  unreachable_chains: atomic('I7: still allocated, no longer reachable from the cp'),
  pa_nr_stale: i32('< v5.3: pa_nr left on a page array whose allocation failed; the next cp_free unpins that many'),
  pa_alloc_fail_iova: i32('fault injection: the page-array allocation fails for a CCW with this data address; 0 = off'),
  nchains: i32('chains on ccwchain_list'),
  ch_iova: words(CP_MAX_CHAINS, 'guest address of each chain'),
  ch_ccws: words(CP_MAX_CHAINS, 'CCWs in each chain, as cp_init built it'),
  ch_len: words(CP_MAX_CHAINS, 'CCWs of each chain that cp_free and cp_update_scsw walk; cp_prefetch cuts it on error'),
  orb: bytes(ORB_SIZE, 'private copy of the guest ORB, rewritten by cp_get_orb'),
  pa_iova: words(CP_MAX_PINNED, 'pinned page iovas: the ch_pa arrays, flattened'),
  pa_tag: words(CP_MAX_PINNED, 'chain << 16 | CCW index that pinned each page'),
  ch_ccw: bytes(CP_MAX_CHAINS * CHAIN_BYTES, 'translated CCWs: chain c at c * 2048 (TIC addresses rewritten to host addresses)'),
  ch_obj: words(CP_MAX_CHAINS, 'the chain object whose ch_* data sits at each position (chain pointer); kept after its free, so a late use is seen. Raw, not hooked: the model\'s map, not driver memory'),
  ch_cursor: i32('where ccwchain_alloc looks for a free chain object next (raw: the allocator\'s, not the driver\'s)'),
  ch_life: words(CHAIN_POOL * KREF_WORDS, 'per chain object (struct ccwchain with its ch_ccw and ch_pa arrays): ccwchain_alloc to ccwchain_free (lifetime.ts)'),
};

export const ChannelProgram = defineStruct('cp', spec);
export type ChannelProgramView = StructView<typeof spec>;

/** What differs between kernel lines (vfio_ccw_cp.c of each). */
export interface CpRules {
  /** v5.2+: cp->initialized, checked by every accessor */
  has_initialized_flag: boolean;
  /** an ORB without pfch fails cp_init with -EOPNOTSUPP (otherwise: a rate-limited log line) */
  reject_no_pfch: boolean;
  /** v5.13+: cp_init on an initialised cp returns -EBUSY */
  init_busy_if_initialized: boolean;
  /**
   * what a chain-building failure in cp_init frees: everything built (cp_unpin_free), each
   * failed chain as the error unwinds (M-C6), or nothing (cp_free on a cp not yet initialised)
   */
  init_error_path: 'unpin_free_all' | 'free_failed_chain' | 'cp_free_noop';
  /** v5.3 (M-C7): a failed page-array allocation leaves pa_nr = 0 */
  pa_nr_zero_on_alloc_fail: boolean;
  /** cp_update_scsw also matches the address just past a chain's last CCW */
  update_scsw_past_end: boolean;
  /** v6.0+: cp_iova_pinned(iova, length) matches any pinned page in the range, not one start address */
  iova_pinned_range: boolean;
}

/** The cp views, the guest memory it translates from, and the rules of the kernel line. */
export interface Cp {
  readonly v: ChannelProgramView;
  readonly ch_iova: readonly Field[];
  readonly ch_ccws: readonly Field[];
  readonly ch_len: readonly Field[];
  readonly pa_iova: FieldTable;
  readonly pa_tag: FieldTable;
  readonly gm: GuestMemoryView;
  readonly rules: Readonly<CpRules>;
}

/** The element views of a `words` array, each its own object for the hook. */
function fields(k: Words, n: number): Field[] {
  return Array.from({ length: n }, (_, j) => k.at(j));
}

/**
 * One Field per word of a long `words` array, made when first used: a device's 2 x 1024 pin
 * slots would otherwise cost every thread thousands of objects per device at bind time.
 */
export class FieldTable {
  private readonly made: (Field | undefined)[] = [];
  constructor(
    private readonly k: Words,
    readonly length: number,
  ) {}
  at(j: number): Field {
    if (!Number.isInteger(j) || j < 0 || j >= this.length) throw new RangeError(`cp: index ${j} out of range`);
    return (this.made[j] ??= this.k.at(j));
  }
}

export function bind_cp(buf: SharedBuf, base: number, gm: GuestMemoryView, rules: Readonly<CpRules>): Cp {
  const v = bind(ChannelProgram, buf, base);
  return {
    v,
    ch_iova: fields(v.ch_iova, CP_MAX_CHAINS),
    ch_ccws: fields(v.ch_ccws, CP_MAX_CHAINS),
    ch_len: fields(v.ch_len, CP_MAX_CHAINS),
    pa_iova: new FieldTable(v.pa_iova, CP_MAX_PINNED),
    pa_tag: new FieldTable(v.pa_tag, CP_MAX_PINNED),
    gm,
    rules,
  };
}

function at<T>(a: readonly T[], i: number): T {
  const x = a[i];
  if (x === undefined) throw new RangeError(`cp: index ${i} out of range`);
  return x;
}

const inc = (f: Field, n: number, site: string): void => f.set(f.get(site) + n, site);
// I7's counters: a marked read and a marked store, the two events the plain fields made, so a
// controlled schedule keeps its steps. Two racing adds may lose one; I7 fires on any non-zero.
const ghost_add = (w: AtomicT, n: number, site: string): void => atomic_set(w, atomic_read(w, site) + n, site);

// ---- chain objects: struct ccwchain with its ch_ccw and ch_pa arrays ----
// v4.12 … v6.1 kzalloc a chain and both arrays in one block; the later lines kcalloc the arrays
// apart. ccwchain_free kfree()s them together, so they are one object here: born in
// ccwchain_alloc, dead after ccwchain_free. The chain data stays in the position slots above (the
// model's); ch_obj says which object a slot belongs to and keeps naming it after the free, so a
// walker that reads the slot of a freed chain is a use-after-free (src/kernel/lifetime.ts) naming
// the freeing and the using call site. The walk itself goes on with the stale slot, as before.

/** struct ccwchain *: generation << 8 | pool index + 1; 0 is NULL. */
function chain_obj(cp: Cp, e: number): Lifetime {
  return { ref: cp.v.ch_life.sub(((e & 0xff) - 1) * KREF_WORDS, Kref), what: 'ccwchain' };
}
// the model's own bookkeeping of which object owns a slot: invisible to detectors and scheduler
const obj_at = (cp: Cp, c: number): number => peek(cp.v.ch_obj.at(c));
const set_obj_at = (cp: Cp, c: number, e: number): void => poke(cp.v.ch_obj.at(c), e);

/** ccwchain_alloc's allocation: a new chain object owns position c. */
function chain_alloc(cp: Cp, c: number): void {
  const cur = cp.v.ch_cursor;
  const from = peek(cur);
  let k = from;
  for (let j = 0; j < CHAIN_POOL; j++) {
    const x = (from + j) % CHAIN_POOL;
    if (kref_read(chain_obj(cp, x + 1).ref) === 0) {
      k = x;
      break;
    }
  }
  // None free: every object is a leaked chain (I7 fired for each); the model's pool reuses one.
  poke(cur, (k + 1) % CHAIN_POOL);
  set_obj_at(cp, c, (kref_init(chain_obj(cp, k + 1).ref) << 8) | (k + 1));
}

/** After an access to position c's chain: false (reported) if its object is freed. */
function chain_used(cp: Cp, c: number, site: string, how = 'read of'): boolean {
  const e = obj_at(cp, c);
  return e === 0 || obj_use(chain_obj(cp, e), e >>> 8, site, how);
}

/** ccwchain_free's kfree of position c's object: false (reported) if it was freed already. */
function chain_free(cp: Cp, c: number, site: string): boolean {
  const e = obj_at(cp, c);
  if (e === 0) return true;
  const live = obj_alive(chain_obj(cp, e).ref, e >>> 8);
  obj_free(chain_obj(cp, e), e >>> 8, site);
  return live;
}

/**
 * May an accessor walk ccwchain_list? With the flag, only an initialised cp. B walks whatever is
 * there; before the first cp_init that is a zeroed list head (I20): WARN and treat it as empty.
 */
function cp_list_usable(cp: Cp, site: string): boolean {
  if (cp.rules.has_initialized_flag) return cp.v.initialized.get(site) !== 0;
  if (cp.v.list_valid.get(site) !== 0) return true;
  WARN(Warn.driver, cp.v.list_valid.id, `I20: ${site} walks ccwchain_list before any cp_init`);
  return false;
}

const ccw_at = (cp: Cp, c: number, idx: number, site: string): Ccw => ccw_decode(cp.v.ch_ccw.read(c * CHAIN_BYTES + idx * CCW_SIZE, CCW_SIZE, site));

/** Is `cda` inside chain c: from its head to the start of its last CCW (is_cpa_within_range). */
function in_chain(cp: Cp, c: number, cda: number, site: string): boolean {
  const head = at(cp.ch_iova, c).get(site);
  const len = at(cp.ch_ccws, c).get(site);
  chain_used(cp, c, site);
  return cda >= head && cda <= head + (len - 1) * CCW_SIZE;
}

function tic_target_chain(cp: Cp, cda: number, site: string): number {
  const n = cp.v.nchains.get(site);
  for (let c = 0; c < n; c++) if (in_chain(cp, c, cda, site)) return c;
  return -1;
}

/**
 * Count the CCWs of the chain at `cda`: up to and including the first without CC or CD.
 * B reads CCW by CCW; v5.3+ copies 2 KiB into guest_cp at once. The model reads CCW by CCW in
 * every line, so a fault after a chain's end never fails cp_init [simplification].
 */
function ccwchain_calc_length(cp: Cp, cda: number): Uint8Array | number {
  const site = 'ccwchain_calc_length';
  const out = new Uint8Array(CHAIN_BYTES);
  for (let cnt = 0; cnt < CCWCHAIN_LEN_MAX; cnt++) {
    const b = vfio_dma_rw(cp.gm, cda + cnt * CCW_SIZE, CCW_SIZE, site);
    if (typeof b === 'number') return b;
    out.set(b, cnt * CCW_SIZE);
    if (!ccw_is_chain(ccw_decode(b))) return out.slice(0, (cnt + 1) * CCW_SIZE);
  }
  return -EINVAL;
}

/** ccwchain_free: unlink chain c (later chains move down one slot). */
function ccwchain_free(cp: Cp, c: number, site: string): void {
  const n = cp.v.nchains.get(site);
  const freed = obj_at(cp, c);
  chain_free(cp, c, site);
  for (let k = c + 1; k < n; k++) {
    set_obj_at(cp, k - 1, obj_at(cp, k));
    at(cp.ch_iova, k - 1).set(at(cp.ch_iova, k).get(site), site);
    const len = at(cp.ch_ccws, k).get(site);
    at(cp.ch_ccws, k - 1).set(len, site);
    at(cp.ch_len, k - 1).set(at(cp.ch_len, k).get(site), site);
    cp.v.ch_ccw.copy_from(cp.v.ch_ccw, site, len * CCW_SIZE, (k - 1) * CHAIN_BYTES, k * CHAIN_BYTES);
  }
  // the vacated slot names the freed chain: a walker that still reads it uses freed memory
  if (n > 0) set_obj_at(cp, n - 1, freed);
  cp.v.nchains.set(n - 1, site);
}

/** Follow the TICs of chain c into new chains (a TIC into an existing chain is a loop: fine). */
function ccwchain_loop_tic(cp: Cp, c: number): number {
  const site = 'ccwchain_loop_tic';
  const len = at(cp.ch_ccws, c).get(site);
  let ok = chain_used(cp, c, site);
  for (let i = 0; i < len; i++) {
    const ccw = ccw_at(cp, c, i, site);
    ok = ok && chain_used(cp, c, site);
    if (!ccw_is_tic(ccw)) continue;
    if (tic_target_chain(cp, ccw.cda, site) >= 0) continue;
    const ret = ccwchain_handle_ccw(cp, ccw.cda);
    if (ret !== 0) return ret;
  }
  return 0;
}

/** Build the chain at `cda` and, depth first, the chains its TICs lead to. A bad TIC target is unmapped: -EINVAL. */
function ccwchain_handle_ccw(cp: Cp, cda: number): number {
  const site = 'ccwchain_handle_ccw';
  const ccws = ccwchain_calc_length(cp, cda);
  if (typeof ccws === 'number') return ccws;
  const c = cp.v.nchains.get(site);
  if (c >= CP_MAX_CHAINS || should_fail('cp_alloc')) return -ENOMEM; // ccwchain_alloc
  chain_alloc(cp, c);
  const len = ccws.length / CCW_SIZE;
  cp.v.ch_ccw.write(c * CHAIN_BYTES, ccws, site);
  at(cp.ch_iova, c).set(cda, site);
  at(cp.ch_ccws, c).set(len, site);
  at(cp.ch_len, c).set(len, site);
  cp.v.nchains.set(c + 1, site);
  const ret = ccwchain_loop_tic(cp, c);
  // M-C6: the failed chain frees itself. Chains its TICs built before the failure stay on the
  // list [inferred: the error path frees only that chain]; cp_init then counts them unreachable.
  if (ret !== 0 && cp.rules.init_error_path === 'free_failed_chain') ccwchain_free(cp, c, site);
  return ret;
}

/**
 * Unpin every page of the translated CCWs (< ch_len) and drop all chains. cp_free's body; in B
 * also cp_init's error path (cp_unpin_free).
 */
function cp_unpin_free(cp: Cp, site: string): void {
  const v = cp.v;
  if (cp.rules.has_initialized_flag) v.initialized.set(0, site);
  const n = v.nchains.get(site);
  const npinned = v.pinned_pages.get(site);
  let stranded = 0;
  // KASAN reports the first bad access of a walk: one report per cp_free
  let ok = true;
  for (let e = 0; e < npinned; e++) {
    const tag = cp.pa_tag.at(e).get(site);
    const c = tag >>> 16;
    if (c < n && (tag & 0xffff) < at(cp.ch_len, c).get(site)) {
      ok = ok && chain_used(cp, c, site);
      vfio_unpin_pages(cp.gm, cp.pa_iova.at(e).get(site), 1, site);
    } else stranded++; // free never looks at it; its chain is gone now
  }
  if (stranded > 0) ghost_add(v.unreachable_pinned_pages, stranded, site);
  // < v5.3: the unallocated page array still says pa_nr pages; unpinning them unpins pages
  // nobody pinned (I21). The spec puts this in "a later cp_free" [inferred: here, the next one].
  const stale = v.pa_nr_stale.get(site);
  if (stale > 0) {
    vfio_unpin_pages(cp.gm, 0, stale, site);
    v.pa_nr_stale.set(0, site);
  }
  v.pinned_pages.set(0, site);
  for (let c = 0; c < n; c++) {
    const e = obj_at(cp, c);
    if (!ok && e !== 0 && !obj_alive(chain_obj(cp, e).ref, e >>> 8)) continue;
    ok = chain_free(cp, c, site) && ok;
  }
  v.nchains.set(0, site);
}

/**
 * Build the channel program from the guest's ORB: 0, or -EBUSY (D+: already initialised),
 * -EOPNOTSUPP (no pfch, where required), -EINVAL (chain too long, bad TIC), -ENOMEM (too many
 * chains), or the guest-read error (-EFAULT).
 */
export function cp_init(cp: Cp, orb: Orb, site: string = SITES.cp_init): number {
  const v = cp.v;
  const r = cp.rules;
  // M-D2: "this is an error in the caller"
  if (r.init_busy_if_initialized && v.initialized.get(site) !== 0) return -EBUSY;
  // Without the rule the kernel logs a rate-limited line and goes on: a log, not a WARN_ON.
  if ((orb.flags & ORB_PFCH) === 0 && r.reject_no_pfch) return -EOPNOTSUPP;

  // INIT_LIST_HEAD: chains still on the list are cut off, and their pages stay pinned (I7).
  if (v.list_valid.get(site) !== 0) {
    const n = v.nchains.get(site);
    if (n > 0) {
      ghost_add(v.unreachable_chains, n, site);
      ghost_add(v.unreachable_pinned_pages, v.pinned_pages.get(site), site);
      v.pinned_pages.set(0, site);
      v.nchains.set(0, site);
    }
  }
  v.list_valid.set(1, site);
  v.orb.write(0, orb_bytes(orb), site);

  const ret = ccwchain_handle_ccw(cp, orb.cpa);
  if (ret !== 0) {
    if (r.init_error_path === 'unpin_free_all') cp_unpin_free(cp, site);
    else if (r.init_error_path === 'cp_free_noop') cp_free(cp);
    // Left on the list of a cp that is not initialised: cp_free returns early and the next
    // cp_init drops the list head, so nothing ever frees them.
    if (r.has_initialized_flag && v.initialized.get(site) === 0) {
      const n = v.nchains.get(site);
      if (n > 0) {
        ghost_add(v.unreachable_chains, n, site);
        v.nchains.set(0, site);
      }
    }
    return ret;
  }
  if (r.has_initialized_flag) v.initialized.set(1, site);
  inc(v.generation, 1, site);
  v.owner.set(current.id, site);
  return 0;
}

/** Record `pages` as pinned for CCW idx of chain c. */
function pa_record(cp: Cp, c: number, idx: number, pages: readonly number[], site: string): void {
  let e = cp.v.pinned_pages.get(site);
  for (const p of pages) {
    cp.pa_iova.at(e).set(p, site);
    cp.pa_tag.at(e).set((c << 16) | idx, site);
    e++;
  }
  cp.v.pinned_pages.set(e, site);
}

/** TIC: point it at the host copy of its target. */
function ccwchain_fetch_tic(cp: Cp, c: number, idx: number, ccw: Ccw): number {
  const site = 'ccwchain_fetch_tic';
  const k = tic_target_chain(cp, ccw.cda, site);
  if (k < 0) return -EFAULT;
  const host = cp_host_addr(cp.v.generation.get(site), k, 0) + (ccw.cda - at(cp.ch_iova, k).get(site));
  cp.v.ch_ccw.set_u32(c * CHAIN_BYTES + idx * CCW_SIZE + 4, host, site);
  return 0;
}

/**
 * A data-transferring CCW: pin the pages of its data (direct: the pages [cda, cda + count)
 * spans; IDA: the page of each IDAW of the IDAL at cda). The model leaves the data addresses
 * as guest iovas instead of building host IDALs.
 */
function ccwchain_fetch_ccw(cp: Cp, c: number, idx: number, ccw: Ccw): number {
  const site = 'ccwchain_fetch_ccw';
  let pages: number[];
  if (ccw_is_idal(ccw)) {
    const first = vfio_dma_rw(cp.gm, ccw.cda, IDAW_SIZE, site);
    if (typeof first === 'number') return first;
    const n = idal_nr_words(Number(new DataView(first.buffer).getBigUint64(0)), ccw.count);
    const idal = vfio_dma_rw(cp.gm, ccw.cda, n * IDAW_SIZE, site);
    if (typeof idal === 'number') return idal;
    const dv = new DataView(idal.buffer);
    pages = Array.from({ length: n }, (_, j) => {
      const a = Number(dv.getBigUint64(j * IDAW_SIZE));
      return a - (a % PAGE_SIZE);
    });
  } else {
    const first = ccw.cda - (ccw.cda % PAGE_SIZE);
    pages = Array.from({ length: idal_nr_words(ccw.cda, ccw.count) }, (_, j) => first + j * PAGE_SIZE);
  }

  // the page array (kcalloc of pa_nr entries)
  const fail = cp.v.pa_alloc_fail_iova.get(site);
  if ((fail !== 0 && fail === ccw.cda) || cp.v.pinned_pages.get(site) + pages.length > CP_MAX_PINNED || should_fail('cp_alloc')) {
    if (!cp.rules.pa_nr_zero_on_alloc_fail) inc(cp.v.pa_nr_stale, pages.length, site);
    return -ENOMEM;
  }

  if (!ccw_is_idal(ccw)) {
    const ret = vfio_pin_pages(cp.gm, at(pages, 0), pages.length, site);
    if (ret < 0) return ret;
  } else {
    for (let j = 0; j < pages.length; j++) {
      const ret = vfio_pin_pages(cp.gm, at(pages, j), 1, site);
      if (ret < 0) {
        // this CCW's own pins are undone here: free will not reach it (ch_len = idx)
        for (let u = 0; u < j; u++) vfio_unpin_pages(cp.gm, at(pages, u), 1, site);
        return ret;
      }
    }
  }
  pa_record(cp, c, idx, pages, site);
  return 0;
}

function ccwchain_fetch_one(cp: Cp, c: number, idx: number): number {
  const ccw = ccw_at(cp, c, idx, 'ccwchain_fetch_one');
  if (ccw_is_tic(ccw)) return ccwchain_fetch_tic(cp, c, idx, ccw);
  if (!ccw_does_data_transfer(ccw)) return 0;
  return ccwchain_fetch_ccw(cp, c, idx, ccw);
}

/**
 * Translate every chain and pin its data pages. On failure at CCW idx of a chain, that chain's
 * ch_len becomes idx and later chains' 0, so that cp_free touches only what was translated;
 * the caller then calls cp_free.
 */
export function cp_prefetch(cp: Cp): number {
  const site = 'cp_prefetch';
  if (!cp_list_usable(cp, site)) return cp.rules.has_initialized_flag ? -EINVAL : 0;
  const n = cp.v.nchains.get(site);
  let ok = true;
  for (let c = 0; c < n; c++) {
    const len = at(cp.ch_len, c).get(site);
    ok = ok && chain_used(cp, c, site);
    for (let idx = 0; idx < len; idx++) {
      const ret = ccwchain_fetch_one(cp, c, idx);
      ok = ok && chain_used(cp, c, 'ccwchain_fetch_one', 'access to');
      if (ret === 0) continue;
      at(cp.ch_len, c).set(idx, site);
      for (let k = c + 1; k < n; k++) at(cp.ch_len, k).set(0, site);
      return ret;
    }
  }
  return 0;
}

/** v5.2+: a no-op unless initialised; then clear the flag and free. B: unconditional. */
export function cp_free(cp: Cp): void {
  const site = SITES.cp_free;
  if (!cp_list_usable(cp, site)) return;
  cp_unpin_free(cp, site);
}

/**
 * The ORB the driver issues: intparm replaced, format-1 CCWs (the guest's are converted),
 * c64, the subchannel's lpm if the guest gave none, cpa = the first translated chain. Older
 * lines also force the key to PAGE_DEFAULT_KEY (0) and newer ones set i2k for format-1
 * IDAWs; the model does neither (its IDAWs are format 2, keys are not modelled).
 */
export function cp_get_orb(cp: Cp, intparm: number, lpm: number): Orb | null {
  const site = 'cp_get_orb';
  if (!cp_list_usable(cp, site)) return null;
  const v = cp.v;
  let flags = (v.orb.get_u32(4, site) | ORB_FMT | ORB_C64) >>> 0;
  if (orb_lpm(flags) === 0) flags = orb_with_lpm(flags, lpm);
  // B on an empty list takes the list head itself as a chain: garbage; the model says 0.
  const cpa = v.nchains.get(site) > 0 ? cp_host_addr(v.generation.get(site), 0, 0) : 0;
  // cpa = the first chain's ch_ccw: a read of that chain
  if (cpa !== 0) chain_used(cp, 0, site);
  const orb: Orb = { intparm: intparm >>> 0, flags, cpa };
  v.orb.write(0, orb_bytes(orb), site);
  return orb;
}

/**
 * If scsw.cpa points into a translated chain (head … last CCW; past_end rule: one CCW further,
 * where the channel leaves it after the last CCW), rewrite it to the guest address. True when
 * the cp was walked (v5.2+: initialised), and the kernel then stores scsw.cpa back.
 */
export function cp_update_scsw(cp: Cp, scsw: Scsw): boolean {
  const site = 'cp_update_scsw';
  if (!cp_list_usable(cp, site)) return false;
  const gen = cp.v.generation.get(site);
  const n = cp.v.nchains.get(site);
  let cpa = scsw.cpa >>> 0;
  let ok = true;
  for (let c = 0; c < n; c++) {
    const head = cp_host_addr(gen, c, 0);
    const len = at(cp.ch_len, c).get(site) + (cp.rules.update_scsw_past_end ? 1 : 0);
    ok = ok && chain_used(cp, c, site);
    if (cpa >= head && cpa <= head + (len - 1) * CCW_SIZE) {
      cpa = (at(cp.ch_iova, c).get(site) + (cpa - head)) >>> 0;
      if (ok) chain_used(cp, c, site);
      break;
    }
  }
  // "scsw->cmd.cpa = cpa;" after the walk, matched or not (v4.12 … v6.3 cp_update_scsw): the
  // caller stores it into the IRB whenever the list was walked.
  scsw.cpa = cpa;
  return true;
}

/** Visit the pinned pages cp_free would unpin (translated CCWs of listed chains). */
function for_each_pinned(cp: Cp, site: string, fn: (iova: number) => boolean): boolean {
  const n = cp.v.nchains.get(site);
  const npinned = cp.v.pinned_pages.get(site);
  let ok = true;
  for (let e = 0; e < npinned; e++) {
    const tag = cp.pa_tag.at(e).get(site);
    const c = tag >>> 16;
    if (c >= n || (tag & 0xffff) >= at(cp.ch_len, c).get(site)) continue;
    const iova = cp.pa_iova.at(e).get(site);
    ok = ok && chain_used(cp, c, site);
    if (fn(iova)) return true;
  }
  return false;
}

/**
 * Does the cp hold a page the DMA unmap of [iova, iova + length) takes away? Before v6.0 only a
 * page starting exactly at iova counts (length is ignored); v6.0+ any page in the range.
 */
export function cp_iova_pinned(cp: Cp, iova: number, length: number): boolean {
  const site = 'cp_iova_pinned';
  if (!cp_list_usable(cp, site)) return false;
  if (!cp.rules.iova_pinned_range) return for_each_pinned(cp, site, (p) => p === iova);
  const first = Math.floor(iova / PAGE_SIZE);
  const last = Math.floor((iova + length - 1) / PAGE_SIZE);
  return for_each_pinned(cp, site, (p) => p / PAGE_SIZE >= first && p / PAGE_SIZE <= last);
}

/** For oracles (I14, I21): every page the cp records as pinned, whatever the rules. */
export function cp_pinned_iovas(cp: Cp, site = 'oracle'): number[] {
  const n = cp.v.pinned_pages.get(site);
  return Array.from({ length: n }, (_, e) => cp.pa_iova.at(e).get(site));
}
