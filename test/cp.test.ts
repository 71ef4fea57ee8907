import { beforeAll, describe, expect, it } from 'vitest';
import {
  ChannelProgram,
  bind_cp,
  cp_free,
  cp_get_orb,
  cp_host_addr,
  cp_init,
  cp_iova_pinned,
  cp_pinned_iovas,
  cp_prefetch,
  cp_update_scsw,
  type Cp,
  type CpRules,
} from '../src/driver/cp.ts';
import { CP_RULES_B, CP_RULES_C52, CP_RULES_C53, CP_RULES_C53_DEV, CP_RULES_D, CP_RULES_G } from './helpers/cp_rules.ts';
import { ActorKind, H, alloc_global, allocBuf, atomic_read, read_warnings, register_hook, set_current, type AtomicT, type SharedBuf } from '../src/kernel/index.ts';
import { CCW_CMD, CCW_FLAG, ccw, ccw_chain, ccw_decode, idal_encode, type Ccw } from '../src/uapi/ccw.ts';
import { EBUSY, EFAULT, EINVAL, ENOMEM, EOPNOTSUPP } from '../src/uapi/errno.ts';
import { ORB_C64, ORB_FMT, ORB_PFCH, orb_lpm, orb_with_lpm, type Orb } from '../src/uapi/orb.ts';
import { scsw_word0, type Scsw } from '../src/uapi/scsw.ts';
import { GuestMemory, bind_guest, guest_write, type GuestMemoryView } from '../src/vfio/guest.ts';

const S = 'test';
let g: SharedBuf;
beforeAll(() => {
  g = alloc_global();
  set_current(g, 3, ActorKind.test, 't');
});

interface Rig {
  gm: GuestMemoryView;
  cp: Cp;
  pinned: () => number;
  unpinned: () => number;
}

function rig(rules: Readonly<CpRules>): Rig {
  const buf = allocBuf(1, GuestMemory.words + ChannelProgram.words);
  const gm = bind_guest(buf, 0);
  const cp = bind_cp(buf, GuestMemory.words, gm, rules);
  return { gm, cp, pinned: () => atomic_read(gm.pages_pinned_total, S), unpinned: () => atomic_read(gm.pages_unpinned_total, S) };
}

// WARN records of one text count repeats in place: count occurrences, not records.
const i21_seen = (): number => read_warnings(g).records.filter((w) => w.msg.startsWith('I21:')).reduce((n, w) => n + w.count, 0);
const orb = (cpa: number, flags = ORB_PFCH): Orb => ({ intparm: 0xdeadbeef, flags, cpa });
const lay = (r: Rig, iova: number, ccws: Ccw[], chain = true): void => guest_write(r.gm, iova, ccw_chain(ccws, { chain }));
const get = (r: Rig, f: keyof Rig['cp']['v']): number => {
  const w = r.cp.v[f];
  // I7's counters are atomic_t (a marked access); every other word is a plain field
  return 'get' in w ? (w as { get(site: string): number }).get(S) : atomic_read(w as AtomicT, S);
};
const chain_len = (r: Rig, c: number): number => r.cp.ch_len[c]!.get(S);
const scsw = (cpa: number): Scsw => ({ w0: scsw_word0({ fctl: 4, stctl: 7 }), cpa, dstat: 0x0c, cstat: 0, count: 0 });

/** A DASD-like read: define extent and locate record on page 0x4000, a read of two pages at 0x5000. */
function lay_read(r: Rig, at = 0x1000): void {
  lay(r, at, [
    ccw(CCW_CMD.DEFINE_EXTENT, 0, 16, 0x4000),
    ccw(CCW_CMD.LOCATE_RECORD, 0, 16, 0x4010),
    ccw(CCW_CMD.READ_MT, 0, 0x2000, 0x5000),
    ccw(CCW_CMD.NOP, 0, 0, 0),
  ]);
}

