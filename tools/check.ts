// vfio-ccw-sim check: the verdict on a driver change. Every applicable scenario runs on the
// variant and on its base under one fixed portfolio (random, PCT, DFS with DPOR within one delay,
// and a delay-injected free run); each finding is then new (in the variant only), fixed (in the
// base only) or unchanged. Exit 1 only when something is new.
import { alloc_coverage, sum_coverage } from '../src/fuzz/coverage.ts';
import { format_coverage, summarize, type CoverageSummary } from '../src/fuzz/coverage-report.ts';
import { mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Mutex, Semaphore } from 'async-mutex';
import cliProgress from 'cli-progress';
import { Piscina } from 'piscina';
import type { JobResult } from '../src/sched/job.ts';
import { job_slots, kStopField, plan, type Job } from '../src/sched/plan.ts';
import type { Finding } from '../src/report/report.ts';
import { finding_key } from '../src/report/finding_key.ts';
import type { Scenario } from '../src/scenarios/types.ts';
import { Rig, not_applicable, type DetectorName } from '../src/system/rig.ts';
import type { Baseline, KnownFinding } from '../src/variants/baseline.ts';
import { baseline_for, type BaselineChoice } from './baseline.ts';
import { EXIT } from './errors.ts';
import { junit_xml, type JunitCase } from './junit.ts';
import type { Io } from './io.ts';
import { format_function_level, function_level } from '../src/report/index.ts';

/** The fixed portfolio every scenario runs under, on both variants. */
export const PORTFOLIO = ['random', 'pct', 'dfs', 'free'] as const;
export type Arm = (typeof PORTFOLIO)[number];

/** Schedules per scenario and strategy (see README "Testing your own change" for the measurement). */
export const DEFAULT_BUDGET = 20;

/** The free run: delay injection as stress --delay-inject, bounded in time. */
const FREE = { p: 0.05, max_us: 50, seconds: 2, stop_after_s: 60, give_up_after_s: 120 } as const;
/** DFS: DPOR within one delay (a departure from the default scheduler). */
const DFS = { bound: 1, bound_by: 'delays', dpor: true } as const;

export interface CheckOpts {
  variant: string;
  base: string;
  scenarios: readonly Scenario[];
  budget: number;
  jobs: number;
  seed: number;
  /** subchannels in every run (1 when absent) */
  devices?: number;
  baseline: BaselineChoice;
  detectors: readonly DetectorName[];
  json: boolean;
  junit?: string;
  report: string;
  quiet: boolean;
  /** a progress bar on stderr (a terminal) */
  progress: boolean;
}

type Role = 'variant' | 'base';

interface Cell {
  role: Role;
  variant: string;
  scenario: Scenario;
  arm: Arm;
}

interface Sighting {
  key: string;
  finding: Finding;
  scenario: string;
  arm: Arm;
  replay?: string;
}

interface CellResult {
  cell: Cell;
  /** 'run', or why it did not run to its end */
  status: 'run' | 'not-applicable' | 'interrupted' | 'error';
  note?: string;
  schedules: number;
  seconds: number;
  sightings: Sighting[];
  /** the cell's coverage (src/fuzz/coverage.ts), when it ran */
  cov?: SharedArrayBuffer;
}

export interface CheckEntry {
  signature: string;
  kind: string;
  id: string;
  message: string;
  /** where each side showed it: "S12/random" … */
  seen_in: { variant: string[]; base: string[] };
  /** a token that reproduces it (a controlled run of the side that showed it); absent if only a free run did */
  replay?: string;
  replay_variant?: string;
  /** the function-level interleaving (JSON: {cpu, actor, function}[]), when the finding has a trace */
  interleaving?: { cpu: number; actor: string; function: string }[];
  /** the same in CPU columns, as the text report prints it */
  interleaving_text?: string[];
  /** on the baseline of a side that did not show it this run: why it still counts as present */
  known?: { in: Role; why: string; status: string };
}

