// Main side of controlled mode: run one schedule from a spec, search many (random, PCT, bounded
// exhaustive), replay a token and say where it diverged, and shrink a failing schedule.
import type { Finding } from '../report/report.ts';
import type { Scenario } from '../scenarios/types.ts';
import type { DetectorName, Rig, RunOutcome } from '../system/rig.ts';
import { scenario_ref } from '../scenarios/load.ts';
import { DporSearch } from './dpor.ts';
import { bits } from './state.ts';
import { encode_token, type ScheduleSpec } from './token.ts';

export type SearchStrategy = 'random' | 'pct' | 'dfs';

export interface SearchConfig {
  variant: string;
  scenario: Scenario;
  users: number;
  iterations: number;
  strategy: SearchStrategy;
  depth: number;
  /** schedules to try at most */
  budget: number;
  /** first seed; schedule k uses seed0 + k */
  seed0: number;
  /** DFS: preemption bound */
  bound: number;
  /** DFS: reduce with DPOR (default), or try every alternative within the bound */
  dpor?: boolean;
  hw?: Record<string, unknown>;
  /** scenario parameters */
  params?: Record<string, number | string | boolean>;
  detectors: readonly DetectorName[];
  /** only findings whose id matches count as a failure (all findings still recorded) */
  target?: RegExp;
  stopAtFirst: boolean;
  max_steps?: number;
  progress?: (done: number, found: number) => void;
  /** every finished schedule, as it finishes */
  observe?: (o: RunOutcome, spec: ScheduleSpec) => void;
  /** asked to stop (Ctrl-C) */
  stopped?: () => boolean;
}

export interface FoundFinding {
  finding: Finding;
  token: string;
  schedule: number;
}

export interface SearchResult {
  schedules: number;
  steps: number;
  elapsed_s: number;
  first?: { token: string; outcome: RunOutcome; schedule: number; spec: ScheduleSpec };
  /** every distinct finding seen, with a token that reproduces it */
  found: FoundFinding[];
  /** dfs: every schedule within the bound (up to the reduction) was run */
  exhausted: boolean;
}

export function failing(o: RunOutcome, target?: RegExp): Finding[] {
  return o.report.findings.filter((f) => target === undefined || target.test(f.id));
}

/** Run one schedule exactly as a spec names it. */
export async function run_spec(rig: Rig, scenario: Scenario, spec: ScheduleSpec, detectors: readonly DetectorName[], max_steps?: number): Promise<RunOutcome> {
  return rig.run({
    variant: spec.v,
    scenario,
    users: spec.u,
    seed: spec.seed,
    iterations: spec.it,
    detectors,
    ...(spec.hw !== undefined ? { hw: spec.hw } : {}),
    ...(spec.p !== undefined ? { params: spec.p } : {}),
    sched: {
      strategy: spec.st,
      seed: spec.seed,
      depth: spec.d ?? 3,
      expected: spec.e ?? 2000,
      ...(spec.f !== undefined ? { forced: spec.f } : {}),
      ...(max_steps !== undefined ? { max_steps } : {}),
    },
  });
}

/** The spec of a finished run, with its outcome recorded for replay checks. */
export function recorded(spec: ScheduleSpec, o: RunOutcome): ScheduleSpec {
  return { ...spec, n: o.sched?.steps ?? 0, h: o.sched?.kind_hash ?? 0, c: o.sched?.checks ?? [] };
}

export async function search(rig: Rig, cfg: SearchConfig): Promise<SearchResult> {
  const t0 = performance.now();
  const base = { v: cfg.variant, s: scenario_ref(cfg.scenario), u: cfg.users, it: cfg.iterations, ...(cfg.hw !== undefined ? { hw: cfg.hw } : {}), ...(cfg.params !== undefined ? { p: cfg.params } : {}) };
  const found = new Map<string, FoundFinding>();
  let first: SearchResult['first'];
  let exhausted = false;
  let schedules = 0;
  let steps = 0;
  // PCT spreads its change points over the expected number of steps: measure it once.
  let expected = 2000;
  if (cfg.strategy === 'pct') {
    const cal = await run_spec(rig, cfg.scenario, { ...base, st: 'random', seed: cfg.seed0 ^ 0x7f4a7c15 }, [], cfg.max_steps);
    expected = Math.max(16, cal.sched?.steps ?? 2000);
  }
  const dfsStack: number[][] = [[]];
  const dpor = cfg.strategy === 'dfs' && cfg.dpor !== false ? new DporSearch(cfg.bound) : null;
  for (let k = 0; k < cfg.budget; k++) {
    if (cfg.stopped?.() === true) break;
    let spec: ScheduleSpec;
    if (dpor !== null) {
      const prefix = k === 0 ? [] : dpor.next();
      if (prefix === null) {
        exhausted = true; // every backtrack choice within the bound was explored
        break;
      }
      spec = { ...base, st: 'prefix', seed: cfg.seed0, f: prefix };
    } else if (cfg.strategy === 'dfs') {
      const prefix = dfsStack.pop();
      if (prefix === undefined) {
        exhausted = true; // every schedule within the bound was explored
        break;
      }
      spec = { ...base, st: 'prefix', seed: cfg.seed0, f: prefix };
    } else spec = { ...base, st: cfg.strategy, seed: (cfg.seed0 + k) >>> 0, d: cfg.depth, e: expected };
    const out = await run_spec(rig, cfg.scenario, spec, cfg.detectors, cfg.max_steps);
    schedules++;
    steps += out.sched?.steps ?? 0;
    cfg.observe?.(out, spec);
    if (dpor !== null) dpor.record(out.sched?.decisions ?? []);
    else if (cfg.strategy === 'dfs') expand(dfsStack, out, spec.f ?? [], cfg.bound);
    const rec = recorded(spec, out);
    for (const f of out.report.findings) {
      const key = `${f.kind}:${f.id}`;
      if (!found.has(key)) found.set(key, { finding: f, token: encode_token(rec), schedule: k });
    }
    if (first === undefined && failing(out, cfg.target).length > 0) {
      first = { token: encode_token(rec), outcome: out, schedule: k, spec: rec };
      if (cfg.stopAtFirst) break;
    }
    cfg.progress?.(schedules, found.size);
  }
  if (dpor !== null && !exhausted && first === undefined && schedules === cfg.budget) exhausted = dpor.next() === null;
  return { schedules, steps, elapsed_s: (performance.now() - t0) / 1000, found: [...found.values()], exhausted, ...(first !== undefined ? { first } : {}) };
}

