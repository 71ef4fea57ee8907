// The machine model: condition codes, TSCH clearing and the interrupts of each function as the
// z/Architecture Principles of Operation gives them for each I/O instruction, scripted control, seeded decisions; then the engine on a
// real IRQ worker with instructions issued from other workers.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ActorKind, alloc_global, set_clock } from '../src/kernel/index.ts';
import {
  HwEngine, HwIrq, HwPathEvent, HwRc, HwStartEnd, csch, hsch, hw_accounting_errors, hw_post, hw_snapshot, hw_wait_ack, msch_disable,
  msch_enable, ssch, stsch, tsch, xsch, type HwCommand, type HwConfig, type HwDecision, type HwRunResult,
} from '../src/hw/index.ts';
import { ORB_ISIC } from '../src/uapi/orb.ts';
import {
  DEV_STAT_ATTENTION, DEV_STAT_CHN_END, DEV_STAT_DEV_END, DEV_STAT_UNIT_CHECK, SCHN_STAT_PCI, SCSW_ACTL_CLEAR_PEND, SCSW_ACTL_DEVACT,
  SCSW_ACTL_HALT_PEND, SCSW_ACTL_SCHACT, SCSW_ACTL_START_PEND, SCSW_FCTL_CLEAR_FUNC, SCSW_FCTL_HALT_FUNC, SCSW_FCTL_START_FUNC, SCSW_PNO,
  SCSW_STCTL_ALERT_STATUS, SCSW_STCTL_INTER_STATUS, SCSW_STCTL_PRIM_STATUS, SCSW_STCTL_SEC_STATUS, SCSW_STCTL_STATUS_PEND, SCSW_ZCC, scsw_actl,
  scsw_cc, scsw_fctl, scsw_is_final, scsw_is_solicited, scsw_read, scsw_stctl, type Scsw,
} from '../src/uapi/scsw.ts';
import { ActorPool, prog, unwrap } from '../src/runtime/pool.ts';
import { area_base, hw_area, hw_area_reset, tally, type HwTestViews } from './programs/hw-area.ts';
import { test_orb } from './programs/hw-programs.ts';

const PEND = SCSW_STCTL_STATUS_PEND;
const ACTIVE = SCSW_ACTL_SCHACT | SCSW_ACTL_DEVACT;
const ORB = test_orb(0x1000);

// ---- the machine on the main thread, on a virtual clock, the engine stepped by hand ----

let now = 0;
beforeAll(() => set_clock({ now_ms: () => now }));
afterAll(() => set_clock(null));

const FAST: Partial<HwConfig> = { start_begin_us: [10, 10], start_latency_us: [100, 100], halt_latency_us: [10, 10], clear_latency_us: [10, 10], p_isic: 0 };

interface M {
  v: HwTestViews;
  hw: HwTestViews['hw'];
  engine: HwEngine;
  /** IRBs taken by the host's interrupt entry (a bare tsch), in order */
  irbs: Scsw[];
  raw: Uint8Array[];
  sch_events: number;
  chp: { chpid: number; mask: number; event: number }[];
  /** advance the virtual clock by ms, running every event due on the way */
  run(ms: number): void;
  /** post a command and let the engine execute it; its rc */
  post(c: HwCommand): number;
}

function machine(config: Partial<HwConfig> = {}, seed = 1): M {
  const v = hw_area();
  hw_area_reset(v);
  const m: M = {
    v,
    hw: v.hw,
    engine: null as unknown as HwEngine,
    irbs: [],
    raw: [],
    sch_events: 0,
    chp: [],
    run(ms) {
      const target = now + ms;
      for (let k = 0; k < 100_000; k++) {
        const next = m.engine.settle();
        if (next > target) break;
        now = Math.max(now, next);
      }
      now = target;
      m.engine.settle();
    },
    post(c) {
      const seq = hw_post(v.hw, c);
      m.engine.settle();
      const rc = hw_wait_ack(v.hw, seq, 0);
      if (rc === null) throw new Error(`command ${c.op} not executed`);
      return rc;
    },
  };
  const host = {
    interrupt() {
      const irb = new Uint8Array(96);
      if (tsch(v.hw, irb) !== 0) return;
      m.raw.push(irb);
      m.irbs.push(scsw_read(new DataView(irb.buffer), 0));
    },
    sch_event: () => {
      m.sch_events++;
      return 0;
    },
    chp_event: (link: { chpid: number; mask: number }, event: number) => {
      m.chp.push({ ...link, event });
      return 0;
    },
  };
  m.engine = new HwEngine({ css: v.css, devs: [{ hw: v.hw, host }], seed, config: { ...FAST, ...config } });
  m.engine.settle();
  return m;
}

