// vfio-ccw-sim stress: free-running parallel stress of the driver, locktorture style: periodic
// stat lines, a report file, and SUCCESS or FAILURE at the end.
import type { HwConfig } from '../src/hw/config.ts';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Rig, type DetectorName, type RunOutcome } from '../src/system/rig.ts';
import { dedupe, type Report } from '../src/report/report.ts';
import type { Scenario } from '../src/scenarios/types.ts';
import { load_scenario } from './scenarios.ts';
import { format_report_text } from './text.ts';
import { baseline_for, baseline_json, format_baseline, type BaselineChoice } from './baseline.ts';
import { split_by_baseline } from '../src/variants/baseline.ts';

export interface StressOpts {
  variant: string;
  scenario: string;
  mix?: string[];
  users?: number;
  duration: number;
  iterations?: number;
  stutter?: number;
  statInterval: number;
  seed: number;
  delayInject?: number;
  /** machine overrides on top of the scenario's */
  hw?: Partial<HwConfig>;
  detectors: DetectorName[];
  /** known findings not counted (default: none) */
  baseline?: BaselineChoice;
  json: boolean;
  report: string;
  quiet: boolean;
}

export interface Io {
  out(s: string): void;
  err(s: string): void;
  /** register a Ctrl-C handler; returns its removal */
  onInterrupt(fn: () => void): () => void;
}

export async function stress(o: StressOpts, io: Io): Promise<number> {
  const names = o.mix ?? [o.scenario];
  const scenarios: Scenario[] = [];
  for (const n of names) scenarios.push(await load_scenario(n));
  const users = o.users ?? Math.max(...scenarios.map((s) => s.users.default));
  const rig = await Rig.start(users, scenarios.map((s) => s.module));
  const t0 = performance.now();
  let stopped = false;
  const off = io.onInterrupt(() => {
    stopped = true;
    rig.request_stop();
    io.err('vfio-ccw-sim: interrupted: stopping the workers, the report follows');
  });
  const outcomes: RunOutcome[] = [];
  let last = { t: t0, starts: 0 };
  const tick = setInterval(() => {
    const s = rig.live_stats();
    if (s === null || o.quiet) return;
    const now = performance.now();
    const rate = ((s.starts - last.starts) * 1000) / Math.max(1, now - last.t);
    last = { t: now, starts: s.starts };
    const findings = outcomes.reduce((n, x) => n + x.report.findings.length, 0);
    io.out(`stress: ${((now - t0) / 1000).toFixed(1)}s ${o.variant}: I/O starts ${s.starts} (${rate.toFixed(0)}/s) irqs raised ${s.raised} handled ${s.handled} delivered ${s.delivered} findings ${findings}`);
  }, o.statInterval * 1000);
  tick.unref();
  try {
    const segment = o.stutter ?? o.duration;
    let k = 0;
    while (!stopped && (performance.now() - t0) / 1000 < o.duration - 0.05) {
      const sc = scenarios[k % scenarios.length]!;
      const left = o.duration - (performance.now() - t0) / 1000;
      const out = await rig.run({
        variant: o.variant,
        scenario: sc,
        users: Math.max(sc.users.min, Math.min(users, Math.max(sc.users.default, users))),
        seed: (o.seed + k) >>> 0,
        duration_s: Math.max(0.05, Math.min(segment, left)),
        // a scenario's iteration count can shape its workload (S9's storm): runs keep their own
        // and stress starts a new one (next seed) until the duration is up
        iterations: o.iterations ?? sc.iterations,
        detectors: o.detectors,
        ...(o.delayInject !== undefined ? { delay: { p: o.delayInject, max_us: 50 } } : {}),
        ...(o.hw !== undefined ? { hw: o.hw } : {}),
      });
      outcomes.push(out);
      k++;
      if (o.iterations !== undefined) break;
    }
  } finally {
    clearInterval(tick);
    off();
    await rig.close();
  }
  const all = merge(o, outcomes, (performance.now() - t0) / 1000);
  // the result counts only the findings outside the baseline; the known ones are listed apart
  const base = baseline_for(o.baseline ?? 'none', o.variant);
  const split = split_by_baseline(all.findings, base, all.scenarios);
  const report = { ...all, result: split.counted.length === 0 ? ('pass' as const) : ('fail' as const), findings: split.counted, ...baseline_json(base, split) };
  mkdirSync(dirname(o.report), { recursive: true });
  writeFileSync(o.report, JSON.stringify(report, null, 2) + '\n');
  if (o.json) io.out(JSON.stringify(report));
  else {
    io.out(format_summary(report));
    if (report.findings.length > 0) io.out(format_report_text(report, outcomes));
    for (const l of format_baseline(base, split)) io.out(l);
    io.out(`report: ${o.report}`);
    io.out(report.result === 'pass' ? 'SUCCESS' : 'FAILURE');
  }
  return report.result === 'pass' ? 0 : 1;
}

function merge(o: StressOpts, outs: readonly RunOutcome[], secs: number): Report & { runs: number; scenarios: string[] } {
  const stats: Record<string, number> = {};
  for (const r of outs) for (const [k, v] of Object.entries(r.report.stats)) stats[k] = (stats[k] ?? 0) + v;
  stats['io_cycles'] = stats['user.cycles'] ?? 0;
  stats['io_cycles_per_s'] = secs > 0 ? (stats['io_cycles'] ?? 0) / secs : 0;
  stats['eagain_retries'] = stats['user.client.eagain_retries'] ?? 0;
  stats['irqs_raised'] = stats['hw.presented'] ?? 0;
  stats['irqs_handled'] = stats['driver.irqs'] ?? 0;
  stats['irqs_delivered'] = stats['driver.io_signals'] ?? 0;
  const findings = dedupe(outs.flatMap((r) => r.report.findings));
  const na = [...new Set(outs.flatMap((r) => r.report.not_applicable ?? []))];
  return {
    result: findings.length === 0 ? 'pass' : 'fail',
    variant: o.variant,
    scenario: [...new Set(outs.map((r) => r.report.scenario))].join(','),
    mode: 'free',
    findings,
    stats,
    seed: o.seed,
    duration_s: secs,
    ...(na.length > 0 ? { not_applicable: na } : {}),
    runs: outs.length,
    scenarios: [...new Set(outs.map((r) => r.report.scenario))],
  };
}

function format_summary(r: Report): string {
  const s = r.stats;
  const n = (k: string): string => String(Math.round(s[k] ?? 0));
  return [
    `stress: ${r.variant} ${r.scenario} ${r.mode} mode, ${(r.duration_s ?? 0).toFixed(1)}s, seed ${r.seed}`,
    `  I/O cycles: ${n('io_cycles')} (${(s['io_cycles_per_s'] ?? 0).toFixed(0)}/s)`,
    `  -EAGAIN retries: ${n('eagain_retries')}`,
    `  interrupts: raised ${n('irqs_raised')}, handled ${n('irqs_handled')}, delivered ${n('irqs_delivered')}`,
    `  findings: ${r.findings.length}${r.not_applicable !== undefined ? `; not applicable: ${r.not_applicable.join(', ')}` : ''}`,
  ].join('\n');
}