export interface CheckReport {
  /** 'running' only in the file while the matrix runs */
  result: 'pass' | 'fail' | 'interrupted' | 'error' | 'running';
  variant: string;
  base: string;
  new: CheckEntry[];
  fixed: CheckEntry[];
  unchanged: CheckEntry[];
  jobs: number;
  budget: number;
  portfolio: readonly Arm[];
  scenarios: string[];
  baseline: string;
  seed: number;
  duration_s: number;
  cells: { variant: string; scenario: string; arm: Arm; status: CellResult['status']; schedules: number; findings: number; seconds: number; note?: string }[];
  /** threads this check started: search threads (piscina) and actor workers (irq, todo, users), each once for the whole matrix */
  threads: { search: number; actors: number };
  /** always measured: the variant's and the base's coverage over every cell */
  coverage: CoverageSummary[];
  interrupted?: true;
}

const ENTRY = new URL('../workers/search.mjs', import.meta.url).href;

export async function check(o: CheckOpts, io: Io): Promise<number> {
  const t0 = performance.now();
  const cells: Cell[] = [];
  for (const [role, variant] of [['variant', o.variant], ['base', o.base]] as const) for (const scenario of o.scenarios) for (const arm of PORTFOLIO) cells.push({ role, variant, scenario, arm });

  const shared = job_slots();
  const sh = new Int32Array(shared);
  let stopped = false;
  const rigs = new Set<Rig>();
  const off = io.onInterrupt(() => {
    stopped = true;
    Atomics.store(sh, kStopField, 1);
    for (const r of rigs) r.request_stop();
    io.err('vfio-ccw-sim: interrupted: stopping the check, the report follows (marked interrupted)');
  });

  // The matrix: a Semaphore bounds the cells in flight over the piscina pool; free runs use the
  // main thread's own actor workers, one at a time; a Mutex keeps the report file's writes whole.
  // Threads start once for the whole matrix: the search threads stay up between cells (each
  // keeps its rig, sized for the largest scenario, across variants and scenarios), and the free
  // runs share one rig on main.
  const pool = new Piscina<Job, JobResult>({ filename: ENTRY, maxThreads: o.jobs, minThreads: o.jobs, idleTimeout: 3_600_000 });
  const threads = { search: 0, actors: 0 };
  pool.on('workerCreate', () => void threads.search++);
  const free = new FreeRig(Math.max(1, ...o.scenarios.map((sc) => sc.users.default)), o.scenarios, rigs, threads, o.devices ?? 1);
  const rig_users = Math.max(1, ...o.scenarios.map((sc) => sc.users.min));
  const slots = new Semaphore(o.jobs);
  const freeLock = new Mutex();
  const NO_LOCK = { runExclusive: <T>(f: () => Promise<T>): Promise<T> => f() };
  const fileLock = new Mutex();
  const done: CellResult[] = [];
  const write = (r: unknown): Promise<void> =>
    fileLock.runExclusive(async () => {
      mkdirSync(dirname(o.report), { recursive: true });
      await writeFile(o.report, JSON.stringify(r, null, 2) + '\n');
    });
  const base_v = baseline_for(o.baseline, o.variant);
  const base_b = baseline_for(o.baseline, o.base);
  const snapshot = (final: boolean): CheckReport => make_report(o, done, base_v, base_b, (performance.now() - t0) / 1000, final ? (stopped ? 'interrupted' : 'final') : 'running', threads);

  if (!o.quiet) io.err(`check: ${o.variant} against ${o.base}: ${o.scenarios.length} scenario(s) x ${PORTFOLIO.join(', ')}, budget ${o.budget}, ${o.jobs} job(s)`);
  const bar = o.progress && !o.quiet ? new cliProgress.SingleBar({ stream: process.stderr, format: 'check [{bar}] {value}/{total} cells, {findings} findings, {duration}s', hideCursor: true }, cliProgress.Presets.shades_classic) : null;
  bar?.start(cells.length, 0, { findings: 0 });

  const run_cell = async (c: Cell): Promise<CellResult> => {
    const t = performance.now();
    const why = not_applicable(c.scenario, c.variant);
    if (why !== null) return { cell: c, status: 'not-applicable', note: why, schedules: 0, seconds: 0, sightings: [] };
    if (stopped) return { cell: c, status: 'interrupted', schedules: 0, seconds: 0, sightings: [] };
    // a buffer per cell: actor ids repeat across the cells' rigs, so overlaps are per rig
    const cov = alloc_coverage();
    try {
      const r = c.arm === 'free' ? await free_cell(c, o, free, cov) : from_job(c, await pool.run(job_args(c, o, shared, rig_users, cov)), threads);
      return { cell: c, status: stopped ? 'interrupted' : 'run', schedules: r.schedules, seconds: (performance.now() - t) / 1000, sightings: r.sightings, cov };
    } catch (e) {
      return { cell: c, status: stopped ? 'interrupted' : 'error', note: e instanceof Error ? e.message : String(e), schedules: 0, seconds: (performance.now() - t) / 1000, sightings: [] };
    }
  };

  try {
    await Promise.all(
      cells.map((c) =>
        (c.arm === 'free' ? freeLock : NO_LOCK).runExclusive(() => slots.runExclusive(async () => {
          const r = await run_cell(c);
          done.push(r);
          bar?.update(done.length, { findings: done.reduce((n, x) => n + x.sightings.length, 0) });
          await write(snapshot(false));
        })),
      ),
    );
  } finally {
    bar?.stop();
    off();
    await pool.destroy();
    await free.close();
  }

  // a signal after the listener went (while the pools closed) still cut the matrix short
  stopped ||= io.interrupted();
  const report = snapshot(true);
  await write(report);
  if (o.junit !== undefined) {
    const junit = o.junit;
    await fileLock.runExclusive(async () => {
      mkdirSync(dirname(junit), { recursive: true });
      await writeFile(junit, junit_xml(`vfio-ccw-sim check ${o.variant} against ${o.base}`, junit_cases(o, done, report), report.duration_s));
    });
  }
  if (o.json) io.out(JSON.stringify(report));
  else io.out(format_check(report, done, o.report));
  for (const r of done.filter((x) => x.status === 'error')) io.err(`check: ${r.cell.variant} ${r.cell.scenario.id} ${r.cell.arm}: ${r.note}`);
  if (report.result === 'interrupted') return EXIT.interrupted;
  if (report.result === 'error') return EXIT.internal;
  return report.result === 'fail' ? EXIT.failure : EXIT.ok;
}