describe('cp: init / prefetch / free', () => {
  it('round trip pins then unpins every page (I21 balances), with direct and IDA data', () => {
    const r = rig(CP_RULES_G);
    lay(r, 0x1000, [
      ccw(CCW_CMD.DEFINE_EXTENT, 0, 16, 0x4000),
      ccw(CCW_CMD.READ_MT, 0, 0x2000, 0x5000),
      ccw(CCW_CMD.READ_MT, CCW_FLAG.IDA, 0x1000, 0x3000),
      ccw(CCW_CMD.NOP, 0, 0, 0),
    ]);
    guest_write(r.gm, 0x3000, idal_encode([0x7800, 0x8000]));
    expect(cp_init(r.cp, orb(0x1000))).toBe(0);
    expect([get(r, 'initialized'), get(r, 'generation'), get(r, 'owner'), get(r, 'nchains'), chain_len(r, 0)]).toEqual([1, 1, 3, 1, 4]);
    expect(get(r, 'pinned_pages')).toBe(0);
    expect(cp_prefetch(r.cp)).toBe(0);
    expect(cp_pinned_iovas(r.cp).sort((a, b) => a - b)).toEqual([0x4000, 0x5000, 0x6000, 0x7000, 0x8000]);
    expect(get(r, 'pinned_pages')).toBe(5);
    expect(r.pinned()).toBe(5);
    cp_free(r.cp);
    expect([get(r, 'initialized'), get(r, 'nchains'), get(r, 'pinned_pages')]).toEqual([0, 0, 0]);
    expect(r.unpinned()).toBe(5);
    cp_free(r.cp); // a second free is a no-op
    expect(r.unpinned()).toBe(5);
    expect(cp_prefetch(r.cp)).toBe(-EINVAL); // not initialised
  });

  it('a chain of 256 CCWs is accepted, 257 without an end is -EINVAL', () => {
    const r = rig(CP_RULES_G);
    lay(r, 0x1000, Array.from({ length: 256 }, () => ccw(CCW_CMD.NOP, 0, 0, 0)));
    expect(cp_init(r.cp, orb(0x1000))).toBe(0);
    expect(chain_len(r, 0)).toBe(256);
    cp_free(r.cp);
    lay(r, 0x1000, Array.from({ length: 257 }, () => ccw(CCW_CMD.NOP, CCW_FLAG.CC, 0, 0)), false);
    expect(cp_init(r.cp, orb(0x1000))).toBe(-EINVAL);
    expect([get(r, 'initialized'), get(r, 'nchains'), get(r, 'generation')]).toEqual([0, 0, 1]);
  });

  it('a guest-memory fault reading the chain gives -EFAULT, an unmapped cpa -EINVAL', () => {
    const r = rig(CP_RULES_G);
    lay_read(r);
    r.gm.fault_start.set(0x1008, S);
    r.gm.fault_len.set(1, S);
    expect(cp_init(r.cp, orb(0x1000))).toBe(-EFAULT);
    expect([get(r, 'initialized'), get(r, 'nchains')]).toEqual([0, 0]);
    r.gm.fault_len.set(0, S);
    expect(cp_init(r.cp, orb(0x20000))).toBe(-EINVAL);
    expect(cp_init(r.cp, orb(0x1000))).toBe(0);
  });

  it('a pin failure cuts ch_len at the failed CCW and zeroes later chains; free leaves 0 pinned', () => {
    const r = rig(CP_RULES_G);
    lay(r, 0x1000, [ccw(CCW_CMD.WRITE, 0, 16, 0x4000), ccw(CCW_CMD.WRITE, 0, 16, 0x5000), ccw(CCW_CMD.WRITE, 0, 16, 0x6000), ccw(CCW_CMD.TIC, 0, 0, 0x2000)]);
    lay(r, 0x2000, [ccw(CCW_CMD.WRITE, 0, 16, 0x7000)]);
    r.gm.pin_fail_iova.set(0x6000, S);
    expect(cp_init(r.cp, orb(0x1000))).toBe(0);
    expect(get(r, 'nchains')).toBe(2);
    expect(cp_prefetch(r.cp)).toBe(-EFAULT);
    expect([chain_len(r, 0), chain_len(r, 1)]).toEqual([2, 0]);
    expect(get(r, 'pinned_pages')).toBe(2);
    cp_free(r.cp);
    expect([r.pinned(), r.unpinned(), get(r, 'pinned_pages'), get(r, 'unreachable_pinned_pages')]).toEqual([2, 2, 0, 0]);
  });

  it('an IDAW whose page cannot be pinned undoes the CCW\'s own pins', () => {
    const r = rig(CP_RULES_G);
    lay(r, 0x1000, [ccw(CCW_CMD.READ_MT, CCW_FLAG.IDA, 0x2000, 0x3000)]);
    guest_write(r.gm, 0x3000, idal_encode([0x7000, 0x8000]));
    r.gm.pin_fail_iova.set(0x8000, S);
    expect(cp_init(r.cp, orb(0x1000))).toBe(0);
    expect(cp_prefetch(r.cp)).toBe(-EFAULT);
    cp_free(r.cp);
    expect([r.pinned(), r.unpinned()]).toEqual([1, 1]);
  });
});

