// vfio-ccw-sim stress: free-running parallel stress of the driver, locktorture style: periodic
// stat lines, a report file, and SUCCESS or FAILURE at the end.
import type { HwConfig } from '../src/hw/config.ts';
import { writeFileSync } from 'node:fs';
import { Rig, type DetectorName, type RunOutcome, type ScenarioFault } from '../src/system/rig.ts';
import type { Report } from '../src/report/report.ts';
import { combine_findings, findings_json, format_report_text } from '../src/report/index.ts';
import { EXIT, exit_for } from './errors.ts';
import { check_output_path } from './paths.ts';
import { header, overall } from './schema.ts';
import type { Scenario } from '../src/scenarios/types.ts';
import { load_scenario } from './scenarios.ts';
import type { Io, ReportOpts } from './io.ts';
import { baseline_json, baseline_union, format_baseline } from './baseline.ts';
import { split_by_baseline } from '../src/variants/baseline.ts';
import type { DeviceStat } from '../src/system/device-stats.ts';
import type { SharedMemory } from '../src/system/devices.ts';
import { coverage_buf, coverage_out } from './fault-cov.ts';

export interface StressOpts extends ReportOpts {
  variant: string;
  /** several variants (--variant a,b): each runs every scenario, on the same workers; absent: `variant` alone */
  variants?: string[];
  scenario: string;
  mix?: string[];
  users?: number;
  /** subchannels (1 when absent) */
  devices?: number;
  duration: number;
  /** seconds past the duration after which a run still making progress is a livelock */
  grace: number;
  iterations?: number;
  stutter?: number;
  statInterval: number;
  seed: number;
  delayInject?: number;
  /** machine overrides on top of the scenario's */
  hw?: Partial<HwConfig>;
  detectors: DetectorName[];
}

export type { Io } from './io.ts';

