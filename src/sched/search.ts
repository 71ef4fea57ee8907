// Main side of controlled mode: run one schedule from a spec, search many (one loop over an
// explorer: ./explore), replay a token and say where it diverged, and shrink a failing schedule.
import type { Finding } from '../report/report.ts';
import { target_run, type TargetRun } from '../report/orders.ts';
import type { Scenario } from '../scenarios/types.ts';
import type { DetectorName, Rig, RunOutcome } from '../system/rig.ts';
import { scenario_ref } from '../scenarios/load.ts';
import { variant_by_name } from '../variants/index.ts';
import { explorer_for, SEARCHES, type Search } from './explore/index.ts';
import { run_config, type SearchPlan } from './plan.ts';
import { default_pick } from './strategy.ts';
import { encode_token, type ScheduleSpec } from './token.ts';

/** What the caller of a search hears while it runs. */
export interface SearchHooks {
  /** after every schedule: schedules run, distinct findings seen */
  progress?: (done: number, found: number) => void;
  /** every finished schedule, as it finishes */
  observe?: (o: RunOutcome, spec: ScheduleSpec) => void;
  /** asked to stop (Ctrl-C) */
  stopped?: () => boolean;
  /** the searches to choose the plan's from (default: ./explore's list) */
  searches?: readonly Search[];
  /** coverage of every schedule (not the calibration runs) is added into this buffer */
  coverage?: SharedArrayBuffer;
  /** the last schedule index the caller still wants run (a portfolio's first failure + plan.more) */
  last?: () => number;
  /** this search met its target first at this schedule */
  first_found?: (schedule: number) => void;
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
  /** the explorer had no schedule left: its whole space (within its bound, up to its reduction) was run */
  exhausted: boolean;
  /** with a target: every schedule's target findings, in their function-level interleaving */
  target_runs: TargetRun[];
}

export function failing(o: RunOutcome, target?: RegExp): Finding[] {
  return o.report.findings.filter((f) => target === undefined || target.test(f.id));
}

/** Run one schedule exactly as a spec names it. */
export async function run_spec(rig: Rig, scenario: Scenario, spec: ScheduleSpec, detectors: readonly DetectorName[], max_steps?: number, coverage?: SharedArrayBuffer): Promise<RunOutcome> {
  return rig.run(run_config(spec, scenario, detectors, max_steps, coverage));
}

/** The spec of a finished run, with its outcome recorded for replay checks. */
export function recorded(spec: ScheduleSpec, o: RunOutcome): ScheduleSpec {
  return { ...spec, n: o.sched?.steps ?? 0, h: o.sched?.kind_hash ?? 0, c: o.sched?.checks ?? [] };
}

/** What every schedule of a plan has in its token besides the schedule itself. */
function token_base(plan: SearchPlan, scenario: Scenario, devices: number): Omit<ScheduleSpec, 'st' | 'seed'> {
  // a user's variant file: the token also records the hash of the file's content
  const vh = variant_by_name(plan.variant)?.hash;
  return { v: plan.variant, ...(vh !== undefined ? { vh } : {}), s: scenario_ref(scenario), u: plan.users, it: plan.iterations, ...(plan.hw !== undefined ? { hw: plan.hw } : {}), ...(plan.params !== undefined ? { p: plan.params } : {}), ...(devices > 1 ? { nd: devices } : {}), ...(plan.fault !== undefined ? { fl: plan.fault } : {}) };
}

/** Run the plan's explorer until its budget, its space or the caller ends the search. */
export async function search(rig: Rig, scenario: Scenario, plan: SearchPlan, on: SearchHooks = {}): Promise<SearchResult> {
  const t0 = performance.now();
  const explorer = explorer_for(plan, on.searches ?? SEARCHES);
  const base = token_base(plan, scenario, rig.devices);
  const target = plan.target !== undefined ? new RegExp(plan.target) : undefined;
  const found = new Map<string, FoundFinding>();
  let first: SearchResult['first'];
  let exhausted = false;
  let schedules = 0;
  let steps = 0;
  const target_runs: TargetRun[] = [];
  // stop at the first failure, or (plan.more) that many schedules after it
  const last = (): number => Math.min(on.last?.() ?? Infinity, first === undefined || !plan.stop_at_first ? Infinity : first.schedule + (plan.more ?? 0));
  while (schedules < plan.budget && on.stopped?.() !== true && schedules <= last()) {
    const next = explorer.next();
    if (next === null) {
      exhausted = true;
      break;
    }
    const { probe, ...schedule } = next;
    const spec: ScheduleSpec = { ...base, ...schedule };
    const out = await run_spec(rig, scenario, spec, probe === true ? [] : plan.detectors, plan.max_steps, probe === true ? undefined : on.coverage);
    explorer.record(out);
    if (probe === true) continue;
    const k = schedules++;
    steps += out.sched?.steps ?? 0;
    on.observe?.(out, spec);
    const rec = recorded(spec, out);
    for (const f of out.report.findings) {
      const key = f.signature ?? `${f.kind}:${f.id}`;
      if (!found.has(key)) found.set(key, { finding: f, token: encode_token(rec), schedule: k });
    }
    const hit = failing(out, target);
    if (target !== undefined && hit.length > 0) {
      const token = encode_token(rec);
      for (const f of hit) {
        const r = target_run(f, k, token);
        if (r !== null) target_runs.push(r);
      }
    }
    if (first === undefined && hit.length > 0) {
      first = { token: encode_token(rec), outcome: out, schedule: k, spec: rec };
      on.first_found?.(k);
    }
    on.progress?.(schedules, found.size);
  }
  // the budget ran out on the last schedule there was
  if (!exhausted && first === undefined && schedules === plan.budget) exhausted = explorer.next() === null;
  return { schedules, steps, elapsed_s: (performance.now() - t0) / 1000, found: [...found.values()], exhausted, target_runs, ...(first !== undefined ? { first } : {}) };
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
  for (const [k, d] of (o.sched?.decisions ?? []).entries()) if (d.pick !== default_pick(d.cur, d.mask, d.kind)) choices.push([k, d.pick]);
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
