// Scenario checks under fault injection: a check on a call's answer accepts the errno that a
// failure injected into that very call makes the kernel return (a note, not a finding), while the
// state and leak checks around it stay. Fixed runs: --fail-nth fails the first call at a site in
// each actor, so which call fails does not depend on the schedule.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Rig } from '../src/system/rig.ts';
import { SCENARIOS, scenario_by_id_or_slug } from '../src/scenarios/index.ts';
import { ScenarioEnv } from '../src/scenarios/env.ts';
import { fault_configure, fault_injected, should_fail, type FaultSite } from '../src/kernel/index.ts';
import type { HwConfig } from '../src/hw/config.ts';

const FAST: Partial<HwConfig> = { start_begin_us: [5, 20], start_latency_us: [1, 20], halt_latency_us: [5, 20], clear_latency_us: [5, 20] };

// Findings the same scenarios have without any fault (test/scenarios.test.ts names each race):
// a run with a fault may hit them too, they are not what this file is about.
const RACES: Record<string, string[]> = {
  mainline: ['I18', 'I12', 'I3', 'I21', 'S2.no-ebusy', 'S2.no-pinned-after-close', 'S12.todo-frees-own-cp', 'S13.no-pinned-after-close', 'sleep_in_atomic'],
  'v5.3': ['I2', 'I3', 'I5', 'I7', 'I12', 'I18', 'S12.todo-frees-own-cp', 'S12.idle-after-final'],
};

let rig: Rig;
beforeAll(async () => {
  rig = await Rig.start(Math.max(...SCENARIOS.map((s) => s.users.default)), SCENARIOS.map((s) => s.module));
});
afterAll(() => rig?.close());

async function run(variant: string, id: string, site: FaultSite | null, iterations: number, n = 1) {
  const sc = scenario_by_id_or_slug(id)!;
  const out = await rig.run({
    variant,
    scenario: sc,
    users: sc.users.default,
    seed: 1,
    iterations,
    hw: FAST,
    detectors: ['invariants'],
    ...(site !== null ? { fault: { nth: { site, n }, seed: 1 } } : {}),
  });
  const checks = out.results.flatMap((r) => r.checks);
  const notes = out.results.flatMap((r) => r.notes);
  const known = RACES[variant] ?? [];
  const failed = checks.filter((c) => !c.ok && !known.includes(c.id)).map((c) => `${c.id}: ${c.message}`);
  return { failed, notes, made: new Set(checks.map((c) => c.id)), findings: out.report.findings.filter((f) => !known.includes(f.id)).map((f) => f.id) };
}

describe('a failure injected into a start is the kernel answering, not a finding', () => {
  // each: the scenario, the check the old code failed on that answer (cp_alloc:1 fails the first
  // chain allocation: -ENOMEM; pin:1 the first page pin: -EFAULT, after cp_init succeeded)
  const CASES: [string, string, FaultSite, string, number][] = [
    ['mainline', 'S1', 'cp_alloc', 'S1.sync-start', 3],
    ['mainline', 'S1', 'pin', 'S1.sync-start', 3],
    ['mainline', 'S3', 'pin', 'S3.reserve', 10],
    ['mainline', 'S4', 'cp_alloc', 'S4.ssch', 3],
    ['mainline', 'S5', 'cp_alloc', 'S5.hsch-active', 1],
    ['mainline', 'S7', 'pin', 'S7.first-io', 1],
    ['mainline', 'S8', 'cp_alloc', 'S8.close-terminates', 1],
    ['mainline', 'S10', 'cp_alloc', 'S10.A-ssch', 3],
    ['mainline', 'S11', 'cp_alloc', 'S11.ssch', 10],
    ['v5.3', 'S12', 'cp_alloc', 'S12.ssch-busy-during-clear', 5],
  ];
  for (const [variant, id, site, check, iterations] of CASES) {
    it(`${variant} ${id} with ${site}:1: ${check} is a note, no check fails`, async () => {
      const r = await run(variant, id, site, iterations);
      expect(r.failed).toEqual([]);
      expect(r.notes.some((n) => n.startsWith(check))).toBe(true);
      expect(r.findings.filter((f) => f.startsWith(`${id}.`))).toEqual([]);
    });
  }

  it('without a fault the same checks are made (and pass): nothing is excused', async () => {
    const r = await run('v5.3', 'S12', null, 5);
    expect(r.made.has('S12.ssch-busy-during-clear')).toBe(true);
    expect(r.failed).toEqual([]);
    expect(r.notes.filter((n) => n.includes('injected'))).toEqual([]);
  });
});

