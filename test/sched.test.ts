// The controlled scheduler: determinism, tokens, deadlock detection, bounded exhaustive search.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rig } from '../src/system/rig.ts';
import { scenario as s12 } from '../src/scenarios/s12-clear-then-start.ts';
import { DEFAULTS, plan } from '../src/sched/plan.ts';
import { check_replay, run_spec, search, shrink } from '../src/sched/search.ts';
import { decode_token, encode_token, source_version, type ScheduleSpec } from '../src/sched/token.ts';
import { controlledHarness } from './contracts/controlled-harness.ts';
import { scenario as throws } from './fixtures/throw-scenario.ts';

let rig: Rig;
beforeAll(async () => {
  rig = await Rig.start(1, [s12.module]);
});
afterAll(() => rig.close());

const spec = (seed: number, st: ScheduleSpec['st'] = 'pct'): ScheduleSpec => ({ v: 'mainline', s: 'S12', st, seed, d: 3, e: 400, u: 1, it: 2 });

describe('controlled scheduling', () => {
  it('the same variant, scenario, strategy and seed give the same trace, event for event', async () => {
    for (const st of ['pct', 'random'] as const) {
      const sig: string[] = [];
      for (let k = 0; k < 3; k++) {
        const o = await run_spec(rig, s12, spec(11, st), ['trace', 'invariants']);
        sig.push(`${o.sched?.steps}|${o.sched?.kind_hash}|${o.trace.map((e) => `${e.actor}.${e.kind}.${e.obj}.${e.site}`).join(',')}`);
      }
      expect(new Set(sig).size).toBe(1);
    }
  });

  it('different seeds explore different schedules', async () => {
    const hashes = new Set<number>();
    for (let s = 0; s < 8; s++) hashes.add((await run_spec(rig, s12, spec(s, 'random'), [])).sched!.kind_hash);
    expect(hashes.size).toBeGreaterThan(1);
  });

  it('tokens round-trip; replay checks every step and names where a run diverged', async () => {
    const o = await run_spec(rig, s12, spec(5), []);
    const rec: ScheduleSpec = { ...spec(5), n: o.sched!.steps, h: o.sched!.kind_hash, c: o.sched!.checks };
    const tok = encode_token(rec);
    // 200 before tokens carried their source version (about 25 more characters)
    expect(tok.length).toBeLessThan(230);
    expect(decode_token(tok)).toEqual({ ...rec, sv: source_version() });
    expect(check_replay(rec, await run_spec(rig, s12, rec, []))).toMatchObject({ ok: true });
    // a recording that does not match the run: replay says so, and where
    const wrong = { ...rec, h: (rec.h! + 1) >>> 0, c: rec.c!.map((x, k) => (k >= 2 ? x + 1 : x)) };
    const chk = check_replay(wrong, await run_spec(rig, s12, rec, []));
    expect(chk.ok).toBe(false);
    expect(chk.message).toMatch(/diverged .* between step \d+ and step \d+/);
    expect(typeof decode_token('vcs1.@@@')).toBe('string');
    expect(typeof decode_token('nope')).toBe('string');
  });

  it('forced choices (replay of a shrunk or searched schedule) reproduce the run', async () => {
    const o = await run_spec(rig, s12, spec(9, 'random'), []);
    const forced: ScheduleSpec = { ...spec(9), st: 'prefix', f: o.sched!.decisions.map((d) => d.pick) };
    const r = await run_spec(rig, s12, forced, []);
    expect(r.sched!.kind_hash).toBe(o.sched!.kind_hash);
    expect(r.sched!.steps).toBe(o.sched!.steps);
  });

  it('shrinking a random schedule keeps a few choices over the default policy, and the result still fails, replayed', async () => {
    const r = await search(rig, s12, plan({ variant: 'v5.3', scenario: s12.id, search: 'random', iterations: 1, depth: 1, budget: 400, seed0: 1, bound: 1, detectors: ['invariants'], stop_at_first: true, target: '^I2$' }));
    expect(r.first).toBeDefined();
    const before = r.first!.outcome.sched!.preemptions;
    const s = await shrink(rig, s12, r.first!.spec, r.first!.outcome, 'I2', ['invariants']);
    expect(s.spec.st).toBe('sparse');
    expect(s.outcome.report.findings.map((f) => f.id)).toContain('I2');
    expect(s.outcome.sched!.preemptions).toBeLessThan(before);
    expect((s.spec.f ?? []).length / 2).toBeLessThan(before / 2);
    const again = await run_spec(rig, s12, decode_token(encode_token(s.spec)) as ScheduleSpec, ['invariants']);
    expect(again.report.findings.map((f) => f.id)).toContain('I2');
    expect(check_replay(s.spec, again).ok).toBe(true);
  });

  it('bounded exhaustive search stays within its preemption bound and explores distinct schedules', async () => {
    const r = await search(rig, s12, plan({ variant: 'mainline', scenario: s12.id, search: 'dfs', iterations: 1, depth: 1, budget: 12, seed0: 1, bound: 1 }));
    expect(r.schedules).toBe(12);
  });
});

describe('an actor that fails before the schedule begins', () => {
  it('aborts the schedule at once, and its error is the finding', async () => {
    const r = await Rig.start(1, [throws.module]);
    try {
      const o = await r.run({ variant: 'mainline', scenario: throws, users: 1, seed: 1, iterations: 1, detectors: [], sched: { strategy: 'pct', seed: 1, depth: DEFAULTS.depth, expected: DEFAULTS.expected } });
      expect(o.sched?.abort).toBe('failed');
      expect(o.report.findings.map((f) => `${f.id}: ${f.message}`)).toEqual(['user-failed: user 0: Error: boom before entering']);
    } finally {
      await r.close();
    }
  });
});

describe('controlled deadlock detection', () => {
  it('an ABBA pair is reported as a deadlock by some schedule, and a consistent order never is', async () => {
    const h = await controlledHarness(42);
    try {
      let deadlocks = 0;
      for (let k = 0; k < 20 && deadlocks === 0; k++) {
        h.reset();
        try {
          await h.run([
            { actor: 2, fn: 'takeMM2' },
            { actor: 3, fn: 'takeM2M' },
          ]);
        } catch (e) {
          expect((e as Error).message).toMatch(/deadlock/);
          deadlocks++;
        }
      }
      expect(deadlocks).toBeGreaterThan(0);
      for (let k = 0; k < 20; k++) {
        h.reset();
        await h.run([
          { actor: 2, fn: 'takeMM2' },
          { actor: 3, fn: 'takeMM2' },
        ]);
      }
    } finally {
      await h.close();
    }
  });
});