describe('cp: TICs', () => {
  it('a TIC to a new address starts a second chain; a TIC into an existing chain is a loop', () => {
    const r = rig(CP_RULES_G);
    lay(r, 0x1000, [ccw(CCW_CMD.SENSE_ID, CCW_FLAG.SLI, 8, 0x4000), ccw(CCW_CMD.TIC, 0, 0, 0x2000)]);
    lay(r, 0x2000, [ccw(CCW_CMD.READ_MT, 0, 16, 0x5000), ccw(CCW_CMD.TIC, 0, 0, 0x1008)]);
    expect(cp_init(r.cp, orb(0x1000))).toBe(0);
    expect(get(r, 'nchains')).toBe(2);
    expect([r.cp.ch_iova[0]!.get(S), r.cp.ch_iova[1]!.get(S)]).toEqual([0x1000, 0x2000]);
    expect(cp_prefetch(r.cp)).toBe(0);
    // translated TICs point at the host copies of their targets
    const gen = get(r, 'generation');
    expect(ccw_decode(r.cp.v.ch_ccw.read(8, 8, S)).cda).toBe(cp_host_addr(gen, 1, 0));
    expect(ccw_decode(r.cp.v.ch_ccw.read(2048 + 8, 8, S)).cda).toBe(cp_host_addr(gen, 0, 1));
    cp_free(r.cp);
    expect(r.pinned()).toBe(r.unpinned());
  });

  it('a TIC back into its own chain adds no chain; a TIC to an unmapped address is -EINVAL', () => {
    const r = rig(CP_RULES_G);
    lay(r, 0x1000, [ccw(CCW_CMD.NOP, CCW_FLAG.CC, 0, 0), ccw(CCW_CMD.TIC, 0, 0, 0x1000)], false);
    expect(cp_init(r.cp, orb(0x1000))).toBe(0);
    expect(get(r, 'nchains')).toBe(1);
    cp_free(r.cp);
    lay(r, 0x1000, [ccw(CCW_CMD.NOP, CCW_FLAG.CC, 0, 0), ccw(CCW_CMD.TIC, 0, 0, 0x30000)], false);
    expect(cp_init(r.cp, orb(0x1000))).toBe(-EINVAL);
    expect([get(r, 'initialized'), get(r, 'nchains'), get(r, 'unreachable_chains')]).toEqual([0, 0, 0]);
  });

  it('more than 8 chains is -ENOMEM', () => {
    const r = rig(CP_RULES_G);
    for (let i = 0; i < 9; i++) lay(r, 0x1000 + i * 0x100, [ccw(CCW_CMD.TIC, 0, 0, 0x1000 + (i + 1) * 0x100)]);
    lay(r, 0x1000 + 9 * 0x100, [ccw(CCW_CMD.NOP, 0, 0, 0)]);
    expect(cp_init(r.cp, orb(0x1000))).toBe(-ENOMEM);
    expect(get(r, 'nchains')).toBe(0);
  });
});