describe('a realize that an injected failure makes fail stops the scenario on every user', () => {
  for (const [id, site] of [['S1', 'region_register'], ['S7', 'region_register'], ['S7', 'mdev_register'], ['S6', 'eventfd_ctx'], ['S13', 'region_register']] as const) {
    it(`${id} with ${site}:1`, async () => {
      const r = await run('mainline', id, site, 2);
      expect(r.failed).toEqual([]);
      expect(r.findings).toEqual([]);
      expect(r.notes.some((n) => n.includes('realize failed after an injected'))).toBe(true);
    });
  }
});

describe('QEMU realizes without the REQ notifier when its eventfd fails (a warning)', () => {
  // mainline registers IO, CRW, then REQ: the third eventfd lookup is REQ's
  for (const [id, check] of [['S1', 'S1.set-irqs'], ['S7', 'S7.req'], ['S11', 'S11.unplug-after-req']] as const) {
    it(`${id} with eventfd_ctx:3: ${check} is a note`, async () => {
      const r = await run('mainline', id, 'eventfd_ctx', id === 'S11' ? 3 : 1, 3);
      expect(r.failed).toEqual([]);
      expect(r.notes.some((n) => n.startsWith(check))).toBe(true);
    });
  }
});

describe('the env helpers excuse only the call a failure was injected into', () => {
  afterEach(() => fault_configure(null));

  // check_answer and faulted use no device: call them on a bare result holder
  const bare = () => {
    const env = Object.create(ScenarioEnv.prototype) as ScenarioEnv;
    Object.defineProperty(env, 'result', { value: { counters: {}, checks: [], not_applicable: [], notes: [] } });
    return env;
  };

  it('fault_injected counts the failures of this actor, not the calls', () => {
    fault_configure({ nth: { site: 'cp_alloc', n: 2 }, seed: 1 });
    expect(fault_injected()).toBe(0);
    expect(should_fail('cp_alloc')).toBe(false);
    expect(should_fail('pin')).toBe(false);
    expect(fault_injected()).toBe(0);
    expect(should_fail('cp_alloc')).toBe(true);
    expect(fault_injected()).toBe(1);
    fault_configure(null);
    expect(fault_injected()).toBe(0);
  });

  it('faulted says whether the failure fell inside the call', () => {
    const env = bare();
    fault_configure({ nth: { site: 'pin', n: 2 }, seed: 1 });
    expect(env.faulted(() => should_fail('pin')).fault).toBe(false);
    expect(env.faulted(() => should_fail('pin'))).toEqual({ v: true, fault: true });
    // a later call that itself fails nothing is not excused by the earlier failure
    expect(env.faulted(() => should_fail('pin')).fault).toBe(false);
  });

  it('check_answer: excused is a note (once per id, counted), anything else a check', () => {
    const env = bare();
    env.check_answer('X.a', false, true, 'write -12');
    env.check_answer('X.a', false, true, 'write -12');
    env.check_answer('X.b', false, false, 'write -12');
    env.check_answer('X.c', true, true, 'ok');
    env.check_answer('X.d', true, false, 'ok', false);
    expect(env.result.checks).toEqual([
      { id: 'X.b', ok: false, message: 'write -12' },
      { id: 'X.c', ok: true, message: 'ok' },
    ]);
    expect(env.result.notes).toHaveLength(1);
    expect(env.result.counters['excused.X.a']).toBe(2);
  });
});