const enable = (m: M): void => expect(msch_enable(m.hw, 3, 0x10)).toBe(0);
const accounting = (m: M): string[] => hw_accounting_errors(hw_snapshot(m.hw));
const stsch_scsw = (m: M): Scsw => {
  const b = new Uint8Array(52);
  expect(stsch(m.hw, b)).toBe(0);
  return scsw_read(new DataView(b.buffer), 28);
};

beforeEach(() => {
  now = 0;
});

/** Subchannel states (idle, start pending, active, status pending, …), each built from a fresh machine with instructions and commands only. */
const STATES: Record<string, { cfg?: Partial<HwConfig>; build: (m: M) => void }> = {
  'idle, enabled': { build: enable },
  'idle, disabled': { build: () => undefined },
  gone: {
    build: (m) => {
      enable(m);
      expect(m.post({ op: 'gone' })).toBe(HwRc.done);
    },
  },
  'no usable path': {
    build: (m) => {
      enable(m);
      m.post({ op: 'path', event: HwPathEvent.offline, chpid: 0x40 });
    },
  },
  'start pending (not begun)': {
    build: (m) => {
      enable(m);
      m.post({ op: 'hold' });
      expect(ssch(m.hw, ORB)).toBe(0);
      m.run(1);
      expect(m.hw.get('actl')).toBe(SCSW_ACTL_START_PEND);
    },
  },
  'start active': {
    cfg: { hung: true },
    build: (m) => {
      enable(m);
      expect(ssch(m.hw, ORB)).toBe(0);
      m.run(1);
      expect(m.hw.get('actl')).toBe(ACTIVE);
    },
  },
  'intermediate status pending': {
    cfg: { hung: true },
    build: (m) => {
      enable(m);
      expect(ssch(m.hw, ORB)).toBe(0);
      m.run(1);
      m.post({ op: 'hold' });
      expect(m.post({ op: 'complete', kind: 'pci' })).toBe(HwRc.done);
      expect(m.hw.get('stctl')).toBe(SCSW_STCTL_INTER_STATUS | PEND);
    },
  },
  'final status pending': {
    build: (m) => {
      enable(m);
      m.post({ op: 'hold' });
      expect(ssch(m.hw, ORB)).toBe(0);
      expect(m.post({ op: 'complete', kind: 'final' })).toBe(HwRc.done);
      expect(m.hw.get('stctl')).toBe(SCSW_STCTL_PRIM_STATUS | SCSW_STCTL_SEC_STATUS | PEND);
    },
  },
  'halt pending (halts ignored)': {
    cfg: { hung: true, halt: 'ignore' },
    build: (m) => {
      enable(m);
      expect(ssch(m.hw, ORB)).toBe(0);
      m.run(1);
      expect(hsch(m.hw)).toBe(0);
      m.run(1000);
      expect(m.hw.get('actl') & SCSW_ACTL_HALT_PEND).not.toBe(0);
    },
  },
  'clear pending (clears ignored)': {
    cfg: { clear: 'ignore' },
    build: (m) => {
      enable(m);
      expect(csch(m.hw)).toBe(0);
      m.run(1000);
      expect(m.hw.get('actl')).toBe(SCSW_ACTL_CLEAR_PEND);
    },
  },
  'unsolicited status pending': {
    build: (m) => {
      enable(m);
      m.post({ op: 'hold' });
      expect(m.post({ op: 'unsolicited', dstat: DEV_STAT_ATTENTION })).toBe(HwRc.done);
    },
  },
};

type Instr = 'ssch' | 'hsch' | 'csch' | 'xsch' | 'msch' | 'tsch' | 'stsch';
const ISSUE: Record<Instr, (m: M) => number> = {
  ssch: (m) => ssch(m.hw, ORB),
  hsch: (m) => hsch(m.hw),
  csch: (m) => csch(m.hw),
  xsch: (m) => xsch(m.hw),
  msch: (m) => msch_disable(m.hw),
  tsch: (m) => tsch(m.hw, new Uint8Array(96)),
  stsch: (m) => stsch(m.hw, new Uint8Array(52)),
};

