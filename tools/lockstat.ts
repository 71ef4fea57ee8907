// vfio-ccw-sim lockstat: run a workload in free mode with lock statistics on, and print
// lock_stat's table per lock class and per call site, the contention points, trylock failures
// and the -EAGAIN retries they cause, lock-wait and request -> IRB latency histograms.
//
// --json prints one object with this shape (schema 1; keys are only ever added):
//
//   {
//     "tool": "lockstat", "schema": 1,
//     "result": "pass" | "fail",        // the workload's own checks (exit 0 / 1)
//     "variant": string, "scenario": string, "users": number, "seed": number, "mode": "free",
//     "duration_s": number, "io_cycles": number, "io_cycles_per_s": number,
//     "time_unit": "us",
//     "sampling": { "hold_every": number, "wait_every": number, "note": string },
//     "classes": Row[],                  // one per lock class, most contended first
//     "sites": SiteRow[],                // one per (lock class, call site), most contended first
//     "contention_points": Point[],      // top N call sites by contentions (only those that contended)
//     "contending_points": Point[],      // top N call sites where the holder had taken the lock when someone waited
//     "trylock": {
//       "failures": number,              // every failed trylock
//       "by_site": { "class": string, "site": string, "failures": number }[],
//       "eagain_retries": number,        // the client's -EAGAIN retries of region writes
//       "eagain_by_op": { [op: string]: number }   // region accesses answered -EAGAIN (io_write, cmd_write, io_read, …)
//     },
//     "histograms": {
//       "lock_wait": { [class: string]: Summary },  // timed contentions: contended -> acquired
//       "request_to_irb": Summary                   // start forwarded (io region write ok) -> final IRB read
//     },
//     "findings": { "kind": string, "id": string, "message": string }[],
//     "lost": { "lock_events": number, "histograms": number }   // beyond the tables (0 normally)
//   }
//   Row     = { "class": string, "con_bounces", "contentions", "waittime_min_us", "waittime_max_us",
//               "waittime_total_us", "waittime_avg_us", "waittime_samples", "acq_bounces", "acquisitions",
//               "holdtime_min_us", "holdtime_max_us", "holdtime_total_us", "holdtime_avg_us",
//               "holdtime_samples", "trylock_failures", "contending": number }
//   SiteRow = Row & { "site": string }
//   Point   = { "class": string, "site": string, "count": number, "waittime_avg_us": number }
//   Summary = { "count", "min_us", "mean_us", "p50_us", "p90_us", "p99_us", "p99_9_us", "max_us": number }
//
// Counts are exact. Times are sampled: min/max/avg are over the timed events, totals are avg × count.
import type { FaultConfig } from '../src/kernel/fault.ts';
import { coverage_buf, coverage_out } from './fault-cov.ts';
import { Rig, type RunOutcome } from '../src/system/rig.ts';
import { summarize, type LatencySummary, type LockstatData, type LockstatRow, type LockstatSiteRow } from '../src/detect/lockstat.ts';
import type { Finding, Report } from '../src/report/report.ts';
import { EXIT } from './errors.ts';
import { header } from './schema.ts';
import { FAST_HW } from './bench.ts';
import { load_scenario } from './scenarios.ts';
import type { Io } from './stress.ts';

export interface LockstatOpts {
  variant: string;
  scenario: string;
  users?: number;
  /** subchannels (1 when absent) */
  devices?: number;
  duration: number;
  iterations?: number;
  seed: number;
  /** time one acquisition in this many (hold times) */
  sample?: number;
  /** time one contention in this many (wait times) */
  waitSample?: number;
  top: number;
  fastHw: boolean;
  json: boolean;
  /** progress lines on stderr (the CLI sets it when stderr is a TTY and neither --quiet nor --json) */
  progress: boolean;
  /** fault injection: the error paths' locking profiled too */
  fault?: FaultConfig;
  coverage?: boolean;
}

export interface Point {
  class: string;
  site: string;
  count: number;
  waittime_avg_us: number;
}

