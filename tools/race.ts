// vfio-ccw-sim race: search schedules in controlled mode, a portfolio of (variant, strategy, seed
// stream) jobs on piscina across cores; stop at the first failure, print its report and token.
import type { HwConfig } from '../src/hw/config.ts';
import type { BoundBy } from '../src/sched/dpor.ts';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import cliProgress from 'cli-progress';
import { Piscina } from 'piscina';
import type { JobArgs, JobResult } from '../src/sched/job.ts';
import type { SearchStrategy } from '../src/sched/search.ts';
import type { DetectorName } from '../src/system/rig.ts';
import { dedupe, type Report } from '../src/report/report.ts';
import type { Io } from './stress.ts';
import { format_report_text } from './text.ts';
import { shrink_and_show } from './replay.ts';
import { baseline_for, baseline_json, format_baseline, target_outside, type BaselineChoice } from './baseline.ts';
import { split_by_baseline } from '../src/variants/baseline.ts';

export interface RaceOpts {
  variants: string[];
  scenario: string;
  users: number;
  iterations: number;
  strategies: SearchStrategy[];
  depth: number;
  budget: number;
  seeds: number;
  seed: number;
  bound: number;
  bound_by: BoundBy;
  dpor: boolean;
  /** machine overrides on top of the scenario's (recorded in every token) */
  hw?: Partial<HwConfig>;
  workers: number;
  detectors: DetectorName[];
  target?: string;
  /** known findings not counted (default: none) */
  baseline?: BaselineChoice;
  all: boolean;
  shrink: boolean;
  json: boolean;
  report: string;
  quiet: boolean;
}

const ENTRY = new URL('../workers/search.mjs', import.meta.url).href;

