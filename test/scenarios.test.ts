// The workload scenarios S1 … S13, each once on mainline through
// one Rig, with small iteration counts and a fast machine. A run passes, or its only findings are
// real races of the current driver, each named below with the interleaving that produces it.
import { readFileSync, readdirSync } from 'node:fs';
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
  /** checks the scenario makes on every mainline run of this plan, whatever the interleaving (suffixes after `S<n>.`) */
  checks: string[];
  params?: Record<string, number | string | boolean>;
  races?: Record<string, string>;
}

const PLAN: Record<string, Plan> = {
  S1: {
    iterations: 5,
    checks: [
      'close-standby', 'device-info', 'final-irb', 'irq-info', 'isic-keeps-cp', 'no-ebusy', 'open-idle', 'prompt-final', 'prompt-two-runs',
      'realize', 'region-info-calls', 'region-info-exact', 'reset', 'set-irqs', 'sync-start',
    ],
  },
  S2: { iterations: 200, checks: ['no-ebusy', 'no-pinned-after-close', 'realize'], races: { I18: SCHIB_READ, 'S2.no-ebusy': SLOT_JUDGED, 'S2.no-pinned-after-close': CLOSE_BEFORE_TODO, I12: SLOT_FINAL, I3: REQUEUED_FREES, I21: DOUBLE_FREE } },
  S3: { iterations: 40, checks: ['busy-final', 'busy-unsolicited-keeps-cp', 'cp-balanced', 'realize', 'reservation-lost-sense'] },
  S4: { iterations: 10, checks: ['B-clear-discards', 'B-ebusy', 'B-restart', 'clear-frees', 'clear-irb', 'csch-keeps-state', 'hung', 'next-ssch', 'realize', 'ssch'], races: { I12: SLOT_FINAL } },
  S5: { iterations: 2, checks: ['one-end-per-start', 'realize'] },
  S6: { iterations: 100, checks: ['csch-once', 'eagain-cmd', 'eagain-io', 'every-request-once', 'io-once', 'realize'], races: { I18: SCHIB_READ } },
  S7: {
    iterations: 1,
    checks: [
      'a-cancelled', 'a-crw', 'a-crw-online', 'a-csch-recovers', 'a-no-interrupt', 'b-crws', 'b-halted', 'csch-eio', 'first-io', 'io-read-ok',
      'no-double-free', 'no-irb-for-aborted-io', 'no-signal-after-notoper', 'notoper', 'realize', 'remove-after-close', 'removed', 'req',
      'schib-enodev', 'ssch', 'ssch-eio', 'unplug', 'unreg-scheduled',
    ],
    races: { sleep_in_atomic: NOTOPER_UNPINS },
  },
  S8: { iterations: 1, checks: ['1-open', '2-open', '4-open', 'close-no-signal', 'close-quiesce', 'close-regions', 'close-terminates', 'pending-discarded', 'reset', 'reset-close', 'reset-signal'] },
  S9: { iterations: 100, checks: ['crw-fifo', 'crw-zero-reads', 'end-idle', 'realize'], params: { gap_ms: 0.2 }, races: { I12: SLOT_FINAL, I3: REQUEUED_FREES } },
  S10: { iterations: 10, checks: ['B-final', 'B-write-zeroes', 'no-double-free', 'realize'], races: { I12: SLOT_FINAL } },
  S11: { iterations: 10, checks: ['no-io-signal-after-teardown', 'quiesce-ends-in-flight', 'realize', 'remove-after-close', 'removed', 'unplug-after-req'] },
  // I3 is the generic oracle for the same interleaving: the freed cp is the one the machine runs.
  S12: { iterations: 20, checks: ['clear-irb', 'csch-idle', 'realize', 'ssch-busy-during-clear'], races: { 'S12.todo-frees-own-cp': CLEAR_STEALS, I3: CLEAR_STEALS } },
  // S13 on one device is S2's read loop with closes and resets between reads: S2's races
  S13: { iterations: 8, checks: ['no-pinned-after-close', 'reopen'], races: { I12: SLOT_FINAL, I3: REQUEUED_FREES, I21: DOUBLE_FREE, 'S13.no-pinned-after-close': CLOSE_BEFORE_TODO } },
};

let rig: Rig;
beforeAll(async () => {
  rig = await Rig.start(Math.max(...SCENARIOS.map((s) => s.users.default)), SCENARIOS.map((s) => s.module));
});
afterAll(() => rig?.close());

describe('scenario registry', () => {
  it('holds S1 … S13 in order, found by id, slug or both', () => {
    expect(SCENARIOS.map((s) => s.id)).toEqual(Array.from({ length: 13 }, (_, k) => `S${k + 1}`));
    expect(new Set(SCENARIOS.map((s) => s.slug)).size).toBe(13);
    for (const s of SCENARIOS) {
      expect(scenario_by_id_or_slug(s.id.toLowerCase())).toBe(s);
      expect(scenario_by_id_or_slug(s.slug)).toBe(s);
      expect(scenario_by_id_or_slug(`${s.id}-${s.slug}`)).toBe(s);
      expect(s.users.min).toBeLessThanOrEqual(s.users.default);
    }
    expect(scenario_by_id_or_slug('clear-then-start')?.id).toBe('S12');
    expect(scenario_by_id_or_slug('many-devices')?.id).toBe('S13');
    expect(scenario_by_id_or_slug('S14')).toBeUndefined();
  });

  it('no scenario imports another: what they share is in src/scenarios/lib', () => {
    const dir = new URL('../src/scenarios/', import.meta.url);
    const files = readdirSync(dir).filter((f) => /^s\d\d-.*\.ts$/.test(f));
    expect(files).toHaveLength(SCENARIOS.length);
    const crossing = files.flatMap((f) => [...readFileSync(new URL(f, dir), 'utf8').matchAll(/from '\.\/(s\d\d-[^']*)'/g)].map((m) => `${f} -> ${m[1]}`));
    expect(crossing).toEqual([]);
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
    const plan = PLAN[sc.id];
    if (plan === undefined) throw new Error(`no plan for ${sc.id}`);
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
      // the scenario made the checks its plan names, each under its own id, and every one that
      // failed is a named race
      const checks = out.results.flatMap((r) => r.checks);
      const made = new Set(checks.map((c) => c.id));
      expect(plan.checks.map((k) => `${sc.id}.${k}`).filter((id) => !made.has(id))).toEqual([]);
      expect(checks.map((c) => c.id).filter((id) => !id.startsWith(`${sc.id}.`))).toEqual([]);
      for (const c of checks) if (!c.ok) expect(races[c.id], `${c.id}: ${c.message}`).toBeDefined();
    });
  }
});