export interface LockstatJson {
  tool: 'lockstat';
  version: string;
  schema: 1;
  /** no verdict: 'pass' when the profile was taken, 'interrupted' when a signal cut it short */
  result: 'pass' | 'interrupted';
  interrupted_by?: string;
  variant: string;
  scenario: string;
  users: number;
  seed: number;
  mode: 'free';
  duration_s: number;
  io_cycles: number;
  io_cycles_per_s: number;
  time_unit: 'us';
  sampling: { hold_every: number; wait_every: number; note: string };
  classes: LockstatRow[];
  sites: LockstatSiteRow[];
  contention_points: Point[];
  contending_points: Point[];
  trylock: { failures: number; by_site: { class: string; site: string; failures: number }[]; eagain_retries: number; eagain_by_op: Record<string, number> };
  histograms: { lock_wait: Record<string, LatencySummary>; request_to_irb: LatencySummary };
  findings: { kind: Finding['kind']; id: string; message: string }[];
  stats: Record<string, number>;
  lost: { lock_events: number; histograms: number };
}

export async function lockstat(o: LockstatOpts, io: Io): Promise<number> {
  const sc = await load_scenario(o.scenario);
  const users = Math.max(sc.users.min, o.users ?? sc.users.default);
  if (io.interrupted()) return EXIT.interrupted; // a signal during start-up: nothing ran, nothing to show
  const devices = o.devices ?? 1;
  const rig = await Rig.start(users, [sc.module], devices);
  const t0 = performance.now();
  const offKill = io.onKill(() => void rig.close());
  const off = io.onInterrupt(() => rig.request_stop());
  const tick = o.progress
    ? setInterval(() => {
        const s = rig.live_stats();
        if (s !== null) io.err(`lockstat: ${((performance.now() - t0) / 1000).toFixed(1)}s of ${o.duration}s, I/O starts ${s.starts}`);
      }, 1000)
    : null;
  tick?.unref();
  let out: RunOutcome;
  const cov = coverage_buf(o.coverage);
  try {
    out = await rig.run({
      variant: o.variant,
      scenario: sc,
      users,
      seed: o.seed,
      duration_s: o.duration,
      iterations: o.iterations ?? Number.MAX_SAFE_INTEGER,
      devices,
      detectors: ['lockstat'],
      lockstat: { ...(o.sample !== undefined ? { hold_sample: o.sample } : {}), ...(o.waitSample !== undefined ? { wait_sample: o.waitSample } : {}) },
      ...(o.fastHw ? { hw: FAST_HW } : {}),
      ...(o.fault !== undefined ? { fault: o.fault } : {}),
      ...(cov !== undefined ? { coverage: cov } : {}),
    });
  } finally {
    if (tick !== null) clearInterval(tick);
    off();
    offKill();
    await rig.close();
  }
  const data = out.lockstat;
  if (data === undefined) throw new Error('lockstat: the run returned no statistics');
  const j = to_json(o, users, out.report, data, (performance.now() - t0) / 1000);
  if (io.interrupted()) {
    j.result = 'interrupted';
    j.interrupted_by = 'signal';
  }
  const covered = cov !== undefined ? coverage_out([{ variant: o.variant, sab: cov }]) : null;
  if (o.json) io.out(JSON.stringify({ ...j, ...(covered !== null ? { coverage: covered.json } : {}), ...(o.fault !== undefined ? { fault: o.fault } : {}) }));
  else {
    io.out(format_lockstat(j));
    if (covered !== null) io.out(covered.text);
  }
  // a profiler, not a test: only an interruption changes the exit code (stress gives the verdict)
  return j.result === 'interrupted' ? EXIT.interrupted : EXIT.ok;
}

