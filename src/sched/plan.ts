// The search plan: what one search runs and how it searches, with its defaults, from the command
// line to a run. The command line builds a portfolio, `entries` cuts it into one plan per job, a
// job carries its plan and the portfolio's shared slots, and `run_config` turns one schedule of a
// plan (as its replay token names it) into the config of that run.
import type { Scenario } from '../scenarios/types.ts';
import type { DetectorName, RunConfig } from '../system/rig.ts';
import type { ScheduleSpec } from './token.ts';
import type { FaultConfig } from '../kernel/fault.ts';

/** What a bounded search counts: preemptions, or every departure from the default scheduler (delay bounding). */
export type BoundBy = 'preemptions' | 'delays';

/** Every default of a search, once. */
export const DEFAULTS = {
  /** PCT: the bug depth it targets (d - 1 change points) */
  depth: 3,
  /** PCT: steps the change points are spread over, before a calibration run measured them */
  expected: 2000,
  /** dfs: the bound, on preemptions unless bound_by says delays */
  bound: 2,
  bound_by: 'preemptions' as BoundBy,
  /** dfs: partial-order reduction */
  dpor: true,
  /** I/O cycles per schedule, for looping scenarios */
  iterations: 2,
  users: 1,
  budget: 1000,
  /** seed streams per search and variant */
  seeds: 2,
  seed: 1,
} as const;

/** One search: a job's whole plan. Plain data: it crosses to a piscina thread as it is. */
export interface SearchPlan {
  variant: string;
  /** scenario id, or a file path for a user's own scenario */
  scenario: string;
  users: number;
  iterations: number;
  /** the explorer (src/sched/explore): random, pct, dfs, dpor, ... */
  search: string;
  /** first seed; schedule k of a seeded search uses seed0 + k */
  seed0: number;
  /** schedules to run at most */
  budget: number;
  depth: number;
  bound: number;
  bound_by: BoundBy;
  /** dfs: reduce with DPOR (the dpor explorer), or try every alternative within the bound */
  dpor: boolean;
  /** machine overrides on top of the scenario's (recorded in every token) */
  hw?: Record<string, unknown>;
  /** scenario parameters */
  params?: Record<string, number | string | boolean>;
  detectors: readonly DetectorName[];
  /** only findings whose id matches this regular expression count as the failure (all are recorded) */
  target?: string;
  stop_at_first: boolean;
  /** with stop_at_first: schedules still run after the first failure (the target's other orders) */
  more?: number;
  max_steps?: number;
  /** fault injection in every schedule (--fail-nth, --fail-rate; kept in the tokens) */
  fault?: FaultConfig;
}

/** A plan with the defaults filled in for what is not given. */
export function plan(p: Pick<SearchPlan, 'variant' | 'scenario' | 'search'> & Partial<SearchPlan>): SearchPlan {
  return {
    users: DEFAULTS.users,
    iterations: DEFAULTS.iterations,
    seed0: DEFAULTS.seed,
    budget: DEFAULTS.budget,
    depth: DEFAULTS.depth,
    bound: DEFAULTS.bound,
    bound_by: DEFAULTS.bound_by,
    dpor: DEFAULTS.dpor,
    detectors: [],
    stop_at_first: false,
    ...p,
  };
}

/** What the command line asks for: searches x variants x seed streams over its scenarios, one budget for all. */
export interface Portfolio {
  variants: string[];
  /** several scenarios (race --scenario S1,S2); absent: common.scenario alone */
  scenarios?: string[];
  searches: string[];
  seeds: number;
  seed: number;
  budget: number;
  /** everything else, the same in every entry */
  common: Omit<SearchPlan, 'variant' | 'search' | 'seed0' | 'budget'>;
}

/** Seed streams are disjoint ranges of schedule seeds. */
const STREAM = 1_000_003;

/** The scenarios a portfolio searches, in the order given. */
export const portfolio_scenarios = (p: Portfolio): string[] => p.scenarios ?? [p.common.scenario];

/** One (scenario, variant) pair of a portfolio. */
export interface Pair {
  scenario: string;
  variant: string;
}

/** Every scenario with every variant, scenario by scenario. */
export const all_pairs = (p: Portfolio): Pair[] => portfolio_scenarios(p).flatMap((scenario) => p.variants.map((variant) => ({ scenario, variant })));

/** The budget of each entry: the portfolio's, split evenly over its entries (`pairs`: the (scenario, variant) pairs searched). */
export const entry_budget = (p: Portfolio, pairs = all_pairs(p).length): number => Math.max(1, Math.ceil(p.budget / (p.seeds * p.searches.length * Math.max(1, pairs))));

/** One plan per (scenario, variant, search, seed stream), in that order, over `pairs` (those where the scenario applies). */
export function entries(p: Portfolio, pairs: readonly Pair[] = all_pairs(p)): SearchPlan[] {
  const budget = entry_budget(p, pairs.length);
  const out: SearchPlan[] = [];
  for (const { scenario, variant } of pairs)
    for (const search of p.searches)
      for (let s = 0; s < p.seeds; s++) out.push({ ...p.common, scenario, variant, search, budget, seed0: (p.seed + s * STREAM) >>> 0 });
  return out;
}

/**
 * The words every job of one portfolio shares (one SharedArrayBuffer of Int32), named as piscina
 * names the fields of its own shared buffer (kRequestCountField, ..., kFieldCount).
 */
export const kStopField = 0; // non-zero: every job stops before its next schedule
export const kSchedulesField = 1; // schedules run, all jobs
export const kFailuresField = 2; // jobs that found a failure
export const kFirstField = 3; // 1 + the lowest schedule index any job failed at (0: none yet)
export const kFieldCount = 4;

export const job_slots = (): SharedArrayBuffer => new SharedArrayBuffer(kFieldCount * Int32Array.BYTES_PER_ELEMENT);

/** One job: a plan and the slots of its portfolio. */
export interface Job {
  plan: SearchPlan;
  slots: SharedArrayBuffer;
  /** the user workers this thread's rig starts with, when more than the plan's (a matrix: its largest scenario, so no later job restarts it) */
  rig_users?: number;
  /** subchannels in every run (1 when absent) */
  devices?: number;
  /** coverage of every schedule of every job (shared memory: the search threads add into it) */
  coverage?: SharedArrayBuffer;
}

/** The config of one controlled run: the schedule a token names, with these detectors. */
export function run_config(spec: ScheduleSpec, scenario: Scenario, detectors: readonly DetectorName[], max_steps?: number, coverage?: SharedArrayBuffer): RunConfig {
  return {
    variant: spec.v,
    scenario,
    users: spec.u,
    seed: spec.seed,
    iterations: spec.it,
    detectors,
    ...(spec.hw !== undefined ? { hw: spec.hw } : {}),
    ...(spec.p !== undefined ? { params: spec.p } : {}),
    ...(spec.nd !== undefined ? { devices: spec.nd } : {}),
    ...(spec.fl !== undefined ? { fault: spec.fl } : {}),
    ...(coverage !== undefined ? { coverage } : {}),
    sched: {
      strategy: spec.st,
      seed: spec.seed,
      depth: spec.d ?? DEFAULTS.depth,
      expected: spec.e ?? DEFAULTS.expected,
      ...(spec.f !== undefined ? { forced: spec.f } : {}),
      ...(max_steps !== undefined ? { max_steps } : {}),
    },
  };
}
