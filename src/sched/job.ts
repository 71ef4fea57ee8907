// One search job of a portfolio (seeds x strategies x variants), run in a piscina worker: its own
// long-lived actor workers, a shared stop flag and progress counters.
import type { BoundBy } from './dpor.ts';
import type { FaultConfig } from '../kernel/fault.ts';
import { Rig } from '../system/rig.ts';
import type { DetectorName } from '../system/rig.ts';
import type { Finding, Report } from '../report/report.ts';
import { load_scenario } from '../scenarios/load.ts';
import { load_variant, user_variant_modules } from '../variants/load.ts';
import { search, type SearchStrategy } from './search.ts';

export interface JobArgs {
  variant: string;
  scenario: string;
  users: number;
  iterations: number;
  strategy: SearchStrategy;
  depth: number;
  budget: number;
  seed0: number;
  bound: number;
  /** dfs: partial-order reduction (default on) */
  dpor?: boolean;
  /** dfs: what the bound counts */
  bound_by?: BoundBy;
  detectors: DetectorName[];
  target?: string;
  max_steps?: number;
  hw?: Record<string, unknown>;
  fault?: FaultConfig;
  /** coverage of every schedule of every job (shared memory: piscina threads add into it) */
  coverage?: SharedArrayBuffer;
  /** [0] stop flag, [1] schedules done (all jobs), [2] failures found (all jobs) */
  shared: SharedArrayBuffer;
  stopAtFirst: boolean;
}

export interface JobResult {
  variant: string;
  strategy: SearchStrategy;
  seed0: number;
  schedules: number;
  steps: number;
  elapsed_s: number;
  /** dfs: the whole bounded space was explored */
  exhausted: boolean;
  /** actor worker threads this job had to start (0 when it reused its thread's rig) */
  threads_started: number;
  first?: { token: string; report: Report; schedule: number; trace: string[] };
  found: { finding: Finding; token: string; schedule: number }[];
}

// The rig of this piscina thread, kept across its jobs: a change of variant, strategy, seed or
// scenario reuses its actor workers (shared memory is reset between runs); only a job with more
// users than it has starts a new one.
let kept: Rig | null = null;

let kept_mods = new Set<string>();

async function rig_for(users: number, module: string): Promise<{ rig: Rig; started: number }> {
  // the actors preload the scenario's module and every user variant file loaded so far
  const mods = [module, ...user_variant_modules()];
  if (kept !== null && !kept.dead && kept.users >= users && mods.every((m) => kept_mods.has(m))) {
    // a graph per job, as with a rig of its own
    kept.reset_lockdep();
    return { rig: kept, started: 0 };
  }
  const old = kept;
  kept = null;
  await old?.close();
  kept = await Rig.start(users, [module]);
  kept_mods = new Set(mods);
  return { rig: kept, started: kept.pool.actors.length };
}

/** Close the kept rig (a search on main's thread; a piscina thread's goes with the thread). */
export async function release_rig(): Promise<void> {
  const r = kept;
  kept = null;
  await r?.close();
}

export async function search_job(a: JobArgs): Promise<JobResult> {
  const sh = new Int32Array(a.shared);
  const scenario = await load_scenario(a.scenario);
  await load_variant(a.variant, { check: false }); // a user's file: main type-checked it
  // A scenario's roles need its minimum of users (S9's CRW producer, S11's vfio core removing the
  // mdev): with fewer, a user waits for a peer that never runs and the schedule only ends at the
  // step bound, a livelock no kernel shows. As stress does, the scenario's minimum wins.
  const users = Math.max(a.users, scenario.users.min);
  const { rig, started } = await rig_for(users, scenario.module);
  try {
    const r = await search(rig, {
      variant: a.variant,
      scenario,
      users,
      iterations: a.iterations,
      strategy: a.strategy,
      depth: a.depth,
      budget: a.budget,
      seed0: a.seed0,
      bound: a.bound,
      ...(a.dpor !== undefined ? { dpor: a.dpor } : {}),
      ...(a.bound_by !== undefined ? { bound_by: a.bound_by } : {}),
      detectors: a.detectors,
      stopAtFirst: a.stopAtFirst,
      ...(a.hw !== undefined ? { hw: a.hw } : {}),
      ...(a.fault !== undefined ? { fault: a.fault } : {}),
      ...(a.coverage !== undefined ? { coverage: a.coverage } : {}),
      ...(a.target !== undefined ? { target: new RegExp(a.target) } : {}),
      ...(a.max_steps !== undefined ? { max_steps: a.max_steps } : {}),
      stopped: () => Atomics.load(sh, 0) !== 0,
      progress: () => {
        Atomics.add(sh, 1, 1);
      },
    });
    if (r.first !== undefined) {
      Atomics.add(sh, 2, 1);
      if (a.stopAtFirst) Atomics.store(sh, 0, 1);
    }
    return {
      variant: a.variant,
      strategy: a.strategy,
      seed0: a.seed0,
      schedules: r.schedules,
      steps: r.steps,
      elapsed_s: r.elapsed_s,
      exhausted: r.exhausted,
      threads_started: started,
      found: r.found,
      ...(r.first !== undefined ? { first: { token: r.first.token, report: r.first.outcome.report, schedule: r.first.schedule, trace: [] } } : {}),
    };
  } catch (e) {
    // a job that failed leaves no rig behind in an unknown state
    if (kept === rig) kept = null;
    await rig.close();
    throw e;
  }
}