export async function stress(o: StressOpts, io: Io): Promise<number> {
  check_output_path('--report', o.report);
  const names = o.mix ?? [o.scenario];
  const scenarios: Scenario[] = [];
  for (const n of names) scenarios.push(await load_scenario(n));
  const users = o.users ?? Math.max(...scenarios.map((s) => s.users.default));
  const outcomes: RunOutcome[] = [];
  const variants = o.variants ?? [o.variant];
  const name = variants.join(',');
  // every (variant, scenario) in turn on one set of workers: a change of either starts no thread
  const cells = variants.flatMap((variant) => scenarios.map((scenario) => ({ variant, scenario })));
  const covs = new Map(variants.map((v) => [v, coverage_buf(o.coverage)] as const));
  // a signal during start-up: the report says nothing ran
  const devices = o.devices ?? 1;
  const rig = io.interrupted() ? null : await Rig.start(users, scenarios.map((s) => s.module), devices);
  const threads = rig?.pool.actors.length ?? 0;
  const memory = rig?.shared_memory();
  // the duration counts from the workers' start
  const t0 = performance.now();
  const offKill = io.onKill(() => void rig?.close());
  let stopped = io.interrupted();
  const off = io.onInterrupt(() => {
    stopped = true;
    rig?.request_stop();
  });
  let last = { t: t0, starts: 0 };
  const tick = setInterval(() => {
    const s = rig?.live_stats() ?? null;
    if (s === null || o.quiet) return;
    const now = performance.now();
    const rate = ((s.starts - last.starts) * 1000) / Math.max(1, now - last.t);
    last = { t: now, starts: s.starts };
    const findings = outcomes.reduce((n, x) => n + x.report.findings.length, 0);
    io.out(`stress: ${((now - t0) / 1000).toFixed(1)}s ${name}: I/O starts ${s.starts} (${rate.toFixed(0)}/s) irqs raised ${s.raised} handled ${s.handled} delivered ${s.delivered} findings ${findings}`);
  }, o.statInterval * 1000);
  tick.unref();
  try {
    // without --stutter every cell gets its share of the duration
    const segment = o.stutter ?? o.duration / cells.length;
    let k = 0;
    // --iterations: every cell once, whatever the time; else cells in turn until the duration is up
    const more = (): boolean => (o.iterations !== undefined ? k < cells.length : (performance.now() - t0) / 1000 < o.duration - 0.05);
    while (rig !== null && !stopped && more()) {
      const { variant, scenario: sc } = cells[k % cells.length]!;
      const cov = covs.get(variant);
      const left = o.duration - (performance.now() - t0) / 1000;
      const out = await rig.run({
        variant,
        scenario: sc,
        users: Math.max(sc.users.min, Math.min(users, Math.max(sc.users.default, users))),
        seed: (o.seed + k) >>> 0,
        // --iterations: each run as long as one run alone may take
        duration_s: o.iterations !== undefined ? o.duration : Math.max(0.05, Math.min(segment, left)),
        grace_ms: o.grace * 1000,
        // a scenario's iteration count can shape its workload (S9's storm): runs keep their own
        // and stress starts a new one (next seed) until the duration is up
        iterations: o.iterations ?? sc.iterations,
        devices,
        detectors: o.detectors,
        ...(o.delayInject !== undefined ? { delay: { p: o.delayInject, max_us: 50 } } : {}),
        ...(o.hw !== undefined ? { hw: o.hw } : {}),
        ...(o.fault !== undefined ? { fault: o.fault } : {}),
        ...(cov !== undefined ? { coverage: cov } : {}),
      });
      outcomes.push(out);
      k++;
      // a hang terminated the workers; nothing applicable now is nothing applicable later
      if (rig.dead || (k >= cells.length && outcomes.every((x) => x.report.result === 'skipped'))) break;
    }
  } finally {
    clearInterval(tick);
    off();
    offKill();
    await rig?.close();
  }
  // a signal after the listener went (while the workers closed) still cut the run short
  const cut = stopped || io.interrupted();
  const all = { ...merge({ ...o, variant: name }, scenarios.map((x) => x.id), outcomes, (performance.now() - t0) / 1000, cut ? (io.interrupted() ? 'signal' : 'stopped') : null), ...per_device_json(devices, memory, outcomes) };
  all.stats['actor_threads_started'] = threads;
  // the result counts only the findings outside the baseline; the known ones are listed apart
  const base = baseline_union(o.baseline ?? 'none', variants);
  const split = split_by_baseline(all.findings, base, all.scenarios);
  const covered = o.coverage === true ? coverage_out(variants.map((v) => ({ variant: v, sab: covs.get(v)! }))) : null;
  const report = { ...all, result: all.result === 'fail' && split.counted.length === 0 ? ('pass' as const) : all.result, findings: split.counted, ...baseline_json(base, split), ...(covered !== null ? { coverage: covered.json } : {}), ...(o.fault !== undefined ? { fault: o.fault } : {}) };
  const json = { ...report, findings: findings_json(report.findings, { verbose: o.verbose === true }) };
  writeFileSync(o.report, JSON.stringify(json, null, 2) + '\n');
  const faults = report.scenario_errors ?? [];
  if (o.json) io.out(JSON.stringify(json));
  else {
    io.out(format_summary(report));
    for (const l of format_devices(report)) io.out(l);
    if (report.findings.length > 0) io.out(format_report_text(report, { verbose: o.verbose === true }));
    for (const l of format_baseline(base, split)) io.out(l);
    if (covered !== null) io.out(covered.text);
    for (const f of faults) io.out(`scenario error (user ${f.actor}) at ${f.where}: ${f.message}\n${f.stack}`);
    io.out(`report: ${o.report}`);
    io.out(RESULT_WORD[report.result]);
  }
  // the user's scenario is broken: a user-file error, not a verdict on the driver
  if (faults.length > 0) {
    io.err(`vfio-ccw-sim: ${faults[0]!.where}: the scenario threw during the run: ${faults[0]!.message.split('\n')[0]} (its stack is in ${o.report})`);
    return EXIT.usage;
  }
  return exit_for(report.result);
}

/** The last line of a text report. */
export const RESULT_WORD = { pass: 'SUCCESS', fail: 'FAILURE', interrupted: 'INTERRUPTED', skipped: 'SKIPPED' } as const;