function job_args(c: Cell, o: CheckOpts, slots: SharedArrayBuffer, rig_users: number, coverage: SharedArrayBuffer): Job {
  return {
    plan: plan({
      variant: c.variant,
      scenario: c.scenario.id,
      search: c.arm,
      users: c.scenario.users.min,
      budget: o.budget,
      // the same seeds on both variants
      seed0: o.seed,
      ...DFS,
      detectors: [...o.detectors],
    }),
    slots,
    rig_users,
    coverage,
    ...(o.devices !== undefined && o.devices > 1 ? { devices: o.devices } : {}),
  };
}

/** A controlled cell's result as sightings, one per finding key with the token that showed it. */
function from_job(c: Cell, r: JobResult, threads: { actors: number }): { schedules: number; sightings: Sighting[] } {
  threads.actors += r.threads_started;
  return { schedules: r.schedules, sightings: r.found.map((f) => ({ key: finding_key(f.finding), finding: f.finding, scenario: c.scenario.id, arm: c.arm, replay: f.token })) };
}

/**
 * The free runs' rig on main: started at the first free cell with the most users any scenario
 * runs with, then reused by every free cell of either variant (shared memory is reset between
 * runs). Only a run that hung (its workers terminated) makes the next cell start another.
 */
class FreeRig {
  private rig: Rig | null = null;
  private readonly loaded = new Set<string>();
  constructor(
    private readonly users: number,
    private readonly scenarios: readonly Scenario[],
    private readonly rigs: Set<Rig>,
    private readonly threads: { actors: number },
    private readonly devices: number,
  ) {}

