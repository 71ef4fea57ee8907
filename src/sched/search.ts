// Main side of controlled mode: run one schedule from a spec, search many (random, PCT, bounded
// exhaustive), replay a token and say where it diverged, and shrink a failing schedule.
import type { FaultConfig } from '../kernel/fault.ts';
import type { Finding } from '../report/report.ts';
import type { Scenario } from '../scenarios/types.ts';
import type { DetectorName, Rig, RunOutcome } from '../system/rig.ts';
import { scenario_ref } from '../scenarios/load.ts';
import { variant_by_name } from '../variants/index.ts';
import { DporSearch, bound_cost, type BoundBy } from './dpor.ts';
import { bits } from './state.ts';
import { default_pick } from './strategy.ts';
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
  /** DFS: the bound, on preemptions (default) or on delays (departures from the default scheduler) */
  bound: number;
  bound_by?: BoundBy;
  /** DFS: reduce with DPOR (default), or try every alternative within the bound */
  dpor?: boolean;
  hw?: Record<string, unknown>;
  /** scenario parameters */
  params?: Record<string, number | string | boolean>;
  /** fault injection in every schedule (kept in the tokens) */
  fault?: FaultConfig;
  /** coverage of every schedule, added into this buffer */
  coverage?: SharedArrayBuffer;
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
export async function run_spec(rig: Rig, scenario: Scenario, spec: ScheduleSpec, detectors: readonly DetectorName[], max_steps?: number, coverage?: SharedArrayBuffer): Promise<RunOutcome> {
  return rig.run({
    variant: spec.v,
    scenario,
    users: spec.u,
    seed: spec.seed,
    iterations: spec.it,
    detectors,
    ...(spec.hw !== undefined ? { hw: spec.hw } : {}),
    ...(spec.p !== undefined ? { params: spec.p } : {}),
    ...(spec.fl !== undefined ? { fault: spec.fl } : {}),
    ...(coverage !== undefined ? { coverage } : {}),
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
  // a user's variant file: the token also records the hash of the file's content
  const vh = variant_by_name(cfg.variant)?.hash;
  const base = { v: cfg.variant, ...(vh !== undefined ? { vh } : {}), s: scenario_ref(cfg.scenario), u: cfg.users, it: cfg.iterations, ...(cfg.hw !== undefined ? { hw: cfg.hw } : {}), ...(cfg.params !== undefined ? { p: cfg.params } : {}), ...(cfg.fault !== undefined ? { fl: cfg.fault } : {}) };
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
  const dpor = cfg.strategy === 'dfs' && cfg.dpor !== false ? new DporSearch(cfg.bound, cfg.bound_by) : null;
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
    const out = await run_spec(rig, cfg.scenario, spec, cfg.detectors, cfg.max_steps, cfg.coverage);
    schedules++;
    steps += out.sched?.steps ?? 0;
    cfg.observe?.(out, spec);
    if (dpor !== null) dpor.record(out.sched?.decisions ?? []);
    else if (cfg.strategy === 'dfs') expand(dfsStack, out, spec.f ?? [], cfg.bound, cfg.bound_by ?? 'preemptions');
    const rec = recorded(spec, out);
    for (const f of out.report.findings) {
      const key = f.signature ?? `${f.kind}:${f.id}`;
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

/** Bounded exhaustive search: push every alternative at each decision past the prefix, within the bound. */
function expand(stack: number[][], out: RunOutcome, prefix: readonly number[], bound: number, by: BoundBy): void {
  const ds = out.sched?.decisions ?? [];
  const picks = ds.map((d) => d.pick);
  let spent = 0;
  for (let i = 0; i < ds.length; i++) {
    const d = ds[i]!;
    if (i >= prefix.length) {
      for (const alt of bits(d.mask)) {
        if (alt === d.pick || spent + bound_cost(d, alt, by) > bound) continue;
        stack.push([...picks.slice(0, i), alt]);
      }
    }
    spent += bound_cost(d, d.pick, by);
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
 * Shrink a failing schedule. A schedule is the non-preemptive default plus the choices where the
 * run departed from it (decision index, actor); delta debugging (ddmin) drops as many of those
 * choices as it can while the same finding still appears. Dropping a choice never makes a run
 * diverge (the sparse strategy skips a choice whose actor cannot run), so every candidate runs.
 * Candidates run without the tracer; the result is run once more with the caller's detectors.
 */
export async function shrink(rig: Rig, scenario: Scenario, spec: ScheduleSpec, o: RunOutcome, id: string, detectors: readonly DetectorName[], maxRuns = 3000): Promise<{ spec: ScheduleSpec; outcome: RunOutcome; runs: number }> {
  const quiet = detectors.filter((d) => d !== 'trace');
  let runs = 0;
  // a bound in wall time too: a long scenario makes every candidate slow
  const until = performance.now() + 30_000;
  const budget = (): boolean => runs < maxRuns && performance.now() < until;
  const sparse = (pairs: readonly number[]): ScheduleSpec => {
    const out: ScheduleSpec = { ...spec, st: 'sparse', f: [...pairs] };
    delete out.n;
    delete out.h;
    delete out.c;
    return out;
  };
  const fails = async (pairs: readonly number[]): Promise<boolean> => {
    runs++;
    const r = await run_spec(rig, scenario, sparse(pairs), quiet);
    return r.sched?.abort !== 'diverged' && r.report.findings.some((f) => f.id === id);
  };
  // The departures from the default policy, as (decision, actor) pairs.
  let choices: [number, number][] = [];
  for (const [k, d] of (o.sched?.decisions ?? []).entries()) if (d.pick !== default_pick(d.cur === 0xff ? -1 : d.cur, d.mask, d.kind)) choices.push([k, d.pick]);
  const flat = (cs: readonly [number, number][]): number[] => cs.flat();
  if (await fails(flat(choices))) {
    // ddmin over the choices: try to keep only one chunk, then to drop one chunk, at finer and finer grain.
    let n = 2;
    while (choices.length >= 2 && budget()) {
      const size = Math.ceil(choices.length / n);
      const chunks = Array.from({ length: Math.ceil(choices.length / size) }, (_, k) => choices.slice(k * size, (k + 1) * size));
      let next: [number, number][] | null = null;
      for (const c of chunks) {
        if (!budget()) break;
        if (await fails(flat(c))) {
          next = c;
          n = 2;
          break;
        }
      }
      if (next === null) {
        for (let k = 0; k < chunks.length && budget(); k++) {
          const rest = chunks.filter((_, j) => j !== k).flat();
          if (await fails(flat(rest))) {
            next = rest;
            n = Math.max(n - 1, 2);
            break;
          }
        }
      }
      if (next !== null) choices = next;
      else if (n >= choices.length) break;
      else n = Math.min(2 * n, choices.length);
    }
    if (choices.length === 1 && budget() && (await fails([]))) choices = [];
  } else {
    // Not reproducible from its departures alone (it should be): keep the full schedule.
    const outcome = await run_spec(rig, scenario, spec, detectors);
    return { spec: recorded(spec, outcome), outcome, runs: runs + 1 };
  }
  const best = sparse(flat(choices));
  const outcome = await run_spec(rig, scenario, best, detectors);
  return { spec: recorded(best, outcome), outcome, runs: runs + 1 };
}
