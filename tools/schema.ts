// The --json objects of every command, written once as code that checks them (zod). One base
// every object has; a run report (a run of the driver) extends it; each command extends that with
// its own keys. Keys are only ever added, never renamed. Commands to come (check, fuzz) extend
// RunReport the same way. `test/schema.test.ts` runs each command and parses its output here.
import { z } from 'zod';
import { FINDING_KINDS } from '../src/report/report.ts';
import { source_version } from '../src/sched/token.ts';
import { SEARCH_NAMES } from '../src/sched/explore/index.ts';

/** A finding. Other keys a detector adds later (a signature, …) are kept, not refused. */
export const FindingSchema = z
  .object({
    kind: z.enum(FINDING_KINDS),
    id: z.string(),
    message: z.string(),
    actor: z.number().int().optional(),
    trace: z.array(z.string()).optional(),
    count: z.number().int().positive().optional(),
    replay: z.string().optional(),
  })
  .passthrough();

export const RESULTS = ['pass', 'fail', 'interrupted', 'skipped'] as const;

/** What every command's --json object has. */
export const BaseReport = z.object({
  /** the command that wrote it */
  tool: z.string(),
  /** package version + a hash of the sources (`vfio-ccw-sim --version`) */
  version: z.string(),
  /** pass (exit 0), fail (1), interrupted (4), skipped (5); bench and lockstat give no verdict: pass when the measurement completed */
  result: z.enum(RESULTS),
  findings: z.array(FindingSchema),
  stats: z.record(z.number()),
  duration_s: z.number().nonnegative().optional(),
  /** the signal that stopped the run (result 'interrupted') */
  interrupted_by: z.string().optional(),
});

/** An error a user's own scenario threw: kept apart from the driver's findings. */
export const ScenarioFaultSchema = z.object({ actor: z.number().int(), where: z.string(), message: z.string(), stack: z.string() });

const Measure = z.object({ reached: z.number().int().nonnegative(), total: z.number().int().nonnegative(), list: z.array(z.string()) }).strict();
/** --coverage (always in check): per variant, the jump-table cells, spec errnos and overlapping entry pairs reached */
export const CoverageSchema = z.object({ variant: z.string(), cells: Measure, errnos: Measure, pairs: Measure, entries: z.object({ reached: z.number().int(), total: z.number().int() }).strict() }).strict();
/** --fail-nth / --fail-rate: the fault injection of the run */
export const FaultSchema = z.object({ nth: z.object({ site: z.string(), n: z.number().int().positive() }).strict().optional(), rate: z.number().optional(), seed: z.number().int() }).strict();

/** A run (or runs) of the driver: src/report/report.ts's Report, plus the base. */
export const RunReport = BaseReport.extend({
  coverage: z.array(CoverageSchema).optional(),
  fault: FaultSchema.optional(),
  variant: z.string(),
  scenario: z.string(),
  mode: z.enum(['free', 'controlled']),
  seed: z.number().int().nonnegative().optional(),
  not_applicable: z.array(z.string()).optional(),
  scenario_errors: z.array(ScenarioFaultSchema).optional(),
});

/** --baseline: the known findings this run saw, and those of its scenarios it did not (absent with none) */
const KnownEntry = z.object({ key: z.string(), why: z.string(), status: z.string() }).strict();
const BaselineKey = z
  .object({
    source: z.string(),
    known_seen: z.array(KnownEntry.extend({ count: z.number().int().positive(), message: z.string(), replay: z.string().optional() }).strict()),
    known_not_seen: z.array(KnownEntry),
  })
  .strict()
  .optional();

/** --devices N > 1: the shared memory of the system and the counters of each device, summed over the runs */
const DeviceRow = z.object({ dev: z.number().int().nonnegative(), schid: z.string(), starts: z.number().int(), presented: z.number().int(), irqs: z.number().int(), io_signals: z.number().int(), pinned_pages: z.number().int() }).strict();
const Memory = z.object({ device_bytes: z.number().int().positive(), global_bytes: z.number().int().positive(), system_bytes: z.number().int().positive(), total_bytes: z.number().int().positive() }).strict();

export const StressReport = RunReport.extend({
  tool: z.literal('stress'),
  baseline: BaselineKey,
  runs: z.number().int().nonnegative(),
  scenarios: z.array(z.string()),
  devices: z.number().int().positive().optional(),
  memory: Memory.optional(),
  per_device: z.array(DeviceRow).optional(),
}).strict();

const Shrunk = z.object({ replay: z.string(), steps: z.number().int(), preemptions: z.number().int(), table: z.string() }).strict();

export const RaceReport = RunReport.extend({
  tool: z.literal('race'),
  baseline: BaselineKey,
  strategies: z.array(z.enum(SEARCH_NAMES)),
  dfs: z.object({ bound: z.number().int(), bound_by: z.enum(['preemptions', 'delays']), dpor: z.boolean(), exhausted: z.array(z.boolean()) }).strict().optional(),
  replay: z.string().optional(),
  first_failure: z.object({ variant: z.string(), scenario: z.string().optional(), strategy: z.string(), findings: z.array(FindingSchema) }).strict().optional(),
  /** several scenarios (--scenario S1,S2): each, as given */
  scenarios: z.array(z.string()).optional(),
  shrunk: Shrunk.optional(),
  /** --target: the orders its first finding was met in, up to the first failing schedule + --more */
  target_orders: z
    .object({
      signature: z.string(),
      last_schedule: z.number().int().nonnegative().nullable(),
      runs: z.number().int().nonnegative(),
      orders: z.array(
        z.object({ signature: z.string(), schedule: z.number().int().nonnegative(), stream: z.string(), count: z.number().int().positive(), replay: z.string(), interleaving: z.array(z.object({ cpu: z.number().int(), actor: z.string(), function: z.string(), preempted: z.literal(true).optional() }).strict()) }).strict(),
      ),
    })
    .strict()
    .optional(),
  /** schedules this run may try (its share of --budget), and its search jobs */
  budget: z.number().int().nonnegative(),
  jobs: z.number().int().nonnegative(),
  shard: z.object({ index: z.number().int().positive(), total: z.number().int().positive(), jobs_total: z.number().int().nonnegative() }).strict().optional(),
}).strict();