// Expected condition codes, from the architecture's table (msch = the host's disabling msch).
const CC: Record<keyof typeof STATES, Record<Instr, number>> = {
  'idle, enabled': { ssch: 0, hsch: 0, csch: 0, xsch: 2, msch: 0, tsch: 1, stsch: 0 },
  'idle, disabled': { ssch: 3, hsch: 3, csch: 3, xsch: 3, msch: 0, tsch: 1, stsch: 0 },
  gone: { ssch: 3, hsch: 3, csch: 3, xsch: 3, msch: 3, tsch: 3, stsch: 3 },
  'no usable path': { ssch: 3, hsch: 0, csch: 0, xsch: 2, msch: 0, tsch: 1, stsch: 0 },
  'start pending (not begun)': { ssch: 2, hsch: 0, csch: 0, xsch: 0, msch: 2, tsch: 1, stsch: 0 },
  'start active': { ssch: 2, hsch: 0, csch: 0, xsch: 2, msch: 2, tsch: 1, stsch: 0 },
  'intermediate status pending': { ssch: 1, hsch: 0, csch: 0, xsch: 1, msch: 1, tsch: 0, stsch: 0 },
  'final status pending': { ssch: 1, hsch: 1, csch: 0, xsch: 1, msch: 1, tsch: 0, stsch: 0 },
  'halt pending (halts ignored)': { ssch: 2, hsch: 2, csch: 0, xsch: 2, msch: 2, tsch: 1, stsch: 0 },
  'clear pending (clears ignored)': { ssch: 2, hsch: 2, csch: 0, xsch: 2, msch: 2, tsch: 1, stsch: 0 },
  'unsolicited status pending': { ssch: 1, hsch: 1, csch: 0, xsch: 1, msch: 1, tsch: 0, stsch: 0 },
};

describe('condition codes per instruction and state', () => {
  const rows = Object.entries(CC).flatMap(([state, ccs]) => Object.entries(ccs).map(([instr, cc]) => [state, instr as Instr, cc] as const));
  it.each(rows)('%s: %s gives cc %i', (state, instr, cc) => {
    const s = STATES[state]!;
    const m = machine(s.cfg);
    s.build(m);
    expect(ISSUE[instr](m)).toBe(cc);
    expect(accounting(m)).toEqual([]);
  });

  it('every instruction is counted, and a gone subchannel stores no SCHIB', () => {
    const m = machine();
    enable(m);
    m.post({ op: 'gone' });
    const before = hw_snapshot(m.hw).n_instr;
    const b = new Uint8Array(52).fill(0xee);
    expect(stsch(m.hw, b)).toBe(3);
    expect(ssch(m.hw, ORB)).toBe(3);
    expect(b[0]).toBe(0xee);
    expect(hw_snapshot(m.hw).n_instr.map((n, k) => n - (before[k] ?? 0))).toEqual([1, 0, 0, 0, 0, 1, 0]);
  });

  it('stsch stores the PMCW: ENA, ISC, devno, masks, CHPIDs; and the SCSW at 28', () => {
    const m = machine();
    expect(msch_enable(m.hw, 5, 0xcafe)).toBe(0);
    const b = new Uint8Array(52);
    expect(stsch(m.hw, b)).toBe(0);
    const dv = new DataView(b.buffer);
    expect(dv.getUint32(0)).toBe(0xcafe);
    expect(dv.getUint16(4) & 0x0080).toBe(0x0080);
    expect((dv.getUint16(4) >> 11) & 7).toBe(5);
    expect(dv.getUint16(6)).toBe(0x1234);
    expect([b[8], b[11], b[14], b[15], b[16]]).toEqual([0x80, 0x80, 0xff, 0x80, 0x40]);
    expect(ssch(m.hw, ORB)).toBe(0);
    expect(dv.getUint32(28)).toBe(0);
    expect(stsch(m.hw, b)).toBe(0);
    expect(scsw_fctl(dv.getUint32(28))).toBe(SCSW_FCTL_START_FUNC);
    expect(scsw_actl(dv.getUint32(28))).toBe(SCSW_ACTL_START_PEND);
    expect(b[10]).toBe(0); // lpum: not begun yet
    m.run(1);
    expect(stsch(m.hw, b)).toBe(0);
    expect(b[10]).toBe(0x80);
  });

  it('fault injection: set_cc makes the next ssch answer the given cc without effect', () => {
    const m = machine();
    enable(m);
    m.post({ op: 'set_cc', instr: 'ssch', cc: 2, count: 2 });
    expect([ssch(m.hw, ORB), ssch(m.hw, ORB)]).toEqual([2, 2]);
    expect(m.hw.get('start_seq')).toBe(0);
    expect(ssch(m.hw, ORB)).toBe(0);
  });
});

