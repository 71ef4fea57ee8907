// vfio-ccw-sim race: search schedules in controlled mode, a portfolio of (variant, strategy, seed
// stream) jobs on piscina across cores; stop at the first failure, print its report and token.
import { writeFileSync } from 'node:fs';
import cliProgress from 'cli-progress';
import { Piscina } from 'piscina';
import type { JobResult } from '../src/sched/job.ts';
import { all_pairs, entries, entry_budget, job_slots, kFailuresField, kSchedulesField, kStopField, portfolio_scenarios, type Job, type Portfolio } from '../src/sched/plan.ts';
import { not_applicable } from '../src/system/rig.ts';
import { load_scenario } from '../src/scenarios/load.ts';
import { exit_for } from './errors.ts';
import { check_output_path } from './paths.ts';
import { header, overall } from './schema.ts';
import { RESULT_WORD } from './stress.ts';
import type { Report } from '../src/report/report.ts';
import type { Scenario } from '../src/scenarios/types.ts';
import { by_cause, combine_findings, findings_json, format_report_text, signature_of } from '../src/report/index.ts';
import { format_orders, group_orders, orders_json } from '../src/report/orders.ts';
import type { Io, ReportOpts } from './io.ts';
import { shrink_and_show } from './replay.ts';
import { shard_jobs, type Shard } from './shard.ts';
import { baseline_json, baseline_union, format_baseline, target_outside } from './baseline.ts';
import { split_by_baseline } from '../src/variants/baseline.ts';
import { alloc_coverage, sum_coverage } from '../src/fuzz/coverage.ts';
import { coverage_out } from './fault-cov.ts';

export interface RaceOpts extends ReportOpts {
  /** the searches, as the command line asked for them */
  plan: Portfolio;
  /** subchannels in every run (1 when absent) */
  devices?: number;
  workers: number;
  /** run only this share of the jobs (seed streams x searches x variants) */
  shard?: Shard;
  shrink: boolean;
}

const ENTRY = new URL('../workers/search.mjs', import.meta.url).href;

/**
 * --target: schedules every stream still runs after the portfolio's first failure, so the report
 * can list the other orders the target is met in (PCT meets a race's orders at different rates:
 * the first need not be the one its fix's commit message draws). A fixed count, not a search
 * for any one order: the streams, their seeds and what each finds first are unchanged.
 */
export const TARGET_MORE = 16;

/** After a stop signal the search jobs get this long to return their results; then they are terminated. */
export const STOP_BOUND_MS = 3000;

/** The bounded exhaustive searches: their report says whether they ran their whole space. */
const exhaustive = (search: string): boolean => search === 'dfs' || search === 'dpor';