describe('cp: get_orb, update_scsw, iova_pinned', () => {
  it('cp_get_orb replaces intparm, sets fmt and c64, fills lpm only when the guest gave none, points at the host chain', () => {
    const r = rig(CP_RULES_G);
    lay_read(r);
    expect(cp_get_orb(r.cp, 1, 0x80)).toBeNull();
    expect(cp_init(r.cp, orb(0x1000))).toBe(0);
    const o = cp_get_orb(r.cp, 0x10001, 0x80)!;
    expect(o.intparm).toBe(0x10001);
    expect(o.flags & (ORB_FMT | ORB_C64 | ORB_PFCH)).toBe(ORB_FMT | ORB_C64 | ORB_PFCH);
    expect(orb_lpm(o.flags)).toBe(0x80);
    expect(o.cpa).toBe(cp_host_addr(1, 0, 0));
    cp_free(r.cp);
    expect(cp_init(r.cp, orb(0x1000, orb_with_lpm(ORB_PFCH, 0x40)))).toBe(0);
    expect(orb_lpm(cp_get_orb(r.cp, 1, 0x80)!.flags)).toBe(0x40);
    expect(cp_get_orb(r.cp, 1, 0x80)!.cpa).toBe(cp_host_addr(2, 0, 0));
  });

  it('cp_update_scsw maps a host address inside a chain to the guest address; past the end only on newer lines', () => {
    for (const [rules, past] of [[CP_RULES_G, true], [CP_RULES_C52, true], [CP_RULES_B, false]] as const) {
      const r = rig(rules);
      lay_read(r);
      expect(cp_init(r.cp, orb(0x1000))).toBe(0);
      expect(cp_prefetch(r.cp)).toBe(0);
      const inside = scsw(cp_host_addr(1, 0, 2));
      cp_update_scsw(r.cp, inside);
      expect(inside.cpa).toBe(0x1010);
      const end = scsw(cp_host_addr(1, 0, 4)); // just past the 4th CCW: where a completed chain leaves cpa
      cp_update_scsw(r.cp, end);
      expect(end.cpa).toBe(past ? 0x1020 : cp_host_addr(1, 0, 4));
      const stale = scsw(cp_host_addr(7, 0, 2)); // another generation
      cp_update_scsw(r.cp, stale);
      expect(stale.cpa).toBe(cp_host_addr(7, 0, 2));
      cp_free(r.cp);
      const after = scsw(cp_host_addr(1, 0, 2));
      cp_update_scsw(r.cp, after);
      expect(after.cpa).toBe(cp_host_addr(1, 0, 2));
    }
  });

  it('cp_iova_pinned: before v6.0 a page starting exactly at iova; v6.0+ any pinned page in the range', () => {
    const old = rig(CP_RULES_D);
    const cur = rig(CP_RULES_G);
    for (const r of [old, cur]) {
      lay_read(r);
      expect(cp_iova_pinned(r.cp, 0x5000, 0x1000)).toBe(false); // not initialised
      expect(cp_init(r.cp, orb(0x1000))).toBe(0);
      expect(cp_prefetch(r.cp)).toBe(0);
      expect(cp_iova_pinned(r.cp, 0x5000, 0x1000)).toBe(true);
      expect(cp_iova_pinned(r.cp, 0x9000, 0x1000)).toBe(false);
    }
    // unmapping 0x3000..0x5fff covers pinned pages 0x4000 and 0x5000, but starts at no pinned page
    expect(cp_iova_pinned(old.cp, 0x3000, 0x3000)).toBe(false);
    expect(cp_iova_pinned(cur.cp, 0x3000, 0x3000)).toBe(true);
    expect(cp_iova_pinned(cur.cp, 0x6000, 0x1000)).toBe(true);
    expect(cp_iova_pinned(cur.cp, 0x7000, 0x1000)).toBe(false);
  });
});