/** The stress report (tools/schema.ts StressReport checks it). */
export type StressJson = Report & { tool: 'stress'; version: string; interrupted_by?: string; scenario_errors?: ScenarioFault[]; runs: number; scenarios: string[]; devices?: number; memory?: SharedMemory; per_device?: DeviceStat[] };

/** With more than one device: the shared memory and each device's counters summed over the runs. */
function per_device_json(devices: number, memory: SharedMemory | undefined, outs: readonly RunOutcome[]): Pick<StressJson, 'devices' | 'memory' | 'per_device'> {
  if (devices === 1) return {};
  const rows = new Map<number, DeviceStat>();
  for (const r of outs) {
    for (const d of r.devices ?? []) {
      const have = rows.get(d.dev);
      rows.set(d.dev, have === undefined ? { ...d } : { ...have, starts: have.starts + d.starts, presented: have.presented + d.presented, irqs: have.irqs + d.irqs, io_signals: have.io_signals + d.io_signals, pinned_pages: d.pinned_pages });
    }
  }
  return { devices, ...(memory !== undefined ? { memory } : {}), per_device: [...rows.values()].sort((a, b) => a.dev - b.dev) };
}

/** The per-device lines of a text report: every device when there are few, else the spread. */
function format_devices(r: StressJson): string[] {
  const rows = r.per_device;
  if (rows === undefined || r.devices === undefined) return [];
  const out: string[] = [];
  if (r.memory !== undefined) out.push(`  devices: ${r.devices}, shared memory ${r.memory.device_bytes} bytes per device (+ ${r.memory.global_bytes + r.memory.system_bytes} shared), ${r.memory.total_bytes} in all`);
  const line = (d: DeviceStat): string => `    ${d.schid}: I/O starts ${d.starts}, interrupts presented ${d.presented} handled ${d.irqs}, signals ${d.io_signals}`;
  if (rows.length <= 16) for (const d of rows) out.push(line(d));
  else {
    const by = [...rows].sort((a, b) => a.starts - b.starts);
    const pick = (q: number): DeviceStat => by[Math.min(by.length - 1, Math.floor(q * by.length))]!;
    out.push(`  I/O starts per device: min ${by[0]!.starts} (${by[0]!.schid}), median ${pick(0.5).starts}, max ${by[by.length - 1]!.starts} (${by[by.length - 1]!.schid}); every device in the report's per_device`);
  }
  return out;
}

function merge(o: StressOpts, ids: readonly string[], outs: readonly RunOutcome[], secs: number, interrupted: string | null): StressJson {
  const stats: Record<string, number> = {};
  for (const r of outs) for (const [k, v] of Object.entries(r.report.stats)) stats[k] = (stats[k] ?? 0) + v;
  stats['io_cycles'] = stats['user.cycles'] ?? 0;
  stats['io_cycles_per_s'] = secs > 0 ? (stats['io_cycles'] ?? 0) / secs : 0;
  stats['eagain_retries'] = stats['user.client.eagain_retries'] ?? 0;
  stats['irqs_raised'] = stats['hw.presented'] ?? 0;
  stats['irqs_handled'] = stats['driver.irqs'] ?? 0;
  stats['irqs_delivered'] = stats['driver.io_signals'] ?? 0;
  const findings = combine_findings(outs.flatMap((r) => r.report.findings));
  const na = [...new Set(outs.flatMap((r) => r.report.not_applicable ?? []))];
  const faults = outs.flatMap((r) => r.scenario_errors ?? []);
  const skipped = outs.filter((r) => r.report.result === 'skipped').length;
  return {
    ...header('stress'),
    result: overall({ interrupted: interrupted !== null, findings: findings.length, ran: outs.length - skipped, skipped }),
    ...(interrupted !== null ? { interrupted_by: interrupted } : {}),
    variant: o.variant,
    scenario: [...new Set(ids)].join(','),
    mode: 'free',
    findings,
    stats,
    seed: o.seed,
    duration_s: secs,
    ...(na.length > 0 ? { not_applicable: na } : {}),
    ...(faults.length > 0 ? { scenario_errors: faults } : {}),
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