export async function race(o: RaceOpts, io: Io): Promise<number> {
  const t0 = performance.now();
  const shared = new SharedArrayBuffer(16);
  const sh = new Int32Array(shared);
  const jobs: JobArgs[] = [];
  // one known list over every variant searched (each variant's own with several: the union)
  const bases = o.variants.map((v) => baseline_for(o.baseline ?? 'none', v));
  const base = { source: bases[0]?.source ?? 'none', known: [...new Map(bases.flatMap((b) => b.known).map((k) => [k.key, k])).values()] };
  const target = target_outside(base, o.target);
  const perJob = Math.max(1, Math.ceil(o.budget / (o.seeds * o.strategies.length * o.variants.length)));
  for (const variant of o.variants)
    for (const strategy of o.strategies)
      for (let s = 0; s < o.seeds; s++)
        jobs.push({
          variant,
          scenario: o.scenario,
          users: o.users,
          iterations: o.iterations,
          strategy,
          depth: o.depth,
          budget: perJob,
          // seed streams are disjoint ranges of schedule seeds
          seed0: (o.seed + s * 1_000_003) >>> 0,
          bound: o.bound,
          dpor: o.dpor,
          bound_by: o.bound_by,
          ...(o.hw !== undefined ? { hw: o.hw as Record<string, unknown> } : {}),
          detectors: o.detectors,
          shared,
          stopAtFirst: !o.all,
          ...(target !== undefined ? { target } : {}),
        });
  const pool = new Piscina<JobArgs, JobResult>({ filename: ENTRY, maxThreads: o.workers, minThreads: Math.min(o.workers, jobs.length), idleTimeout: 1000 });
  const off = io.onInterrupt(() => {
    Atomics.store(sh, 0, 1);
    io.err('vfio-ccw-sim: interrupted: stopping the search, the report follows');
  });
  const showProgress = !o.quiet && process.stderr.isTTY === true;
  if (!o.quiet) io.err(`race: ${jobs.length} search job(s) on ${o.workers} worker(s), budget ${o.budget} schedule(s)`);
  const bar = showProgress ? new cliProgress.SingleBar({ stream: process.stderr, format: 'race [{bar}] {value}/{total} schedules, {failing} failing, {duration}s', hideCursor: true }, cliProgress.Presets.shades_classic) : null;
  bar?.start(jobs.length * perJob, 0, { failing: 0 });
  const tick = setInterval(() => bar?.update(Atomics.load(sh, 1), { failing: Atomics.load(sh, 2) }), 500);
  tick.unref();
  let results: JobResult[];
  try {
    results = await Promise.all(jobs.map((j) => pool.run(j)));
  } finally {
    clearInterval(tick);
    bar?.stop();
    off();
    await pool.destroy();
  }
  const secs = (performance.now() - t0) / 1000;
  const schedules = results.reduce((n, r) => n + r.schedules, 0);
  const steps = results.reduce((n, r) => n + r.steps, 0);
  const first = results.filter((r) => r.first !== undefined).sort((a, b) => a.first!.schedule - b.first!.schedule)[0];
  const seen = dedupe(results.flatMap((r) => r.found.map((f) => ({ ...f.finding, replay: f.token }))));
  const split = split_by_baseline(seen, base, [o.scenario]);
  const findings = split.counted;
  const report: Report & Record<string, unknown> = {
    result: first !== undefined ? 'fail' : 'pass',
    variant: o.variants.join(','),
    scenario: o.scenario,
    mode: 'controlled',
    findings,
    stats: { schedules, steps, schedules_per_s: schedules / secs, first_failure_schedule: first?.first?.schedule ?? -1 },
    seed: o.seed,
    duration_s: secs,
    strategies: o.strategies,
    ...(o.strategies.includes('dfs') ? { dfs: { bound: o.bound, bound_by: o.bound_by, dpor: o.dpor, exhausted: results.filter((r) => r.strategy === 'dfs').map((r) => r.exhausted) } } : {}),
    ...baseline_json(base, split),
    ...(first !== undefined ? { replay: first.first!.token, first_failure: { variant: first.variant, strategy: first.strategy, findings: first.first!.report.findings } } : {}),
  };
  if (first !== undefined && o.shrink) {
    const sh2 = await shrink_and_show(first.first!.token, target, o.detectors);
    report.shrunk = { replay: sh2.token, steps: sh2.steps, preemptions: sh2.preemptions, table: sh2.table };
  }
  mkdirSync(dirname(o.report), { recursive: true });
  writeFileSync(o.report, JSON.stringify(report, null, 2) + '\n');
  if (o.json) io.out(JSON.stringify(report));
  else {
    io.out(`race: ${o.variants.join(',')} ${o.scenario} ${o.strategies.join(',')}: ${schedules} schedules in ${secs.toFixed(1)}s (${(schedules / secs).toFixed(0)}/s, ${steps} steps)`);
    if (first !== undefined) {
      const fr = first.first!.report;
      io.out(`first failure: schedule ${first.first!.schedule} of the ${first.strategy} stream seeded ${first.seed0} on ${first.variant}`);
      io.out(format_report_text({ ...fr, findings: fr.findings.filter((f) => target === undefined || new RegExp(target).test(f.id)) }));
      io.out(`replay: vfio-ccw-sim replay ${first.first!.token}`);
      const s = report.shrunk as { replay: string; steps: number; preemptions: number; table: string } | undefined;
      if (s !== undefined) {
        io.out(`shrunk to ${s.steps} steps, ${s.preemptions} preemption(s):`);
        io.out(s.table);
        io.out(`replay (shrunk): vfio-ccw-sim replay ${s.replay}`);
      }
    } else io.out('no failure found within the budget');
    for (const r of results.filter((x) => x.strategy === 'dfs' && x.exhausted)) {
      io.out(`dfs (seed ${r.seed0}, ${r.variant}): exhausted after ${r.schedules} schedules: every ${o.dpor ? 'backtrack choice DPOR found' : 'alternative'} within ${o.bound} ${o.bound_by === 'delays' ? 'delay' : 'preemption'}(s) was run`);
    }
    if (findings.length > 0 && (target !== undefined || first === undefined)) {
      io.out('other findings seen (with a token each):');
      for (const f of findings) io.out(`  ${f.kind} ${f.id}: ${f.message.slice(0, 140)}\n    replay ${(f as { replay?: string }).replay}`);
    }
    for (const l of format_baseline(base, split)) io.out(l);
    io.out(`report: ${o.report}`);
    io.out(first !== undefined ? 'FAILURE' : 'SUCCESS');
  }
  return first !== undefined ? 1 : 0;
}
