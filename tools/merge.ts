// vfio-ccw-sim merge REPORT…: the reports of one campaign's shards (race --shard i/N) as one
// report. Findings merge by signature (merge_findings) with their counts summed; budgets, jobs,
// schedules and steps are summed; the result fails if any shard failed. Every shard 1..N must be
// there exactly once, from the same campaign, or the merge refuses (exit 2): a campaign with a
// shard missing has not passed.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Finding } from '../src/report/report.ts';
import { UsageError } from './errors.ts';
import { merge_findings } from '../src/report/signature.ts';
import { header } from './schema.ts';
import { check_output_path } from './paths.ts';
import type { Io } from './stress.ts';

export interface MergeOpts {
  reports: string[];
  out: string;
  json: boolean;
}

interface ShardReport {
  result: string;
  variant: string;
  scenario: string;
  mode: string;
  seed: number;
  strategies?: string[];
  findings: (Finding & { replay?: string })[];
  stats: { schedules: number; steps: number; first_failure_schedule?: number };
  duration_s: number;
  budget?: number;
  jobs?: number;
  shard?: { index: number; total: number; jobs_total?: number };
  replay?: string;
  interrupted?: boolean;
  [k: string]: unknown;
}

function read(file: string): ShardReport {
  let r: unknown;
  try {
    r = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`merge: cannot read ${file}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
  }
  const x = r as Partial<ShardReport>;
  if (typeof x !== 'object' || x === null || !Array.isArray(x.findings) || typeof x.stats?.schedules !== 'number' || typeof x.result !== 'string') {
    throw new UsageError(`merge: ${file} is not a race report (no result, findings or stats.schedules)`);
  }
  return x as ShardReport;
}

/** The campaign a shard report belongs to: what must agree for two shards to be merged. */
const campaign = (r: ShardReport): string => JSON.stringify([r.mode, r.variant, r.scenario, r.seed, r.strategies ?? [], r.shard?.total ?? 1, r.shard?.jobs_total ?? r.jobs]);

export function merge_reports(files: string[]): Record<string, unknown> {
  if (files.length === 0) throw new UsageError('merge: name at least one report');
  const rs = files.map(read);
  const first = rs[0]!;
  const total = first.shard?.total ?? 1;
  const seen = new Map<number, string>();
  rs.forEach((r, k) => {
    if (campaign(r) !== campaign(first)) throw new UsageError(`merge: ${files[k]} is from another campaign than ${files[0]} (variant, scenario, seed, strategies and shard count must agree)`);
    const i = r.shard?.index ?? 1;
    const dup = seen.get(i);
    if (dup !== undefined) throw new UsageError(`merge: ${files[k]} and ${dup} are both shard ${i}/${total}`);
    seen.set(i, files[k]!);
  });
  const missing = Array.from({ length: total }, (_, k) => k + 1).filter((i) => !seen.has(i));
  if (missing.length > 0) throw new UsageError(`merge: shard(s) ${missing.join(', ')} of ${total} missing`);
  const byIndex = [...rs].sort((a, b) => (a.shard?.index ?? 1) - (b.shard?.index ?? 1));
  const findings = merge_findings(byIndex.flatMap((r) => r.findings));
  const sum = (g: (r: ShardReport) => number | undefined): number => rs.reduce((n, r) => n + (g(r) ?? 0), 0);
  const failed = byIndex.find((r) => r.result === 'fail');
  const interrupted = rs.some((r) => r.result === 'interrupted' || r.interrupted === true);
  const wall = Math.max(...rs.map((r) => r.duration_s));
  const schedules = sum((r) => r.stats.schedules);
  return {
    ...header('merge'),
    result: failed !== undefined ? 'fail' : interrupted ? 'interrupted' : 'pass',
    variant: first.variant,
    scenario: first.scenario,
    mode: first.mode,
    seed: first.seed,
    ...(first.strategies !== undefined ? { strategies: first.strategies } : {}),
    findings,
    stats: { schedules, steps: sum((r) => r.stats.steps), schedules_per_s: schedules / Math.max(1e-9, wall) },
    budget: sum((r) => r.budget),
    jobs: sum((r) => r.jobs),
    shards: total,
    // the slowest shard's time (the campaign's wall time when the shards ran at once) and the sum
    duration_s: wall,
    shard_seconds: sum((r) => r.duration_s),
    ...(interrupted ? { interrupted: true } : {}),
    ...(failed?.replay !== undefined ? { replay: failed.replay, first_failure_shard: failed.shard?.index ?? 1 } : {}),
  };
}

export function merge(o: MergeOpts, io: Io): number {
  check_output_path('--out', o.out);
  const m = merge_reports(o.reports);
  mkdirSync(dirname(o.out), { recursive: true });
  writeFileSync(o.out, JSON.stringify(m, null, 2) + '\n');
  if (o.json) io.out(JSON.stringify(m));
  else {
    const st = m.stats as { schedules: number; steps: number };
    io.out(`merge: ${o.reports.length} shard report(s) of ${m.variant} ${m.scenario}: ${st.schedules} schedules, ${st.steps} steps, budget ${m.budget as number}`);
    for (const f of m.findings as Finding[]) io.out(`  ${f.signature} x${f.count ?? 1}: ${f.message.slice(0, 120)}`);
    if (m.replay !== undefined) io.out(`replay: vfio-ccw-sim replay ${m.replay as string}`);
    io.out(`report: ${o.out}`);
    io.out(m.result === 'fail' ? 'FAILURE' : m.result === 'pass' ? 'SUCCESS' : 'INTERRUPTED');
  }
  // an interrupted shard is no pass: 1, as a failure (the exit codes of signals belong to the run itself)
  return m.result === 'pass' ? 0 : 1;
}