describe('TSCH clearing', () => {
  it('intermediate status: SC and Z reset, FC and AC stay; the start goes on to its final', () => {
    const m = machine({ hung: true });
    enable(m);
    expect(ssch(m.hw, ORB)).toBe(0);
    m.run(1);
    m.post({ op: 'hold' });
    m.post({ op: 'complete', kind: 'pci' });
    const irb = new Uint8Array(96);
    expect(tsch(m.hw, irb)).toBe(0);
    const s = scsw_read(new DataView(irb.buffer), 0);
    expect(scsw_stctl(s.w0)).toBe(SCSW_STCTL_INTER_STATUS | PEND);
    expect(s.cstat).toBe(SCHN_STAT_PCI);
    expect(scsw_is_final(s.w0)).toBe(false);
    const after = stsch_scsw(m);
    expect([scsw_fctl(after.w0), scsw_actl(after.w0), scsw_stctl(after.w0)]).toEqual([SCSW_FCTL_START_FUNC, ACTIVE, 0]);
    expect(tsch(m.hw, irb)).toBe(1);
    expect(ssch(m.hw, ORB)).toBe(2);
  });

  it('final status: FC, AC and SC reset: idle, and a new start is accepted', () => {
    const m = machine();
    enable(m);
    m.post({ op: 'hold' });
    expect(ssch(m.hw, ORB)).toBe(0);
    m.post({ op: 'complete', kind: 'final' });
    const irb = new Uint8Array(96);
    expect(tsch(m.hw, irb)).toBe(0);
    const after = stsch_scsw(m);
    expect([scsw_fctl(after.w0), scsw_actl(after.w0), scsw_stctl(after.w0)]).toEqual([0, 0, 0]);
    expect(m.hw.get('start_cpa')).toBe(0);
    expect(ssch(m.hw, ORB)).toBe(0);
  });

  it('the initial-status intermediate carries Z; tsch resets it', () => {
    const m = machine({ p_isic: 1 });
    enable(m);
    m.post({ op: 'hold' });
    expect(ssch(m.hw, { ...ORB, flags: ORB.flags | ORB_ISIC })).toBe(0);
    m.post({ op: 'release' });
    m.run(0.05);
    expect(m.irbs).toHaveLength(1);
    expect(m.irbs[0]!.w0 & SCSW_ZCC).not.toBe(0);
    expect(scsw_stctl(m.irbs[0]!.w0)).toBe(SCSW_STCTL_INTER_STATUS | PEND);
    expect(stsch_scsw(m).w0 & SCSW_ZCC).toBe(0);
    m.run(1);
    expect(m.irbs).toHaveLength(2);
    expect(scsw_is_final(m.irbs[1]!.w0)).toBe(true);
  });
});

