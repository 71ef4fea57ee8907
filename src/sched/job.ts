// One search job of a portfolio (seeds x strategies x variants), run in a piscina worker: its own
// long-lived actor workers, a shared stop flag and progress counters.
import type { BoundBy } from './dpor.ts';
import { Rig } from '../system/rig.ts';
import type { DetectorName } from '../system/rig.ts';
import type { Finding, Report } from '../report/report.ts';
import { load_scenario } from '../scenarios/load.ts';
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
  first?: { token: string; report: Report; schedule: number; trace: string[] };
  found: { finding: Finding; token: string; schedule: number }[];
}

export async function search_job(a: JobArgs): Promise<JobResult> {
  const sh = new Int32Array(a.shared);
  const scenario = await load_scenario(a.scenario);
  // A scenario's roles need its minimum of users (S9's CRW producer, S11's vfio core removing the
  // mdev): with fewer, a user waits for a peer that never runs and the schedule only ends at the
  // step bound, a livelock no kernel shows. As stress does, the scenario's minimum wins.
  const users = Math.max(a.users, scenario.users.min);
  const rig = await Rig.start(users, [scenario.module]);
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
      found: r.found,
      ...(r.first !== undefined ? { first: { token: r.first.token, report: r.first.outcome.report, schedule: r.first.schedule, trace: [] } } : {}),
    };
  } finally {
    await rig.close();
  }
}