  async get(sc: Scenario): Promise<Rig> {
    if (this.rig === null || this.rig.dead) {
      await this.close();
      // every scenario's module up front: a later cell loads nothing
      const mods = this.scenarios.map((x) => x.module);
      this.rig = await Rig.start(this.users, mods, this.devices);
      for (const m of mods) this.loaded.add(m);
      this.threads.actors += this.rig.pool.actors.length;
      this.rigs.add(this.rig);
    }
    if (!this.loaded.has(sc.module)) {
      await this.rig.preload([sc.module]);
      this.loaded.add(sc.module);
    }
    // a lockdep graph per cell, as with a rig of its own: no lock order of one variant meets another's
    this.rig.reset_lockdep();
    return this.rig;
  }

  async close(): Promise<void> {
    const r = this.rig;
    this.rig = null;
    this.loaded.clear();
    if (r === null) return;
    this.rigs.delete(r);
    await r.close();
  }
}

async function free_cell(c: Cell, o: CheckOpts, free: FreeRig, coverage: SharedArrayBuffer): Promise<{ schedules: number; sightings: Sighting[] }> {
  const devices = o.devices ?? 1;
  const rig = await free.get(c.scenario);
  // a free run that outlives its time by far is asked to stop, then given up (the cell is an error, never a pass)
  const timers: NodeJS.Timeout[] = [];
  const over = new Promise<never>((_, reject) => {
    timers.push(setTimeout(() => rig.request_stop(), FREE.stop_after_s * 1000));
    timers.push(setTimeout(() => reject(new Error(`the free run did not end within ${FREE.give_up_after_s}s (seed ${o.seed})`)), FREE.give_up_after_s * 1000));
  });
  try {
    const run = rig.run({ variant: c.variant, scenario: c.scenario, users: c.scenario.users.default, seed: o.seed, iterations: c.scenario.iterations, duration_s: FREE.seconds, devices, detectors: o.detectors, delay: { p: FREE.p, max_us: FREE.max_us }, coverage });
    const out = await Promise.race([run, over]);
    return { schedules: 1, sightings: out.report.findings.map((f) => ({ key: finding_key(f), finding: f, scenario: c.scenario.id, arm: c.arm })) };
  } catch (e) {
    // a run given up on leaves its workers in an unknown state: the next free cell starts afresh
    await free.close();
    throw e;
  } finally {
    for (const t of timers) clearTimeout(t);
  }
}

/** The sighting to show for a key: one with a token and a trace, else with a token, else any. */
function best(ss: readonly Sighting[]): Sighting {
  return ss.find((s) => s.replay !== undefined && (s.finding.trace?.length ?? 0) > 0) ?? ss.find((s) => s.replay !== undefined) ?? ss[0]!;
}

function by_key(rs: readonly CellResult[], role: Role): Map<string, Sighting[]> {
  const m = new Map<string, Sighting[]>();
  for (const r of rs) if (r.cell.role === role) for (const s of r.sightings) m.set(s.key, [...(m.get(s.key) ?? []), s]);
  return m;
}

function entry(key: string, shown: Sighting, role: Role, o: CheckOpts, v: readonly Sighting[], b: readonly Sighting[], known?: { in: Role; k: KnownFinding }): CheckEntry {
  const f = shown.finding;
  const where = (ss: readonly Sighting[]): string[] => [...new Set(ss.map((s) => `${s.scenario}/${s.arm}`))];
  return {
    signature: key,
    kind: f.kind,
    id: f.id,
    message: f.message,
    seen_in: { variant: where(v), base: where(b) },
    ...(shown.replay !== undefined ? { replay: shown.replay, replay_variant: role === 'variant' ? o.variant : o.base } : {}),
    ...(f.interleaving !== undefined && f.interleaving.length > 0 ? { interleaving: f.interleaving } : {}),
    ...(f.steps !== undefined && f.steps.length > 0 ? { interleaving_text: format_function_level(function_level(f.steps)) } : {}),
    ...(known !== undefined ? { known: { in: known.in, why: known.k.why, status: known.k.status } } : {}),
  };
}