export function to_json(o: Pick<LockstatOpts, 'variant' | 'seed' | 'top'>, users: number, r: Report, d: LockstatData, secs: number): LockstatJson {
  const cycles = r.stats['user.cycles'] ?? 0;
  const eagain_by_op: Record<string, number> = {};
  for (const [k, v] of Object.entries(r.stats)) {
    const m = /^user\.client\.(\w+)\.-EAGAIN$/.exec(k);
    if (m !== null) eagain_by_op[m[1]!] = v;
  }
  const point = (x: LockstatSiteRow, count: number): Point => ({ class: x.class, site: x.site, count, waittime_avg_us: x.waittime_avg_us });
  const top = (key: (x: LockstatSiteRow) => number): Point[] =>
    d.sites
      .filter((x) => key(x) > 0)
      .sort((x, y) => key(y) - key(x))
      .slice(0, o.top)
      .map((x) => point(x, key(x)));
  return {
    ...header('lockstat'),
    schema: 1,
    result: 'pass',
    variant: o.variant,
    scenario: r.scenario,
    users,
    seed: o.seed,
    mode: 'free',
    duration_s: secs,
    io_cycles: cycles,
    io_cycles_per_s: secs > 0 ? cycles / secs : 0,
    time_unit: 'us',
    sampling: {
      hold_every: d.hold_sample,
      wait_every: d.wait_sample,
      note: `counts are exact; hold times are sampled (1 in ${d.hold_sample} acquisitions per actor), wait times ${d.wait_sample === 1 ? 'for every contention' : `1 in ${d.wait_sample} contentions per actor`}: min/max/avg over the timed events, totals = avg × count`,
    },
    classes: d.classes,
    sites: d.sites,
    contention_points: top((x) => x.contentions),
    contending_points: top((x) => x.contending),
    trylock: {
      failures: d.sites.reduce((n, x) => n + x.trylock_failures, 0),
      by_site: d.sites.filter((x) => x.trylock_failures > 0).sort((x, y) => y.trylock_failures - x.trylock_failures).map((x) => ({ class: x.class, site: x.site, failures: x.trylock_failures })),
      eagain_retries: r.stats['user.client.eagain_retries'] ?? 0,
      eagain_by_op,
    },
    histograms: {
      lock_wait: Object.fromEntries(Object.entries(d.wait_hist).map(([k, h]) => [k, summarize(h)])),
      request_to_irb: summarize(d.request_to_irb),
    },
    findings: r.findings.map((f) => ({ kind: f.kind, id: f.id, message: f.message })),
    stats: r.stats,
    lost: { lock_events: d.dropped, histograms: d.hist_dropped },
  };
}

// lock_stat's columns, in its order.
const COLS: [string, keyof LockstatRow][] = [
  ['con-bounces', 'con_bounces'],
  ['contentions', 'contentions'],
  ['waittime-min', 'waittime_min_us'],
  ['waittime-max', 'waittime_max_us'],
  ['waittime-total', 'waittime_total_us'],
  ['waittime-avg', 'waittime_avg_us'],
  ['acq-bounces', 'acq_bounces'],
  ['acquisitions', 'acquisitions'],
  ['holdtime-min', 'holdtime_min_us'],
  ['holdtime-max', 'holdtime_max_us'],
  ['holdtime-total', 'holdtime_total_us'],
  ['holdtime-avg', 'holdtime_avg_us'],
];
const TIME = new Set<keyof LockstatRow>(['waittime_min_us', 'waittime_max_us', 'waittime_total_us', 'waittime_avg_us', 'holdtime_min_us', 'holdtime_max_us', 'holdtime_total_us', 'holdtime_avg_us']);
const cell = (r: LockstatRow, k: keyof LockstatRow): string => {
  const v = r[k];
  return typeof v === 'number' ? (TIME.has(k) ? v.toFixed(2) : String(v)) : String(v);
};

function table(title: string, rows: { name: string; row: LockstatRow; points?: string[] }[]): string[] {
  const nameW = Math.max(title.length, ...rows.map((r) => r.name.length + 1));
  const w = 15;
  const head = title.padStart(nameW) + COLS.map(([h]) => h.padStart(w)).join('');
  const rule = '-'.repeat(head.length);
  const out = [rule, head, rule];
  for (const r of rows) {
    out.push(`${r.name}:`.padStart(nameW) + COLS.map(([, k]) => cell(r.row, k).padStart(w)).join(''));
    if (r.points === undefined) continue;
    // lock_stat's layout: the class's contention and contending points under it, then a blank line.
    const indent = ' '.repeat(Math.max(0, nameW - r.name.length));
    if (r.points.length > 0) out.push(indent + '-'.repeat(r.name.length), ...r.points.map((p) => indent + p));
    out.push('');
  }
  if (out.at(-1) !== '') out.push('');
  return out;
}

