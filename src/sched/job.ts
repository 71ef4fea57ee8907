// One search job of a portfolio (seeds x searches x variants), run in a piscina worker: its own
// long-lived actor workers, and the portfolio's shared slots (stop, progress).
import { Rig } from '../system/rig.ts';
import type { Finding, Report } from '../report/report.ts';
import type { TargetRun } from '../report/orders.ts';
import { load_scenario } from '../scenarios/load.ts';
import { load_variant, user_variant_modules } from '../variants/load.ts';
import { kFailuresField, kFirstField, kSchedulesField, kStopField, type Job, type SearchPlan } from './plan.ts';
import { search } from './search.ts';

export interface JobResult {
  plan: SearchPlan;
  schedules: number;
  steps: number;
  elapsed_s: number;
  /** the explorer's whole space was run */
  exhausted: boolean;
  /** actor worker threads this job had to start (0 when it reused its thread's rig) */
  threads_started: number;
  first?: { token: string; report: Report; schedule: number };
  found: { finding: Finding; token: string; schedule: number }[];
  /** with a target: its findings, schedule by schedule, in their function-level interleaving */
  target_runs: TargetRun[];
}

/** Lower the portfolio's first failing schedule to k (slot holds 1 + k, 0 for none). */
export function lower_first(sh: Int32Array, k: number): void {
  for (let cur = Atomics.load(sh, kFirstField); cur === 0 || cur > k + 1; cur = Atomics.load(sh, kFirstField)) {
    if (Atomics.compareExchange(sh, kFirstField, cur, k + 1) === cur) return;
  }
}

/**
 * With plan.more, every job runs up to the portfolio's first failing schedule + more, whichever
 * job failed first and however fast the jobs ran: which schedules are reported depends on the
 * seeds alone (a job that ran past the bound before it heard of the failure is cut back by race).
 */
export function portfolio_last(sh: Int32Array, more: number): number {
  const f = Atomics.load(sh, kFirstField);
  return f === 0 ? Infinity : f - 1 + more;
}

// The rig of this piscina thread, kept across its jobs: a change of variant, strategy, seed or
// scenario reuses its actor workers (shared memory is reset between runs; a new scenario's module
// is loaded into them); only a job with more users than it has starts a new one.
let kept: Rig | null = null;

let kept_mods = new Set<string>();

async function rig_for(users: number, module: string, rig_users: number, devices: number): Promise<{ rig: Rig; started: number }> {
  // the actors preload the scenario's module and every user variant file loaded so far
  const mods = [module, ...user_variant_modules()];
  if (kept !== null && !kept.dead && kept.users >= users && kept.devices === devices) {
    const missing = mods.filter((m) => !kept_mods.has(m));
    if (missing.length > 0) {
      await kept.preload(missing);
      for (const m of missing) kept_mods.add(m);
    }
    // a graph per job, as with a rig of its own
    kept.reset_lockdep();
    return { rig: kept, started: 0 };
  }
  const old = kept;
  kept = null;
  await old?.close();
  kept = await Rig.start(Math.max(users, rig_users), [module], devices);
  kept_mods = new Set(mods);
  return { rig: kept, started: kept.pool.actors.length };
}

/** Close the kept rig (a search on main's thread; a piscina thread's goes with the thread). */
export async function release_rig(): Promise<void> {
  const r = kept;
  kept = null;
  await r?.close();
}

export async function search_job({ plan, slots, rig_users, devices, coverage }: Job): Promise<JobResult> {
  const sh = new Int32Array(slots);
  const scenario = await load_scenario(plan.scenario);
  await load_variant(plan.variant, { check: false }); // a user's file: main type-checked it
  // A scenario's roles need its minimum of users (S9's CRW producer, S11's vfio core removing the
  // mdev): with fewer, a user waits for a peer that never runs and the schedule only ends at the
  // step bound, a livelock no kernel shows. As stress does, the scenario's minimum wins.
  const users = Math.max(plan.users, scenario.users.min);
  const { rig, started } = await rig_for(users, scenario.module, rig_users ?? users, devices ?? 1);
  try {
    const more = plan.stop_at_first ? plan.more : undefined;
    const r = await search(rig, scenario, { ...plan, users }, {
      stopped: () => Atomics.load(sh, kStopField) !== 0,
      progress: () => void Atomics.add(sh, kSchedulesField, 1),
      ...(coverage !== undefined ? { coverage } : {}),
      ...(more !== undefined ? { last: () => portfolio_last(sh, more), first_found: (k: number) => lower_first(sh, k) } : {}),
    });
    if (r.first !== undefined) {
      Atomics.add(sh, kFailuresField, 1);
      if (plan.stop_at_first && more === undefined) Atomics.store(sh, kStopField, 1);
    }
    const { first, found, schedules, steps, elapsed_s, exhausted, target_runs } = r;
    return { plan, schedules, steps, elapsed_s, exhausted, threads_started: started, found, target_runs, ...(first !== undefined ? { first: { token: first.token, report: first.outcome.report, schedule: first.schedule } } : {}) };
  } catch (e) {
    // a job that failed leaves no rig behind in an unknown state
    if (kept === rig) kept = null;
    await rig.close();
    throw e;
  }
}