function make_report(o: CheckOpts, rs: readonly CellResult[], bv: Baseline, bb: Baseline, secs: number, state: 'running' | 'interrupted' | 'final', threads: { search: number; actors: number }): CheckReport {
  const interrupted = state === 'interrupted';
  const xs = by_key(rs, 'variant');
  const ys = by_key(rs, 'base');
  const kv = new Map(bv.known.map((k) => [k.key, k]));
  const kb = new Map(bb.known.map((k) => [k.key, k]));
  const out = { new: [] as CheckEntry[], fixed: [] as CheckEntry[], unchanged: [] as CheckEntry[] };
  for (const key of [...new Set([...xs.keys(), ...ys.keys()])].sort()) {
    const v = xs.get(key) ?? [];
    const b = ys.get(key) ?? [];
    // A side that did not show a finding its baseline lists, in a scenario where the other side
    // showed it, still has it: this run missed it there.
    const missed = (k: KnownFinding | undefined, other: readonly Sighting[]): KnownFinding | undefined => (k !== undefined && (k.scenarios.length === 0 || other.some((x) => k.scenarios.includes(x.scenario))) ? k : undefined);
    if (v.length > 0 && b.length > 0) out.unchanged.push(entry(key, best(v), 'variant', o, v, b));
    else if (v.length > 0) {
      const k = missed(kb.get(key), v);
      (k !== undefined ? out.unchanged : out.new).push(entry(key, best(v), 'variant', o, v, b, k !== undefined ? { in: 'base', k } : undefined));
    } else {
      const k = missed(kv.get(key), b);
      (k !== undefined ? out.unchanged : out.fixed).push(entry(key, best(b), 'base', o, v, b, k !== undefined ? { in: 'variant', k } : undefined));
    }
  }
  const errors = rs.some((r) => r.status === 'error');
  return {
    result: state === 'running' ? 'running' : interrupted ? 'interrupted' : errors ? 'error' : out.new.length > 0 ? 'fail' : 'pass',
    variant: o.variant,
    base: o.base,
    ...out,
    jobs: o.jobs,
    budget: o.budget,
    portfolio: PORTFOLIO,
    scenarios: o.scenarios.map((s) => s.id),
    baseline: o.baseline === 'none' || o.baseline === 'known' ? o.baseline : o.baseline.source,
    seed: o.seed,
    duration_s: secs,
    coverage: (['variant', 'base'] as const).map((role) => summarize(sum_coverage(rs.filter((r) => r.cell.role === role && r.cov !== undefined).map((r) => r.cov!)), role === 'variant' ? o.variant : o.base)),
    cells: rs.map((r) => ({ variant: r.cell.variant, scenario: r.cell.scenario.id, arm: r.cell.arm, status: r.status, schedules: r.schedules, findings: r.sightings.length, seconds: Math.round(r.seconds * 10) / 10, ...(r.note !== undefined ? { note: r.note } : {}) })),
    threads: { ...threads },
    ...(interrupted ? { interrupted: true as const } : {}),
  };
}