const hist = (name: string, s: LatencySummary): string =>
  `  ${name.padEnd(22)} n ${String(s.count).padStart(9)}  p50 ${s.p50_us.toFixed(2).padStart(9)}  p90 ${s.p90_us.toFixed(2).padStart(9)}  p99 ${s.p99_us.toFixed(2).padStart(9)}  p99.9 ${s.p99_9_us.toFixed(2).padStart(9)}  max ${s.max_us.toFixed(2).padStart(10)}`;

/** The text report, in lock_stat's layout (times in µs). */
export function format_lockstat(j: LockstatJson): string {
  const lines = [
    `lock_stat version 0.4 (vfio-ccw-sim lockstat): ${j.variant} ${j.scenario}, ${j.users} user(s), ${j.mode} mode, ${j.duration_s.toFixed(1)}s, seed ${j.seed}, ${j.io_cycles} I/O cycles (${j.io_cycles_per_s.toFixed(0)}/s)`,
    `times in µs; ${j.sampling.note}`,
  ];
  const bySite = (cls: string, key: (x: LockstatSiteRow) => number, what: string): string[] =>
    j.sites
      .filter((s) => s.class === cls && key(s) > 0)
      .sort((x, y) => key(y) - key(x))
      .slice(0, 4)
      .map((s) => `${String(key(s)).padStart(12)} [${what}] ${s.site}`);
  lines.push(
    ...table(
      'class name',
      j.classes.map((c) => ({ name: c.class, row: c, points: [...bySite(c.class, (s) => s.contentions, 'contention point'), ...bySite(c.class, (s) => s.contending, 'contending point')] })),
    ),
  );
  lines.push('per call site:', ...table('class @ call site', j.sites.map((s) => ({ name: `${s.class} @ ${s.site}`, row: s }))));
  lines.push(`top contention points (of ${j.sites.filter((s) => s.contentions > 0).length}):`);
  if (j.contention_points.length === 0) lines.push('  none');
  for (const p of j.contention_points) lines.push(`  ${String(p.count).padStart(10)}  ${p.class} @ ${p.site}  (wait avg ${p.waittime_avg_us.toFixed(2)} µs)`);
  lines.push(`trylock failures: ${j.trylock.failures}`);
  for (const t of j.trylock.by_site) lines.push(`  ${String(t.failures).padStart(10)}  ${t.class} @ ${t.site}`);
  const ops = Object.entries(j.trylock.eagain_by_op).map(([k, v]) => `${k} ${v}`);
  lines.push(`-EAGAIN retries (client): ${j.trylock.eagain_retries}${ops.length > 0 ? `; -EAGAIN answers: ${ops.join(', ')}` : ''}`);
  lines.push('latency histograms (µs):');
  for (const [k, s] of Object.entries(j.histograms.lock_wait)) lines.push(hist(`wait ${k}`, s));
  lines.push(hist('request -> IRB', j.histograms.request_to_irb));
  if (j.lost.lock_events > 0 || j.lost.histograms > 0) lines.push(`lost: ${j.lost.lock_events} lock events beyond the tables, ${j.lost.histograms} histograms`);
  if (j.findings.length > 0) {
    // lockstat runs no detectors: these are the workload's own checks, for information; stress gives the verdict
    lines.push(`the workload's own checks reported ${j.findings.length} (no verdict here: run stress with its detectors for one)`);
    for (const f of j.findings) lines.push(`  ${f.kind} ${f.id}: ${f.message}`);
  }
  if (j.result === 'interrupted') lines.push('INTERRUPTED (the statistics cover the run until the signal)');
  return lines.join('\n');
}