describe('interrupts of each function', () => {
  it('start: one final interrupt after the latency, FC start, SC prim+sec+pend, CE|DE', () => {
    const m = machine();
    enable(m);
    expect(ssch(m.hw, ORB)).toBe(0);
    expect(m.hw.get('start_cpa')).toBe(0x1000);
    m.run(0.05);
    expect(m.irbs).toHaveLength(0);
    expect(m.hw.get('actl')).toBe(ACTIVE);
    m.run(0.1);
    expect(m.irbs).toHaveLength(1);
    const s = m.irbs[0]!;
    expect([scsw_fctl(s.w0), scsw_actl(s.w0), scsw_stctl(s.w0), scsw_cc(s.w0)]).toEqual([SCSW_FCTL_START_FUNC, 0, SCSW_STCTL_PRIM_STATUS | SCSW_STCTL_SEC_STATUS | PEND, 0]);
    expect([s.dstat, s.cstat, s.cpa]).toEqual([DEV_STAT_CHN_END | DEV_STAT_DEV_END, 0, 0x1008]);
    expect(scsw_is_solicited(s.w0) && scsw_is_final(s.w0)).toBe(true);
    m.run(100);
    expect(m.irbs).toHaveLength(1);
    expect(hw_snapshot(m.hw).start_end[HwStartEnd.final]).toBe(1);
    expect(accounting(m)).toEqual([]);
  });

  it('PCI midway, then the final; error end with unit check and concurrent sense', () => {
    const m = machine({ p_pci: 1, p_error: 1, sense: [0x10, 0xff, 0, 0x3f] });
    enable(m);
    expect(ssch(m.hw, ORB)).toBe(0);
    m.run(1);
    expect(m.irbs.map((s) => scsw_stctl(s.w0))).toEqual([SCSW_STCTL_INTER_STATUS | PEND, SCSW_STCTL_PRIM_STATUS | SCSW_STCTL_SEC_STATUS | SCSW_STCTL_ALERT_STATUS | PEND]);
    expect(m.irbs[0]!.cstat).toBe(SCHN_STAT_PCI);
    expect(scsw_actl(m.irbs[0]!.w0)).toBe(ACTIVE);
    expect(m.irbs[1]!.dstat).toBe(DEV_STAT_CHN_END | DEV_STAT_DEV_END | DEV_STAT_UNIT_CHECK);
    const raw = m.raw[1]!;
    expect(new DataView(raw.buffer).getUint32(16) >>> 24).toBe(0x01); // erw.cons
    expect(Array.from(raw.subarray(32, 36))).toEqual([0x10, 0xff, 0, 0x3f]);
  });

  it('split ending: CE (device still active, not final), then DE (final); ssch between is busy', () => {
    const m = machine({ p_split: 1, split_gap_us: [500, 500] });
    enable(m);
    expect(ssch(m.hw, ORB)).toBe(0);
    m.run(0.2);
    expect(m.irbs).toHaveLength(1);
    expect([scsw_actl(m.irbs[0]!.w0), m.irbs[0]!.dstat, scsw_is_final(m.irbs[0]!.w0)]).toEqual([SCSW_ACTL_DEVACT, DEV_STAT_CHN_END, false]);
    expect(ssch(m.hw, ORB)).toBe(2);
    m.run(1);
    expect(m.irbs).toHaveLength(2);
    expect([scsw_stctl(m.irbs[1]!.w0), m.irbs[1]!.dstat, scsw_is_final(m.irbs[1]!.w0)]).toEqual([SCSW_STCTL_SEC_STATUS | PEND, DEV_STAT_DEV_END, true]);
    expect(hw_snapshot(m.hw).made).toEqual([1, 1, 0, 0, 0]);
  });

  it('deferred cc 3: the start ends at once with cc 3 and path not operational', () => {
    const m = machine({ p_deferred_cc3: 1 });
    enable(m);
    expect(ssch(m.hw, ORB)).toBe(0);
    m.run(1);
    expect(m.irbs).toHaveLength(1);
    expect([scsw_cc(m.irbs[0]!.w0), scsw_stctl(m.irbs[0]!.w0), (m.irbs[0]!.w0 & SCSW_PNO) !== 0]).toEqual([3, SCSW_STCTL_ALERT_STATUS | PEND, true]);
    expect(scsw_is_solicited(m.irbs[0]!.w0)).toBe(true);
  });

  it('halt of an active start: one halt interrupt, and the start gets none of its own', () => {
    const m = machine({ hung: true });
    enable(m);
    expect(ssch(m.hw, ORB)).toBe(0);
    m.run(1);
    expect(hsch(m.hw)).toBe(0);
    m.run(1000);
    expect(m.irbs).toHaveLength(1);
    const s = m.irbs[0]!;
    expect(scsw_fctl(s.w0)).toBe(SCSW_FCTL_START_FUNC | SCSW_FCTL_HALT_FUNC);
    expect([scsw_actl(s.w0), scsw_stctl(s.w0), s.dstat]).toEqual([0, SCSW_STCTL_PRIM_STATUS | SCSW_STCTL_SEC_STATUS | PEND, DEV_STAT_CHN_END | DEV_STAT_DEV_END]);
    const snap = hw_snapshot(m.hw);
    expect(snap.made[HwIrq.start_final]).toBe(0);
    expect(snap.start_end[HwStartEnd.halt]).toBe(1);
    expect(accounting(m)).toEqual([]);
  });

  it('halt of a start that has not begun: withdrawn, status pending alone, no device status', () => {
    const m = machine();
    enable(m);
    m.post({ op: 'hold' });
    expect(ssch(m.hw, ORB)).toBe(0);
    expect(hsch(m.hw)).toBe(0);
    m.post({ op: 'release' });
    m.run(1000);
    expect(m.irbs).toHaveLength(1);
    expect([scsw_fctl(m.irbs[0]!.w0), scsw_stctl(m.irbs[0]!.w0), m.irbs[0]!.dstat]).toEqual([SCSW_FCTL_START_FUNC | SCSW_FCTL_HALT_FUNC, PEND, 0]);
  });

  it('halt while the final status is already pending: cc 1, and the final is delivered normally', () => {
    const m = machine();
    enable(m);
    m.post({ op: 'hold' });
    expect(ssch(m.hw, ORB)).toBe(0);
    m.post({ op: 'complete', kind: 'final' });
    expect(hsch(m.hw)).toBe(1);
    m.post({ op: 'release' });
    m.run(1000);
    expect(m.irbs).toHaveLength(1);
    expect(scsw_fctl(m.irbs[0]!.w0)).toBe(SCSW_FCTL_START_FUNC);
  });

  it('clear discards the pending status and yields exactly one clear interrupt', () => {
    const m = machine();
    enable(m);
    m.post({ op: 'hold' });
    expect(ssch(m.hw, ORB)).toBe(0);
    m.post({ op: 'complete', kind: 'final' });
    expect(csch(m.hw)).toBe(0);
    expect(m.hw.get('status_pending')).toBe(0);
    expect(m.hw.get('discarded_csch')).toBe(1);
    m.post({ op: 'release' });
    m.run(1000);
    expect(m.irbs).toHaveLength(1);
    const s = m.irbs[0]!;
    expect([scsw_fctl(s.w0), scsw_actl(s.w0), scsw_stctl(s.w0), scsw_cc(s.w0), s.dstat, s.cstat]).toEqual([SCSW_FCTL_CLEAR_FUNC, 0, PEND, 0, 0, 0]);
    expect(scsw_is_solicited(s.w0) && scsw_is_final(s.w0)).toBe(true);
    expect(accounting(m)).toEqual([]);
  });

  it('csch while a start is active cancels its completion', () => {
    const m = machine();
    enable(m);
    expect(ssch(m.hw, ORB)).toBe(0);
    m.run(0.05);
    expect(csch(m.hw)).toBe(0);
    m.run(1000);
    expect(m.irbs.map((s) => scsw_fctl(s.w0))).toEqual([SCSW_FCTL_CLEAR_FUNC]);
    expect(hw_snapshot(m.hw).start_end[HwStartEnd.clear]).toBe(1);
  });

  it('xsch while the start is pending: cc 0, and no interrupt ever', () => {
    const m = machine();
    enable(m);
    m.post({ op: 'hold' });
    expect(ssch(m.hw, ORB)).toBe(0);
    expect(xsch(m.hw)).toBe(0);
    m.post({ op: 'release' });
    m.run(10_000);
    expect(m.irbs).toHaveLength(0);
    expect(m.hw.get('fctl')).toBe(0);
    expect(hw_snapshot(m.hw).start_end[HwStartEnd.xsch]).toBe(1);
    expect(ssch(m.hw, ORB)).toBe(0);
  });

  it('unsolicited status only when idle and enabled: it waits for the start to end', () => {
    const m = machine({ hung: true });
    enable(m);
    expect(ssch(m.hw, ORB)).toBe(0);
    m.run(1);
    expect(m.post({ op: 'unsolicited', dstat: DEV_STAT_ATTENTION })).toBe(HwRc.queued);
    m.run(100);
    expect(m.irbs).toHaveLength(0);
    expect(m.post({ op: 'complete', kind: 'final' })).toBe(HwRc.done);
    m.run(1);
    expect(m.irbs).toHaveLength(2);
    const [fin, uns] = m.irbs as [Scsw, Scsw];
    expect(scsw_fctl(fin.w0)).toBe(SCSW_FCTL_START_FUNC);
    expect([scsw_fctl(uns.w0), scsw_actl(uns.w0), scsw_stctl(uns.w0), uns.dstat]).toEqual([0, 0, SCSW_STCTL_ALERT_STATUS | PEND, DEV_STAT_ATTENTION]);
    expect(scsw_is_solicited(uns.w0)).toBe(false);
  });

  it('a disabled subchannel gets no interrupt; enabling it presents the waiting status', () => {
    const m = machine({ p_unsolicited_idle: 1, unsolicited_delay_us: [100, 100] });
    expect(m.post({ op: 'unsolicited', dstat: DEV_STAT_ATTENTION })).toBe(HwRc.queued);
    m.run(10_000);
    expect(m.irbs).toHaveLength(0);
    expect(m.hw.get('status_pending')).toBe(0);
    enable(m);
    m.run(0.01);
    expect(m.irbs).toHaveLength(1);
    m.run(1);
    // the idle period begun by the enable planned one more
    expect(m.irbs).toHaveLength(2);
    expect(m.irbs.every((s) => !scsw_is_solicited(s.w0))).toBe(true);
  });

  it('S3 robustness: an unsolicited status injected while busy leaves the start running', () => {
    const m = machine({ hung: true });
    enable(m);
    expect(ssch(m.hw, ORB)).toBe(0);
    m.run(1);
    expect(m.post({ op: 'unsolicited', dstat: DEV_STAT_ATTENTION, busy: true })).toBe(HwRc.done);
    m.run(1);
    expect(m.irbs).toHaveLength(1);
    expect(scsw_is_solicited(m.irbs[0]!.w0)).toBe(false);
    expect([m.hw.get('fctl'), m.hw.get('actl')]).toEqual([SCSW_FCTL_START_FUNC, ACTIVE]);
    m.post({ op: 'complete', kind: 'final' });
    m.run(1);
    expect(m.irbs).toHaveLength(2);
    expect(scsw_is_final(m.irbs[1]!.w0) && scsw_is_solicited(m.irbs[1]!.w0)).toBe(true);
    expect(accounting(m)).toEqual([]);
  });

  it('hold keeps interrupts waiting while commands still act; release presents them', () => {
    const m = machine();
    enable(m);
    m.post({ op: 'hold' });
    expect(ssch(m.hw, ORB)).toBe(0);
    m.run(1000);
    expect(m.hw.get('actl')).toBe(SCSW_ACTL_START_PEND); // no timed progress
    m.post({ op: 'complete', kind: 'final' });
    m.run(1000);
    expect(m.irbs).toHaveLength(0);
    m.post({ op: 'release' });
    expect(m.irbs).toHaveLength(1);
  });

  it('complete without a running start is not applicable', () => {
    const m = machine();
    enable(m);
    expect(m.post({ op: 'complete', kind: 'final' })).toBe(HwRc.not_applicable);
  });

  it('gone: pending status lost, later instructions cc 3, sch_event called; path events change PAM and call chp_event', () => {
    const m = machine({ hung: true });
    enable(m);
    m.post({ op: 'path', event: HwPathEvent.vary_off, chpid: 0x40 });
    m.post({ op: 'path', event: HwPathEvent.offline, chpid: 0x99 });
    expect(m.hw.get('pam')).toBe(0x80);
    m.post({ op: 'path', event: HwPathEvent.offline, chpid: 0x40 });
    expect(m.hw.get('pam')).toBe(0);
    m.post({ op: 'path', event: HwPathEvent.online, chpid: 0x40 });
    expect(m.chp).toEqual([
      { chpid: 0x40, mask: 0x80, event: HwPathEvent.vary_off },
      { chpid: 0x99, mask: 0, event: HwPathEvent.offline },
      { chpid: 0x40, mask: 0x80, event: HwPathEvent.offline },
      { chpid: 0x40, mask: 0x80, event: HwPathEvent.online },
    ]);
    expect(ssch(m.hw, ORB)).toBe(0);
    m.run(1);
    m.post({ op: 'hold' });
    m.post({ op: 'complete', kind: 'pci' });
    m.post({ op: 'gone' });
    expect(m.sch_events).toBe(1);
    expect(m.hw.get('discarded_gone')).toBe(1);
    expect(ssch(m.hw, ORB)).toBe(3);
    expect(hw_snapshot(m.hw).start_end[HwStartEnd.gone]).toBe(1);
    expect(accounting(m)).toEqual([]);
  });

  it('back: a device that went mid-function comes back idle and disabled; MSCH disables it (cc 0), not busy for ever', () => {
    const m = machine({ hung: true });
    enable(m);
    expect(ssch(m.hw, ORB)).toBe(0);
    m.run(1);
    expect(hsch(m.hw)).toBe(0);
    m.post({ op: 'hold' });
    m.post({ op: 'gone' });
    m.post({ op: 'release' });
    expect(m.post({ op: 'back' })).toBe(HwRc.done);
    const s = stsch_scsw(m);
    expect([scsw_fctl(s.w0), scsw_actl(s.w0), scsw_stctl(s.w0)]).toEqual([0, 0, 0]);
    expect(m.hw.get('enabled')).toBe(0);
    // cio_disable_subchannel's MSCH on the device attached anew (quiesce after it came back)
    expect(msch_disable(m.hw)).toBe(0);
    expect(msch_enable(m.hw, 3, 0x1234)).toBe(0);
    expect(ssch(m.hw, ORB)).toBe(0);
  });

  it('mailbox: sense bytes pass intact (0xff and 0 included) into the ECW', () => {
    const m = machine();
    enable(m);
    m.post({ op: 'unsolicited', dstat: DEV_STAT_UNIT_CHECK, sense: [0, 0xff, 0x80, 0x3f, 1] });
    m.run(1);
    const raw = m.raw[0]!;
    expect(Array.from(raw.subarray(32, 38))).toEqual([0, 0xff, 0x80, 0x3f, 1, 0]);
    expect((new DataView(raw.buffer).getUint32(16) >>> 16) & 0x3f).toBe(5); // erw.scnt
  });
});

