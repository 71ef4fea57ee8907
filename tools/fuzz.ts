// vfio-ccw-sim fuzz: generated call sequences against one variant (src/fuzz), with coverage, a
// corpus, minimised findings with replay tokens, and (--baseline) the built-in scenarios beside it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Rig, type DetectorName } from '../src/system/rig.ts';
import { SCENARIOS } from '../src/scenarios/index.ts';
import { alloc_coverage, merge_coverage } from '../src/fuzz/coverage.ts';
import { format_coverage, summarize, type CoverageSummary } from '../src/fuzz/coverage-report.ts';
import { campaign, classify, rig_for_token, run_token, type FuzzFinding } from '../src/fuzz/campaign.ts';
import { finding_key } from '../src/fuzz/finding-key.ts';
import { decode_token } from '../src/fuzz/token.ts';
import type { FaultConfig } from '../src/kernel/fault.ts';
import { EXIT, UsageError } from './errors.ts';
import type { Io } from './stress.ts';

/** Exit codes used here beyond ok/failure/usage/internal (tools/errors.ts EXIT). */


export interface FuzzOpts {
  variant: string;
  seed: number;
  calls: number;
  duration: number;
  users: number;
  /** subchannels of every run (1 when absent) */
  devices?: number;
  batch?: number;
  strategy: 'free' | 'random' | 'pct';
  corpus?: string;
  baseline: boolean;
  baselineDuration: number;
  detectors: DetectorName[];
  minimise: boolean;
  /** generate mdev_probe / mdev_remove too */
  lifecycle?: boolean;
  replay?: string;
  repeat: number;
  fault?: FaultConfig;
  target?: RegExp;
  report: string;
  json: boolean;
  quiet: boolean;
}

interface Baseline {
  coverage: CoverageSummary;
  keys: Set<string>;
  runs: number;
}

/** The built-in scenarios on the variant, each for `secs` over `devices` devices, into one coverage buffer. */
export async function scenario_baseline(variant: string, seed: number, secs: number, detectors: readonly DetectorName[], devices = 1): Promise<Baseline> {
  const users = Math.max(...SCENARIOS.map((s) => s.users.default));
  const rig0 = await Rig.start(users, SCENARIOS.map((s) => s.module), devices);
  let rig = rig0;
  const total = alloc_coverage();
  const keys = new Set<string>();
  let runs = 0;
  try {
    for (const s of SCENARIOS) {
      const cov = alloc_coverage();
      const out = await rig.run({ variant, scenario: s, users: s.users.default, seed, duration_s: secs, iterations: s.iterations, detectors, coverage: cov, devices });
      runs++;
      merge_coverage(total, cov);
      for (const f of out.report.findings) keys.add(finding_key(f));
      if (rig.dead) rig = await Rig.start(users, SCENARIOS.map((x) => x.module), devices);
    }
  } finally {
    await rig.close();
  }
  return { coverage: summarize(total, variant), keys, runs };
}

export async function fuzz(o: FuzzOpts, io: Io): Promise<number> {
  if (o.replay !== undefined) return replay(o, io);
  const sched = o.strategy === 'free' ? undefined : { strategy: o.strategy };
  const devices = o.devices ?? 1;
  const on = devices > 1 ? `, ${devices} devices` : '';
  const batch = o.batch ?? (sched !== undefined ? 25 : 1000);
  const stop = { requested: false };
  const off = io.onInterrupt(() => {
    stop.requested = true;
    io.err('vfio-ccw-sim: interrupted: the run in progress ends, the report follows');
  });
  let last = 0;
  let r;
  try {
    r = await campaign({
      variant: o.variant,
      seed: o.seed,
      calls: o.calls,
      duration: o.duration,
      users: o.users,
      ...(devices > 1 ? { devices } : {}),
      batch,
      detectors: o.detectors,
      ...(o.corpus !== undefined ? { corpus: o.corpus } : {}),
      ...(sched !== undefined ? { sched } : {}),
      ...(o.fault !== undefined ? { fault: o.fault } : {}),
      minimise: o.minimise,
      minimise_runs: 200,
      ...(o.lifecycle === true ? { lifecycle: true } : {}),
      ...(o.target !== undefined ? { target: o.target } : {}),
      stop,
      progress: (p) => {
        if (o.quiet || p.secs - last < 1) return;
        last = p.secs;
        io.err(`fuzz: ${p.secs.toFixed(1)}s ${o.variant}${on}: ${p.calls} calls (${(p.calls / Math.max(p.secs, 1e-3)).toFixed(0)}/s), ${p.runs} runs, corpus ${p.corpus}, findings ${p.findings}`);
      },
    });
  } finally {
    off();
  }
  // a signal after the campaign's last look (while its workers closed) still cut it short
  const interrupted = r.interrupted || io.interrupted();
  const cov = summarize(r.coverage, o.variant);
  const base = o.baseline && !interrupted ? await scenario_baseline(o.variant, o.seed, o.baselineDuration, o.detectors, devices) : null;
  const findings = r.findings.map((f) => ({ ...f, signature: finding_key(f), new: base !== null ? !base.keys.has(finding_key(f)) : undefined }));
  const report = {
    result: interrupted || io.interrupted() ? 'interrupted' : findings.length === 0 ? 'pass' : 'fail',
    variant: o.variant,
    mode: sched !== undefined ? 'controlled' : 'free',
    ...(sched !== undefined ? { strategy: o.strategy } : {}),
    seed: o.seed,
    users: o.users,
    ...(devices > 1 ? { devices } : {}),
    duration_s: r.secs,
    stats: { calls: r.calls, calls_per_s: r.calls / Math.max(r.secs, 1e-3), runs: r.runs, corpus: r.corpus, hangs: r.hangs, findings: findings.length },
    coverage: cov,
    ...(base !== null ? { baseline: { scenarios: SCENARIOS.length, runs: base.runs, seconds_each: o.baselineDuration, coverage: base.coverage, signatures: [...base.keys].sort() } } : {}),
    findings,
  };
  mkdirSync(dirname(o.report), { recursive: true });
  writeFileSync(o.report, JSON.stringify(report, null, 2) + '\n');
  if (o.json) io.out(JSON.stringify(report));
  else {
    io.out(`fuzz: ${o.variant} ${report.mode} mode${sched !== undefined ? ` (${o.strategy})` : ''}, ${o.users} users${on}, seed ${o.seed}: ${r.calls} calls in ${r.secs.toFixed(1)}s (${report.stats.calls_per_s.toFixed(0)} calls/s), ${r.runs} runs, corpus ${r.corpus}, hangs ${r.hangs}`);
    io.out(format_coverage([{ label: 'fuzz', cov }, ...(base !== null ? [{ label: `${SCENARIOS.length} scenarios`, cov: base.coverage }] : [])]));
    io.out(`findings: ${findings.length}${base !== null ? ` (${findings.filter((f) => f.new === true).length} no scenario showed)` : ''}`);
    for (const f of findings) io.out(format_finding(f, f.new));
    io.out(`report: ${o.report}`);
    io.out(report.result === 'interrupted' ? 'INTERRUPTED' : findings.length === 0 ? 'SUCCESS' : 'FAILURE');
  }
  return report.result === 'interrupted' ? EXIT.interrupted : findings.length === 0 ? 0 : 1;
}