/** One test case per scenario x variant: failed when it showed a new finding, skipped when it could not run. */
function junit_cases(o: CheckOpts, rs: readonly CellResult[], rep: CheckReport): JunitCase[] {
  const news = new Set(rep.new.map((e) => e.signature));
  const cases: JunitCase[] = [];
  for (const [role, variant] of [['variant', o.variant], ['base', o.base]] as const)
    for (const sc of o.scenarios) {
      const mine = rs.filter((r) => r.cell.role === role && r.cell.scenario.id === sc.id);
      const seen = [...new Set(mine.flatMap((r) => r.sightings.map((s) => s.key)))].sort();
      const fresh = role === 'variant' ? seen.filter((k) => news.has(k)) : [];
      const na = mine.find((r) => r.status === 'not-applicable');
      const unfinished = mine.length < PORTFOLIO.length || mine.some((r) => r.status === 'interrupted' || r.status === 'error');
      cases.push({
        classname: `check.${variant}`,
        name: `${sc.id} ${sc.slug}`,
        time_s: mine.reduce((t, r) => t + r.seconds, 0),
        ...(fresh.length > 0 ? { failure: { message: `${fresh.length} new finding(s): ${fresh.join(', ')}`, text: fresh.map((k) => rep.new.find((e) => e.signature === k)).map((e) => `${e!.signature}: ${e!.message}${e!.replay !== undefined ? `\nreplay: vfio-ccw-sim replay ${e!.replay}` : ''}`).join('\n\n') } } : {}),
        ...(na !== undefined ? { skipped: `not applicable: ${na.note}` } : unfinished && fresh.length === 0 ? { skipped: rep.result === 'interrupted' ? 'interrupted' : 'did not finish' } : {}),
        out: seen.length > 0 ? `findings: ${seen.join(', ')}` : 'no findings',
      });
    }
  return cases;
}

function format_entry(e: CheckEntry, full: boolean): string[] {
  const lines = [`  ${e.signature}: ${e.message.slice(0, 160)}`];
  const where = [e.seen_in.variant.length > 0 ? `variant ${e.seen_in.variant.join(' ')}` : '', e.seen_in.base.length > 0 ? `base ${e.seen_in.base.join(' ')}` : ''].filter((x) => x !== '');
  lines.push(`    seen: ${where.join('; ')}`);
  if (e.known !== undefined) lines.push(`    known on the ${e.known.in} (not seen there this run): ${e.known.why} [${e.known.status}]`);
  if (e.replay !== undefined) lines.push(`    replay: vfio-ccw-sim replay ${e.replay}`);
  else lines.push('    replay: none (seen only in the free run; rerun it with stress --delay-inject)');
  if (full && e.interleaving_text !== undefined) lines.push('    interleaving (function calls, oldest first):', ...e.interleaving_text.map((l) => `  ${l}`));
  return lines;
}

export function format_check(r: CheckReport, rs: readonly CellResult[], file: string): string {
  const schedules = rs.reduce((n, x) => n + x.schedules, 0);
  const lines = [`check: ${r.variant} against ${r.base}: ${r.scenarios.length} scenario(s) x ${r.portfolio.join(', ')}, budget ${r.budget}, ${r.jobs} job(s), baseline ${r.baseline}: ${schedules} runs in ${r.duration_s.toFixed(1)}s`];
  lines.push(`new (in ${r.variant}, not in ${r.base}): ${r.new.length}`);
  for (const e of r.new) lines.push(...format_entry(e, true));
  lines.push(`fixed (in ${r.base}, not in ${r.variant}): ${r.fixed.length}`);
  for (const e of r.fixed) lines.push(...format_entry(e, true));
  lines.push(`unchanged: ${r.unchanged.length}`);
  for (const e of r.unchanged) lines.push(...format_entry(e, false));
  const na = [...new Set(rs.filter((x) => x.status === 'not-applicable').map((x) => `${x.cell.scenario.id} on ${x.cell.variant}: ${x.note}`))];
  if (na.length > 0) lines.push('not applicable:', ...na.map((x) => `  ${x}`));
  lines.push(format_coverage(r.coverage.map((c) => ({ label: c.variant, cov: c }))));
  if (r.result === 'interrupted') lines.push(`interrupted: ${rs.filter((x) => x.status === 'interrupted').length} of the matrix's cells did not run to their end`);
  lines.push(`report: ${file}`);
  lines.push(r.result === 'interrupted' ? 'INTERRUPTED' : r.result === 'error' ? 'ERROR' : r.result === 'fail' ? 'FAILURE' : 'SUCCESS');
  return lines.join('\n');
}