describe('seeded decisions', () => {
  const CFG: Partial<HwConfig> = { p_pci: 0.5, p_error: 0.3, p_split: 0.3, p_deferred_cc1: 0.1, start_latency_us: [50, 2000], start_begin_us: [5, 50] };

  /** 30 starts one after another; `step` is how far the clock moves between engine looks. */
  function workload(seed: number, step: number): { decisions: HwDecision[]; irbs: number[] } {
    const m = machine(CFG, seed);
    enable(m);
    for (let k = 0; k < 30; k++) {
      expect(ssch(m.hw, test_orb(0x4000 + 0x100 * k))).toBe(0);
      for (let j = 0; j < 10_000 && m.hw.get('start_open') + m.hw.get('fctl') !== 0; j++) m.run(step);
    }
    return { decisions: m.engine.decisions, irbs: m.irbs.map((s) => s.w0) };
  }

  it('the same seed and instruction sequence give the same decisions and IRBs, however the engine is timed', () => {
    const a = workload(7, 0.05);
    const b = workload(7, 0.7);
    expect(a.decisions.filter((d) => d.what === 'start')).toHaveLength(30);
    expect(b.decisions).toEqual(a.decisions);
    expect(b.irbs).toEqual(a.irbs);
  });

  it('another seed gives other decisions', () => {
    expect(workload(8, 0.05).decisions).not.toEqual(workload(7, 0.05).decisions);
  });

  it('a start withdrawn before the engine looked still has its decision drawn', () => {
    const m = machine({}, 3);
    enable(m);
    expect(ssch(m.hw, ORB)).toBe(0);
    expect(xsch(m.hw)).toBe(0);
    expect(ssch(m.hw, ORB)).toBe(0);
    m.run(1);
    expect(m.engine.decisions.map((d) => [d.what, d.seq])).toEqual([
      ['start', 1],
      ['start', 2],
    ]);
    expect(m.hw.get('decisions')).toBe(2);
  });
});