function format_finding(f: FuzzFinding, fresh: boolean | undefined): string {
  const tag = fresh === true ? '[new] ' : '';
  // long tokens (unminimised programs) stay in the JSON report
  const tok = f.token.length <= 400 ? `token ${f.token}` : `token: ${f.token.length} characters, in the report`;
  return `  ${tag}${finding_key(f)} (x${f.count ?? 1}, ${f.calls} calls): ${f.message.split('\n')[0]!.slice(0, 200)}\n    ${tok}`;
}

/** --replay TOKEN: run the token's program again (free mode: up to --repeat times) and print what it shows. */
async function replay(o: FuzzOpts, io: Io): Promise<number> {
  const t = decode_token(o.replay!);
  if (typeof t === 'string') throw new UsageError(`--replay: ${t}`);
  if (io.interrupted()) return EXIT.interrupted;
  const rig = await rig_for_token(t);
  const keys = new Map<string, FuzzFinding>();
  let runs = 0;
  let stopped = false;
  const offKill = io.onKill(() => void rig.close());
  const off = io.onInterrupt(() => {
    stopped = true;
    rig.request_stop();
  });
  try {
    const n = t.sched !== undefined ? 1 : o.repeat;
    // with --target, try until a matching finding shows (a race may not recur on the first run)
    const hit = (): boolean => (o.target !== undefined ? [...keys.keys()].some((k) => o.target!.test(k)) : keys.size > 0);
    for (let k = 0; k < n && !hit() && !stopped; k++) {
      const out = await run_token(rig, t, o.detectors);
      runs++;
      for (const f of out.report.findings) {
        const c = classify(f, o.replay!, t.programs.reduce((s, u) => s + u.length, 0));
        keys.set(finding_key(c), c);
      }
      if (rig.dead) break;
    }
  } finally {
    off();
    offKill();
    await rig.close();
  }
  const cut = stopped || io.interrupted();
  const findings = [...keys.values()].filter((f) => o.target === undefined || o.target.test(finding_key(f)));
  const result = cut ? 'interrupted' : findings.length === 0 ? 'pass' : 'fail';
  if (o.json) io.out(JSON.stringify({ result, variant: t.variant, ...(t.nd !== undefined ? { devices: t.nd } : {}), runs, findings: findings.map((f) => ({ ...f, signature: finding_key(f) })) }));
  else {
    io.out(`fuzz replay: ${t.variant}, ${t.users} users${t.nd !== undefined ? `, ${t.nd} devices` : ''}, seed ${t.seed}${t.sched !== undefined ? `, ${t.sched.strategy} schedule` : ''}: ${findings.length} finding(s) in ${runs} run(s)`);
    for (const f of findings) io.out(`  ${finding_key(f)}: ${f.message.split('\n')[0]!.slice(0, 200)}`);
    io.out(cut ? 'INTERRUPTED' : findings.length === 0 ? 'SUCCESS' : 'FAILURE');
  }
  return cut ? EXIT.interrupted : findings.length === 0 ? 0 : 1;
}