/** Bounded exhaustive search: push every alternative at each decision past the prefix, within the preemption bound. */
function expand(stack: number[][], out: RunOutcome, prefix: readonly number[], bound: number): void {
  const ds = out.sched?.decisions ?? [];
  const picks = ds.map((d) => d.pick);
  let pre = 0;
  for (let i = 0; i < ds.length; i++) {
    const d = ds[i]!;
    const preempting = (alt: number): boolean => d.cur !== 0xff && alt !== d.cur && (d.mask & (1 << d.cur)) !== 0;
    if (i >= prefix.length) {
      for (const alt of bits(d.mask)) {
        if (alt === d.pick) continue;
        if (pre + (preempting(alt) ? 1 : 0) > bound) continue;
        stack.push([...picks.slice(0, i), alt]);
      }
    }
    if (preempting(d.pick)) pre++;
  }
}

export interface ReplayCheck {
  ok: boolean;
  message: string;
}

/** Compare a replayed run with what the token recorded. */
export function check_replay(spec: ScheduleSpec, o: RunOutcome): ReplayCheck {
  const n = o.sched?.steps ?? 0;
  const h = o.sched?.kind_hash ?? 0;
  if (spec.n === undefined) return { ok: true, message: 'no recorded outcome to compare' };
  if (n === spec.n && h === spec.h) return { ok: true, message: `replayed ${n} steps, every step's kind as recorded` };
  const c = o.sched?.checks ?? [];
  const rc = spec.c ?? [];
  let k = 0;
  while (k < rc.length && k < c.length && rc[k] === c[k]) k++;
  const lo = k === 0 ? 0 : 2 ** (k + 3);
  const hi = 2 ** (k + 4);
  return { ok: false, message: `the run diverged from the recorded one between step ${lo} and step ${Math.min(hi, Math.max(n, spec.n))} (recorded ${spec.n} steps, replayed ${n})` };
}

/**
 * Shrink a failing schedule: keep its choices up to a point and let the non-preemptive default
 * run the rest, cutting at the latest preemption that still reproduces the failure; then try to
 * drop earlier preemptions one by one. Returns the smallest failing spec found.
 */
export async function shrink(rig: Rig, scenario: Scenario, spec: ScheduleSpec, o: RunOutcome, id: string, detectors: readonly DetectorName[], maxRuns = 60): Promise<{ spec: ScheduleSpec; outcome: RunOutcome; runs: number }> {
  const fails = (x: RunOutcome): boolean => x.sched?.abort !== 'diverged' && x.report.findings.some((f) => f.id === id);
  let best: { spec: ScheduleSpec; outcome: RunOutcome } = { spec: { ...spec, st: 'prefix', f: (o.sched?.decisions ?? []).map((d) => d.pick) }, outcome: o };
  let runs = 0;
  const preemptions = (x: RunOutcome): number[] => (x.sched?.decisions ?? []).flatMap((d, i) => (d.cur !== 0xff && d.pick !== d.cur && (d.mask & (1 << d.cur)) !== 0 ? [i] : []));
  // 1. Cut the tail: the shortest forced prefix that still fails.
  for (const i of [...preemptions(best.outcome)].reverse()) {
    if (runs >= maxRuns) break;
    const cand: ScheduleSpec = { ...best.spec, f: (best.spec.f ?? []).slice(0, i) };
    const r = await run_spec(rig, scenario, cand, detectors);
    runs++;
    if (fails(r)) best = { spec: cand, outcome: r };
  }
  // 2. Drop single preemptions inside the prefix: run the preempted actor on instead.
  for (const i of preemptions(best.outcome).filter((i) => i < (best.spec.f?.length ?? 0))) {
    if (runs >= maxRuns) break;
    const d = best.outcome.sched!.decisions[i]!;
    const cand: ScheduleSpec = { ...best.spec, f: [...(best.spec.f ?? []).slice(0, i), d.cur] };
    const r = await run_spec(rig, scenario, cand, detectors);
    runs++;
    if (fails(r) && preemptions(r).length < preemptions(best.outcome).length) best = { spec: cand, outcome: r };
  }
  return { spec: recorded(best.spec, best.outcome), outcome: best.outcome, runs };
}