describe('cp: version rules', () => {
  it('B: a second cp_init cuts the pinned chain off the list (I7) and its pages are never unpinned', () => {
    const r = rig(CP_RULES_B);
    lay_read(r);
    expect(cp_init(r.cp, orb(0x1000))).toBe(0);
    expect(cp_prefetch(r.cp)).toBe(0);
    expect(cp_init(r.cp, orb(0x1000))).toBe(0);
    expect([get(r, 'unreachable_chains'), get(r, 'unreachable_pinned_pages'), get(r, 'pinned_pages'), get(r, 'generation')]).toEqual([1, 4, 0, 2]);
    cp_free(r.cp);
    expect([r.pinned(), r.unpinned()]).toEqual([4, 0]);
  });

  it("I7's counters are the model's: their updates are marked accesses, never a plain read or write the race detector could pair", () => {
    const r = rig(CP_RULES_B);
    lay_read(r);
    expect(cp_init(r.cp, orb(0x1000))).toBe(0);
    expect(cp_prefetch(r.cp)).toBe(0);
    const ids = new Set([r.cp.v.unreachable_chains.id, r.cp.v.unreachable_pinned_pages.id]);
    const kinds: number[] = [];
    const off = register_hook((k, o) => {
      if (ids.has(o)) kinds.push(k);
    });
    try {
      expect(cp_init(r.cp, orb(0x1000))).toBe(0);
    } finally {
      off();
    }
    expect(get(r, 'unreachable_chains')).toBe(1);
    expect(kinds).toContain(H.write_once);
    expect(kinds.every((k) => k === H.write_once || k === H.read_once)).toBe(true);
  });

  it('C52 (flag, no -EBUSY) leaks the same way; D returns -EBUSY and keeps the cp', () => {
    const c = rig(CP_RULES_C52);
    lay_read(c);
    expect(cp_init(c.cp, orb(0x1000))).toBe(0);
    expect(cp_prefetch(c.cp)).toBe(0);
    expect(cp_init(c.cp, orb(0x1000))).toBe(0);
    expect(get(c, 'unreachable_pinned_pages')).toBe(4);

    const d = rig(CP_RULES_D);
    lay_read(d);
    expect(cp_init(d.cp, orb(0x1000))).toBe(0);
    expect(cp_prefetch(d.cp)).toBe(0);
    expect(cp_init(d.cp, orb(0x1000))).toBe(-EBUSY);
    expect([get(d, 'generation'), get(d, 'nchains'), get(d, 'pinned_pages'), get(d, 'unreachable_chains'), get(d, 'unreachable_pinned_pages')]).toEqual([1, 1, 4, 0, 0]);
    cp_free(d.cp);
    expect(d.unpinned()).toBe(4);
  });

  it('an ORB without pfch: -EOPNOTSUPP up to the v5.3 line, accepted from D on', () => {
    for (const [rules, want] of [[CP_RULES_B, -EOPNOTSUPP], [CP_RULES_C52, -EOPNOTSUPP], [CP_RULES_C53, -EOPNOTSUPP], [CP_RULES_D, 0], [CP_RULES_G, 0]] as const) {
      const r = rig(rules);
      lay_read(r);
      expect(cp_init(r.cp, orb(0x1000, 0))).toBe(want);
      expect(get(r, 'list_valid')).toBe(want === 0 ? 1 : 0);
    }
  });

  it('B: cp_free before any cp_init walks a zeroed list head: WARN I20; the flag lines do not', () => {
    const before = read_warnings(g).count;
    cp_free(rig(CP_RULES_C52).cp);
    expect(read_warnings(g).count).toBe(before);
    const b = rig(CP_RULES_B);
    cp_free(b.cp);
    const w = read_warnings(g, before);
    expect(w.count).toBe(before + 1);
    expect(w.records[0]!.name).toBe('driver');
    expect(w.records[0]!.msg.startsWith('I20:')).toBe(true);
    expect(w.records[0]!.actor).toBe(3);
    expect([b.unpinned(), get(b, 'nchains')]).toEqual([0, 0]);
    cp_update_scsw(b.cp, scsw(0));
    expect(read_warnings(g).count).toBe(before + 2);
  });

  // chain A: TIC (with CC, so the chain goes on) to a good chain B, then a TIC to an unmapped address
  function lay_bad_second_tic(r: Rig): void {
    lay(r, 0x1000, [ccw(CCW_CMD.TIC, CCW_FLAG.CC, 0, 0x2000), ccw(CCW_CMD.TIC, 0, 0, 0x30000)], false);
    lay(r, 0x2000, [ccw(CCW_CMD.NOP, 0, 0, 0)]);
  }

  it('init error path: B frees everything, C53 frees the failed chain (its good sibling leaks), C53 dev frees nothing', () => {
    const cases: [Readonly<CpRules>, number][] = [[CP_RULES_B, 0], [CP_RULES_C52, 0], [CP_RULES_C53, 1], [CP_RULES_C53_DEV, 2], [CP_RULES_G, 1]];
    for (const [rules, leaked] of cases) {
      const r = rig(rules);
      lay_bad_second_tic(r);
      expect(cp_init(r.cp, orb(0x1000))).toBe(-EINVAL);
      expect([get(r, 'nchains'), get(r, 'unreachable_chains'), get(r, 'initialized'), get(r, 'generation')]).toEqual([0, leaked, 0, 0]);
    }
  });

  it('page-array allocation failure: before v5.3 the stale pa_nr is unpinned later (I21 broken); v5.3+ keeps the books', () => {
    for (const [rules, extra] of [[CP_RULES_B, 2], [CP_RULES_C52, 2], [CP_RULES_C53, 0], [CP_RULES_G, 0]] as const) {
      const r = rig(rules);
      lay(r, 0x1000, [ccw(CCW_CMD.WRITE, 0, 16, 0x4000), ccw(CCW_CMD.READ_MT, 0, 0x2000, 0x5000)]);
      r.cp.v.pa_alloc_fail_iova.set(0x5000, S);
      expect(cp_init(r.cp, orb(0x1000))).toBe(0);
      expect(cp_prefetch(r.cp)).toBe(-ENOMEM);
      const before = i21_seen();
      cp_free(r.cp);
      expect([r.pinned(), r.unpinned()]).toEqual([1, 1 + extra]);
      // online: each page unpinned with no pin left is named where it happens
      expect(i21_seen() - before).toBe(extra);
      if (extra > 0) expect(read_warnings(g).records.some((w) => /^I21: the page at iova 0x0 is unpinned at cp_free with no pin left/.test(w.msg))).toBe(true);
    }
  });

  it('I21 online: two cp_free passes over one channel program (the flag check raced) unpin every page twice', () => {
    const r = rig(CP_RULES_G);
    lay_read(r);
    expect(cp_init(r.cp, orb(0x1000))).toBe(0);
    expect(cp_prefetch(r.cp)).toBe(0);
    const before = i21_seen();
    const pinned = r.pinned();
    // Both callers passed `if (!cp->initialized) return;` before either cleared it: model the
    // second pass by re-arming the flag the first one cleared, with the pins still recorded.
    const saved = { n: get(r, 'nchains'), p: get(r, 'pinned_pages') };
    cp_free(r.cp);
    expect(i21_seen()).toBe(before);
    r.cp.v.initialized.set(1, S);
    r.cp.v.nchains.set(saved.n, S);
    r.cp.v.pinned_pages.set(saved.p, S);
    cp_free(r.cp);
    expect(r.unpinned()).toBe(2 * pinned);
    expect(i21_seen() - before).toBe(pinned);
  });
});