// ---- the engine on a real IRQ worker ----

describe('engine on a real IRQ worker', () => {
  const PROGS = new URL('./programs/hw-programs.ts', import.meta.url);
  let pool: ActorPool;
  let v: HwTestViews;

  beforeAll(async () => {
    set_clock(null);
    v = hw_area();
    pool = await ActorPool.start(
      [
        { id: 1, kind: ActorKind.irq, name: 'irq' },
        { id: 2, kind: ActorKind.user, name: 'user1' },
        { id: 3, kind: ActorKind.user, name: 'user2' },
      ],
      alloc_global(),
      [v.buf],
      [PROGS.href],
    );
  });
  afterAll(async () => {
    await pool.close();
    set_clock({ now_ms: () => now });
  });

  it('ssch from a user worker, final IRB from the engine: 200 starts, each ended by exactly one final', async () => {
    hw_area_reset(v);
    const eng = pool.run(1, prog(PROGS, 'engine_raw'), { seed: 11, config: { start_latency_us: [20, 200] }, max_ms: 60_000 });
    let ccs: number[];
    try {
      ccs = unwrap<number[]>(await pool.run(2, prog(PROGS, 'raw_starts'), { n: 200 }));
    } finally {
      unwrap(await pool.run(3, prog(PROGS, 'stop_engine'), null));
    }
    const run = unwrap<HwRunResult>(await eng);
    expect(run.reason).toBe('stop');
    expect(ccs).toEqual(new Array(201).fill(0));
    expect(tally(v, 'irqs')).toBe(200);
    expect(tally(v, 'spurious')).toBe(0);
    const kinds = Array.from(v.a.subarray(area_base('kinds'), area_base('kinds') + 200));
    expect(kinds.every((w0) => scsw_fctl(w0) === SCSW_FCTL_START_FUNC && scsw_actl(w0) === 0 && scsw_stctl(w0) === (SCSW_STCTL_PRIM_STATUS | SCSW_STCTL_SEC_STATUS | PEND))).toBe(true);
    const snap = hw_snapshot(v.hw);
    expect(snap.start_end[HwStartEnd.final]).toBe(200);
    expect(snap.taken[HwIrq.start_final]).toBe(200);
    expect(run.decisions.filter((d) => d.what === 'start')).toHaveLength(200);
    expect(hw_accounting_errors(snap)).toEqual([]);
  });

  it('two workers issue random instructions while the engine runs: the accounting stays exact', async () => {
    hw_area_reset(v);
    const config: Partial<HwConfig> = {
      start_begin_us: [0, 5], start_latency_us: [0, 30], p_pci: 0.2, p_split: 0.2, p_error: 0.1, p_deferred_cc1: 0.05,
      p_unsolicited_idle: 0.05, unsolicited_delay_us: [0, 20], p_unsolicited_busy: 0.05, halt_latency_us: [0, 10], clear_latency_us: [0, 10],
    };
    const eng = pool.run(1, prog(PROGS, 'engine_raw'), { seed: 5, config, max_ms: 60_000 });
    let per: number[][];
    try {
      per = (
        await Promise.all([2, 3].map((actor) => pool.run(actor, prog(PROGS, 'raw_hammer'), { iters: 30_000, seed: actor * 977, workers: 2 })))
      ).map((r) => unwrap<number[]>(r));
      unwrap(await pool.run(2, prog(PROGS, 'post'), { cmds: [{ op: 'hold' }] }));
    } finally {
      unwrap(await pool.run(3, prog(PROGS, 'stop_engine'), null));
    }
    unwrap(await eng);
    const snap = hw_snapshot(v.hw);
    expect(hw_accounting_errors(snap)).toEqual([]);
    // the mix really exercised the machine: starts, every ending, interrupts through the engine
    expect(snap.start_seq).toBeGreaterThan(500);
    expect(snap.start_end.every((n, k) => k === HwStartEnd.gone || n > 0)).toBe(true);
    expect(tally(v, 'irqs')).toBeGreaterThan(100);
    expect(per.flat().reduce((p, q) => p + q, 0)).toBe(60_000);
  });
});