/** merge: the shards' race reports as one campaign */
export const MergeReport = RunReport.extend({
  tool: z.literal('merge'),
  strategies: z.array(z.enum(SEARCH_NAMES)).optional(),
  budget: z.number().int().nonnegative(),
  jobs: z.number().int().nonnegative(),
  shards: z.number().int().positive(),
  shard_seconds: z.number().nonnegative(),
  interrupted: z.boolean().optional(),
  replay: z.string().optional(),
  first_failure_shard: z.number().int().positive().optional(),
}).strict();

export const ReplayReport = RunReport.extend({
  tool: z.literal('replay'),
  replay: z.object({ token: z.string(), ok: z.boolean(), message: z.string(), steps: z.number().int() }).strict(),
}).strict();

export const TraceReport = RunReport.extend({
  tool: z.literal('trace'),
  out: z.string(),
  /** trace-ring events written to the file, and those the rings overwrote before the end of the run */
  events: z.number().int().nonnegative(),
  dropped: z.number().int().nonnegative(),
  trace_events: z.number().int().nonnegative(),
}).strict();

const Row = z.object({
  class: z.string(),
  con_bounces: z.number(),
  contentions: z.number(),
  waittime_min_us: z.number(),
  waittime_max_us: z.number(),
  waittime_total_us: z.number(),
  waittime_avg_us: z.number(),
  waittime_samples: z.number(),
  acq_bounces: z.number(),
  acquisitions: z.number(),
  holdtime_min_us: z.number(),
  holdtime_max_us: z.number(),
  holdtime_total_us: z.number(),
  holdtime_avg_us: z.number(),
  holdtime_samples: z.number(),
  trylock_failures: z.number(),
  contending: z.number(),
});
const Point = z.object({ class: z.string(), site: z.string(), count: z.number(), waittime_avg_us: z.number() }).strict();
const Summary = z.object({ count: z.number(), min_us: z.number(), mean_us: z.number(), p50_us: z.number(), p90_us: z.number(), p99_us: z.number(), p99_9_us: z.number(), max_us: z.number() }).strict();

/** lockstat gives no verdict (result 'pass' when the profile was taken); `findings` are the workload's, for information. */
export const LockstatReport = RunReport.extend({
  tool: z.literal('lockstat'),
  schema: z.literal(1),
  users: z.number().int().positive(),
  io_cycles: z.number(),
  io_cycles_per_s: z.number(),
  time_unit: z.literal('us'),
  sampling: z.object({ hold_every: z.number(), wait_every: z.number(), note: z.string() }).strict(),
  classes: z.array(Row.strict()),
  sites: z.array(Row.extend({ site: z.string() }).strict()),
  contention_points: z.array(Point),
  contending_points: z.array(Point),
  trylock: z
    .object({
      failures: z.number(),
      by_site: z.array(z.object({ class: z.string(), site: z.string(), failures: z.number() }).strict()),
      eagain_retries: z.number(),
      eagain_by_op: z.record(z.number()),
    })
    .strict(),
  histograms: z.object({ lock_wait: z.record(Summary), request_to_irb: Summary }).strict(),
  lost: z.object({ lock_events: z.number(), histograms: z.number() }).strict(),
}).strict();

/** bench gives no verdict: result 'pass' when it measured; a missed target is `met: false` in its row. */
export const BenchReport = BaseReport.extend({
  tool: z.literal('bench'),
  bench: z.enum(['primitives', 'io', 'sched', 'detectors', 'lockstat']),
  rounds: z.number().int().positive(),
  rows: z.array(
    z
      .object({
        name: z.string(),
        unit: z.string(),
        ours: z.number(),
        raw: z.number(),
        ratio: z.number(),
        better: z.enum(['lower', 'higher']),
        target: z.string(),
        met: z.boolean(),
      })
      .passthrough(),
  ),
}).strict();

export const TOOL_SCHEMAS = { stress: StressReport, race: RaceReport, replay: ReplayReport, trace: TraceReport, lockstat: LockstatReport, bench: BenchReport, merge: MergeReport } as const;
export type ToolName = keyof typeof TOOL_SCHEMAS;

export type BaseReportT = z.infer<typeof BaseReport>;
export type RunReportT = z.infer<typeof RunReport>;
export type StressReportT = z.infer<typeof StressReport>;
export type RaceReportT = z.infer<typeof RaceReport>;
export type LockstatReportT = z.infer<typeof LockstatReport>;
export type BenchReportT = z.infer<typeof BenchReport>;

/** The keys every command's object starts with. */
export const header = <T extends string>(tool: T): { tool: T; version: string } => ({ tool, version: source_version() });

/** The one result of several runs: a finding fails it; an interruption or nothing applicable decides otherwise; only a complete run with findings none passes. */
export function overall(o: { interrupted: boolean; findings: number; ran: number; skipped: number }): (typeof RESULTS)[number] {
  if (o.interrupted) return 'interrupted';
  if (o.findings > 0) return 'fail';
  if (o.ran === 0 && o.skipped > 0) return 'skipped';
  return 'pass';
}