export async function race(o: RaceOpts, io: Io): Promise<number> {
  check_output_path('--report', o.report);
  const t0 = performance.now();
  const p = o.plan;
  const names = portfolio_scenarios(p);
  const scenarios = new Map<string, Scenario>();
  for (const n of names) scenarios.set(n, await load_scenario(n));
  // the (scenario, variant) pairs searched: those where the scenario applies
  const na = all_pairs(p).map((x) => ({ ...x, why: not_applicable(scenarios.get(x.scenario)!, x.variant) })).filter((x) => x.why !== null);
  const pairs = all_pairs(p).filter((x) => !na.some((y) => y.scenario === x.scenario && y.variant === x.variant));
  const variants = p.variants.filter((v) => pairs.some((x) => x.variant === v));
  // every search thread's rig is sized for the largest scenario from its first job: a change of
  // scenario, like one of variant, strategy or seed, starts no thread
  const rig_users = Math.max(p.common.users, ...[...scenarios.values()].map((sc) => sc.users.min));
  const several = names.length > 1;
  const shared = job_slots();
  const sh = new Int32Array(shared);
  // one known list over every variant searched (each variant's own with several: the union)
  const base = baseline_union(o.baseline ?? 'none', p.variants);
  const target = target_outside(base, p.common.target);
  // the jobs look for the target outside the known list
  const all: Job[] = entries(p, pairs).map((plan) => {
    delete plan.target;
    const pl = { ...plan, ...(target !== undefined ? { target } : {}), ...(o.fault !== undefined ? { fault: o.fault } : {}) };
    return {
      plan: pl,
      slots: shared,
      rig_users,
      ...(o.devices !== undefined && o.devices > 1 ? { devices: o.devices } : {}),
      // a buffer per job: actor ids repeat across the jobs' rigs, so overlaps are per rig
      ...(o.coverage === true ? { coverage: alloc_coverage() } : {}),
    };
  });
  const perJob = entry_budget(p, pairs.length);
  const jobs = shard_jobs(all, o.shard);
  const budget = jobs.length * perJob;
  // a signal during start-up: no search starts, and the report says nothing ran
  const run_jobs = io.interrupted() ? [] : jobs;
  // One search thread: main's own, jobs one after another (no piscina thread to start).
  const pool = o.workers > 1 ? new Piscina<Job, JobResult>({ filename: ENTRY, maxThreads: o.workers, minThreads: Math.max(1, Math.min(o.workers, run_jobs.length)), idleTimeout: 1000 }) : null;
  const offKill = io.onKill(() => void pool?.destroy());
  // A stop signal: every job stops before its next schedule. A schedule that does not end in
  // time (a long storm, a blocked shutdown) does not hold the report: past STOP_BOUND_MS the
  // pool is terminated and the report has what the jobs returned by then.
  let bound: (() => void) | null = null;
  const bounded = new Promise<void>((res) => (bound = res));
  const off = io.onInterrupt(() => {
    Atomics.store(sh, kStopField, 1);
    setTimeout(() => bound?.(), STOP_BOUND_MS).unref();
  });
  const showProgress = !o.quiet && process.stderr.isTTY === true;
  const of = o.shard !== undefined ? ` (shard ${o.shard.index}/${o.shard.total}: ${jobs.length} of ${all.length} jobs)` : '';
  if (!o.quiet && run_jobs.length > 0) io.err(`race: ${jobs.length} search job(s) on ${o.workers} worker(s), budget ${budget} schedule(s)${of}`);
  const bar = showProgress && run_jobs.length > 0 ? new cliProgress.SingleBar({ stream: process.stderr, format: 'race [{bar}] {value}/{total} schedules, {failing} failing, {duration}s', hideCursor: true }, cliProgress.Presets.shades_classic) : null;
  bar?.start(jobs.length * perJob, 0, { failing: 0 });
  const tick = setInterval(() => bar?.update(Atomics.load(sh, kSchedulesField), { failing: Atomics.load(sh, kFailuresField) }), 500);
  tick.unref();
  // in job order, whatever order they end in (the first failure's tie-break stays deterministic)
  const slots: (JobResult | undefined)[] = run_jobs.map(() => undefined);
  let cut = false;
  try {
    let done: Promise<unknown>;
    if (pool !== null) done = Promise.allSettled(run_jobs.map((j, k) => pool.run(j).then((r) => void (slots[k] = r))));
    else {
      const { search_job, release_rig } = await import('../src/sched/job.ts');
      done = (async () => {
        try {
          for (const [k, j] of run_jobs.entries()) slots[k] = await search_job(j);
        } finally {
          await release_rig();
        }
      })().then(
        () => [],
        (e: unknown) => [{ status: 'rejected', reason: e }],
      );
    }
    cut = await Promise.race([done.then(() => false), bounded.then(() => true)]);
    const failed = cut ? [] : ((await done) as PromiseSettledResult<unknown>[]).filter((x): x is PromiseRejectedResult => x.status === 'rejected');
    if (failed.length > 0) throw failed[0]!.reason;
  } finally {
    clearInterval(tick);
    bar?.stop();
    off();
    offKill();
    await pool?.destroy();
  }
  const results = slots.filter((r): r is JobResult => r !== undefined);
  const interrupted = io.interrupted();
  const secs = (performance.now() - t0) / 1000;
  // a cut search's schedules were counted by the jobs as they ran
  const schedules = cut ? Atomics.load(sh, kSchedulesField) : results.reduce((n, r) => n + r.schedules, 0);
  const steps = results.reduce((n, r) => n + r.steps, 0);
  const first = results.filter((r) => r.first !== undefined).sort((a, b) => a.first!.schedule - b.first!.schedule)[0];
  // plan.more: every job ran through the first failing schedule + more; a job that ran further
  // before it heard of the failure is cut back here, so what is reported follows from the seeds
  const more = p.common.stop_at_first ? p.common.more : undefined;
  const last = first !== undefined && more !== undefined ? Math.min(first.first!.schedule + more, perJob - 1) : Infinity;
  const seen = combine_findings(results.flatMap((r) => r.found.filter((f) => f.schedule <= last).map((f) => ({ ...f.finding, replay: f.token, token: f.token }))));
  const orders = target_orders(slots, first, target, last);
  // a --target you name counts even when it is known: it is what you asked the search for
  const asked = p.common.target !== undefined ? new RegExp(p.common.target) : null;
  const split = split_by_baseline(seen.filter((f) => asked === null || !asked.test(f.id)), base, names);
  const findings = [...seen.filter((f) => asked !== null && asked.test(f.id)), ...split.counted];
  const result = overall({ interrupted, findings: first !== undefined ? 1 : 0, ran: pairs.length, skipped: na.length });
  const covered = o.coverage === true ? coverage_out(variants.map((v) => ({ variant: v, sab: sum_coverage(jobs.filter((j) => j.plan.variant === v).map((j) => j.coverage!)) }))) : null;
  const report: Report & Record<string, unknown> = {
    ...header('race'),
    result,
    ...(interrupted ? { interrupted_by: 'signal' } : {}),
    variant: p.variants.join(','),
    scenario: names.join(','),
    ...(several ? { scenarios: names } : {}),
    mode: 'controlled',
    findings: findings_json(findings, { verbose: o.verbose === true }),
    stats: { schedules, steps, schedules_per_s: secs > 0 ? schedules / secs : 0, first_failure_schedule: first?.first?.schedule ?? -1, actor_threads_started: results.reduce((n, r) => n + r.threads_started, 0) },
    seed: p.seed,
    duration_s: secs,
    ...(na.length > 0 ? { not_applicable: na.map((x) => `${scenarios.get(x.scenario)!.id} on ${x.variant}: ${x.why}`) } : {}),
    strategies: p.searches,
    budget,
    jobs: jobs.length,
    ...(o.shard !== undefined ? { shard: { index: o.shard.index, total: o.shard.total, jobs_total: all.length } } : {}),
    ...(p.searches.some(exhaustive) ? { dfs: { bound: p.common.bound, bound_by: p.common.bound_by, dpor: p.common.dpor, exhausted: results.filter((r) => exhaustive(r.plan.search)).map((r) => r.exhausted) } } : {}),
    ...baseline_json(base, split),
    ...(covered !== null ? { coverage: covered.json } : {}),
    ...(o.fault !== undefined ? { fault: o.fault } : {}),
    ...(first !== undefined ? { replay: first.first!.token, first_failure: { variant: first.plan.variant, ...(several ? { scenario: first.plan.scenario } : {}), strategy: first.plan.search, findings: findings_json(first.first!.report.findings, { verbose: o.verbose === true }) } } : {}),
    ...(orders !== null ? { target_orders: { signature: orders.signature, last_schedule: Number.isFinite(last) ? last : null, runs: orders.runs, orders: orders_json(orders.orders) } } : {}),
  };
  if (first !== undefined && o.shrink && !interrupted) {
    const sh2 = await shrink_and_show(first.first!.token, target, [...p.common.detectors], o.verbose === true);
    report.shrunk = { replay: sh2.token, steps: sh2.steps, preemptions: sh2.preemptions, table: sh2.table };
  }
  writeFileSync(o.report, JSON.stringify(report, null, 2) + '\n');
  if (o.json) io.out(JSON.stringify(report));
  else {
    io.out(`race: ${p.variants.join(',')} ${names.join(',')} ${p.searches.join(',')}${of}: ${schedules} schedules in ${secs.toFixed(1)}s (${(schedules / secs).toFixed(0)}/s, ${steps} steps)`);
    if (first !== undefined) {
      const fr = first.first!.report;
      io.out(`first failure: schedule ${first.first!.schedule} of the ${first.plan.search} stream seeded ${first.plan.seed0} on ${first.plan.variant}${several ? ` ${first.plan.scenario}` : ''}`);
      io.out(format_report_text({ findings: fr.findings.filter((f) => target === undefined || new RegExp(target).test(f.id)) }, { verbose: o.verbose === true }));
      io.out(`replay: vfio-ccw-sim replay ${first.first!.token}`);
      if (orders !== null) {
        const upto = Number.isFinite(last) ? ` in schedules 0..${last} of each stream` : '';
        for (const l of format_orders(orders.orders, `the target's ${orders.signature}${upto}`, first.first!.token)) io.out(l);
      }
      const s = report.shrunk as { replay: string; steps: number; preemptions: number; table: string } | undefined;
      if (s !== undefined) {
        io.out(`shrunk to ${s.steps} steps, ${s.preemptions} preemption(s):`);
        io.out(s.table);
        io.out(`replay (shrunk): vfio-ccw-sim replay ${s.replay}`);
      }
    } else if (result === 'interrupted') io.out(`interrupted after ${schedules} schedule(s)${cut ? ` (the search was cut after ${STOP_BOUND_MS / 1000} s: a schedule did not stop in time)` : ''}: no failure found so far, which is not a pass`);
    else if (result === 'skipped') io.out(`not applicable: ${na.map((x) => `${several ? `${x.scenario} on ` : ''}${x.variant}: ${x.why}`).join('; ')}`);
    else io.out('no failure found within the budget');
    for (const r of results.filter((x) => exhaustive(x.plan.search) && x.exhausted)) {
      io.out(`${r.plan.search} (seed ${r.plan.seed0}, ${r.plan.variant}${several ? ` ${r.plan.scenario}` : ''}): exhausted after ${r.schedules} schedules: every ${r.plan.dpor ? 'backtrack choice DPOR found' : 'alternative'} within ${r.plan.bound} ${r.plan.bound_by === 'delays' ? 'delay' : 'preemption'}(s) was run`);
    }
    if (findings.length > 0 && (target !== undefined || first === undefined)) {
      io.out('other findings seen (with a token each):');
      for (const f of findings) io.out(`  ${f.signature}${f.count !== undefined && f.count > 1 ? ` (x${f.count})` : ''}${f.cause !== f.signature ? ` [cause: ${f.cause}]` : ''}: ${f.message}\n    replay ${f.token}`);
    }
    for (const l of format_baseline(base, split)) io.out(l);
    if (covered !== null) io.out(covered.text);
    io.out(`report: ${o.report}`);
    io.out(RESULT_WORD[result]);
  }
  return exit_for(result);
}

/**
 * With a target: the orders its first finding (the first splat's) was met in, over every job's
 * runs up to `last`, the first failure's first.
 */
function target_orders(slots: readonly (JobResult | undefined)[], first: JobResult | undefined, target: string | undefined, last: number): { signature: string; runs: number; orders: ReturnType<typeof group_orders> } | null {
  if (first === undefined || target === undefined) return null;
  const re = new RegExp(target);
  const head = by_cause(first.first!.report.findings.filter((f) => re.test(f.id)))[0]?.[0];
  if (head === undefined) return null;
  const signature = head.signature ?? signature_of(head);
  const runs = slots.flatMap((r, k) => (r === undefined ? [] : r.target_runs.map((x) => ({ ...x, stream: k, from: `the ${r.plan.search} stream seeded ${r.plan.seed0} on ${r.plan.variant}` }))));
  const orders = group_orders(runs, signature, last);
  return { signature, runs: orders.reduce((n, o) => n + o.count, 0), orders };
}
