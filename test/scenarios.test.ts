// The workload scenarios S1 … S12 (spec/client-and-hardware.md §8), each once on mainline through
// one Rig, with small iteration counts and a fast machine. A run passes, or its only findings are
// real races of the current driver, each named below with the interleaving that produces it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rig } from '../src/system/rig.ts';
import { SCENARIOS, scenario_by_id_or_slug } from '../src/scenarios/index.ts';
import { variant_by_name } from '../src/variants/registry.ts';
import type { HwConfig } from '../src/hw/config.ts';

const FAST: Partial<HwConfig> = { start_begin_us: [5, 20], start_latency_us: [1, 20], halt_latency_us: [5, 20], clear_latency_us: [5, 20] };

// Real races of mainline the scenarios can hit (by finding id):
const SCHIB_READ =
  'I18: vfio_ccw_schib_region_read refreshes sch->schib through cio_update_schib holding only io_mutex, while the IRQ path writes it under sch->lock';
const SLOT_FINAL =
  'I12: two interrupts before io_todo runs; fsm_irq overwrites a final IRB in the single private->irb slot (R2): start final then clear (S4 A), ' +
  'then the halt of cancel/halt/clear (S9), then an attention (S10 A, where io_todo sees only the unsolicited IRB and the start stays CP_PENDING until the guest clears it)';
const SLOT_JUDGED =
  'S2.no-ebusy: io_todo judges is_final on an intermediate IRB, then copies the final one fsm_irq wrote meanwhile, and signals before the run that sets IDLE';
const REQUEUED_FREES =
  'I3: the final lands while io_todo runs for an intermediate, so that run frees the cp and goes IDLE; the run the final queued again ' +
  'finds the stale final and CP_PENDING for the next start, and frees the cp the channel now runs';
const DOUBLE_FREE =
  'I21: the io_todo run the final queued again calls cp_free beside fsm_close (the user closed after reading the final); both pass ' +
  'the cp->initialized check and unpin the same pages';
const CLOSE_BEFORE_TODO =
  'S2.no-pinned-after-close (I6): through the same slot, the user reads a final IRB and closes before the io_todo run that frees its channel program';
const CLEAR_STEALS =
  'S12.todo-frees-own-cp: {CSCH} in IDLE, clear IRQ queues io_work, the user writes ssch (CP_PENDING) before io_todo runs; io_todo takes the clear IRB ' +
  '(solicited, final) for the new start, frees its cp and sets IDLE while the channel runs it';
const NOTOPER_UNPINS =
  'sleep_in_atomic: the device goes away with pages pinned; vfio_ccw_sch_event fires NOT_OPER holding sch->lock (spin_lock_irqsave), and ' +
  "fsm_notoper's cp_free (v6.0+) unpins through vfio_unpin_pages, which takes type1's iommu->lock mutex (vfio_ccw_drv.c, vfio_ccw_fsm.c, v6.3)";

// No lost CRW (S9.crw-fifo) here: the current tree puts the CRW list under private->crw_lock
// (v6.3 loses one; test/crw-lock.test.ts).

interface Plan {
  iterations: number;
  params?: Record<string, number | string | boolean>;
  races?: Record<string, string>;
}

const PLAN: Record<string, Plan> = {
  S1: { iterations: 5 },
  S2: { iterations: 200, races: { I18: SCHIB_READ, 'S2.no-ebusy': SLOT_JUDGED, 'S2.no-pinned-after-close': CLOSE_BEFORE_TODO, I12: SLOT_FINAL, I3: REQUEUED_FREES, I21: DOUBLE_FREE } },
  S3: { iterations: 40 },
  S4: { iterations: 10, races: { I12: SLOT_FINAL } },
  S5: { iterations: 2 },
  S6: { iterations: 100, races: { I18: SCHIB_READ } },
  S7: { iterations: 1, races: { sleep_in_atomic: NOTOPER_UNPINS } },
  S8: { iterations: 1 },
  S9: { iterations: 100, params: { gap_ms: 0.2 }, races: { I12: SLOT_FINAL, I3: REQUEUED_FREES } },
  S10: { iterations: 10, races: { I12: SLOT_FINAL } },
  S11: { iterations: 10 },
  // I3 is the generic oracle for the same interleaving: the freed cp is the one the machine runs.
  S12: { iterations: 20, races: { 'S12.todo-frees-own-cp': CLEAR_STEALS, I3: CLEAR_STEALS } },
};

let rig: Rig;
beforeAll(async () => {
  rig = await Rig.start(Math.max(...SCENARIOS.map((s) => s.users.default)), SCENARIOS.map((s) => s.module));
});
afterAll(() => rig?.close());

describe('scenario registry', () => {
  it('holds S1 … S12 in order, found by id, slug or both', () => {
    expect(SCENARIOS.map((s) => s.id)).toEqual(Array.from({ length: 12 }, (_, k) => `S${k + 1}`));
    expect(new Set(SCENARIOS.map((s) => s.slug)).size).toBe(12);
    for (const s of SCENARIOS) {
      expect(scenario_by_id_or_slug(s.id.toLowerCase())).toBe(s);
      expect(scenario_by_id_or_slug(s.slug)).toBe(s);
      expect(scenario_by_id_or_slug(`${s.id}-${s.slug}`)).toBe(s);
      expect(s.users.min).toBeLessThanOrEqual(s.users.default);
    }
    expect(scenario_by_id_or_slug('clear-then-start')?.id).toBe('S12');
    expect(scenario_by_id_or_slug('S13')).toBeUndefined();
  });

  it('mainline can run all of them; older kernels lack what some need', () => {
    const f = (v: string) => variant_by_name(v)!.features;
    for (const s of SCENARIOS) expect(s.requires?.(f('mainline')) ?? null).toBeNull();
    const na = (v: string) => SCENARIOS.filter((s) => (s.requires?.(f(v)) ?? null) !== null).map((s) => s.id);
    expect(na('v4.12')).toEqual(['S4', 'S5', 'S6', 'S9', 'S11', 'S12']);
    expect(na('v5.2')).toEqual(['S9', 'S11']);
    expect(na('v5.13')).toEqual([]);
  });
});

describe('scenarios on mainline (one run each)', () => {
  for (const sc of SCENARIOS) {
    const plan = PLAN[sc.id] ?? { iterations: 1 };
    it(`${sc.id} ${sc.title}`, async () => {
      const out = await rig.run({
        variant: 'mainline',
        scenario: sc,
        users: sc.users.default,
        seed: 1,
        iterations: plan.iterations,
        hw: FAST,
        detectors: ['invariants', 'lockdep'],
        ...(plan.params !== undefined ? { params: plan.params } : {}),
      });
      const races = plan.races ?? {};
      const unexpected = out.report.findings.filter((x) => races[x.id] === undefined).map((x) => `${x.kind} ${x.id}: ${x.message}`);
      expect(unexpected).toEqual([]);
      expect(out.report.not_applicable ?? []).toEqual([]);
      // every scenario made checks, and every one that failed is a named race
      const checks = out.results.flatMap((r) => r.checks);
      expect(checks.length).toBeGreaterThan(0);
      for (const c of checks) if (!c.ok) expect(races[c.id], `${c.id}: ${c.message}`).toBeDefined();
    });
  }
});
