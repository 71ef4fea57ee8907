// Main side of a run: the long-lived actor workers, shared memory reset between runs, and the
// report gathered from the machine, the driver, the detectors and the scenario's checks.
import { ActorKind, alloc_global, fault_configure, read_warnings, type FaultConfig, reset_global, set_current, Warn, objName, namedObjects, type SharedBuf, type WarnRecord } from '../kernel/index.ts';
import { ActorPool, prog, unwrap } from '../runtime/pool.ts';
import type { RunResult } from '../runtime/control.ts';
import { hw_stop } from '../hw/engine.ts';
import type { HwConfig } from '../hw/config.ts';
import { alloc_lockdep, lockdep_report } from '../detect/lockdep.ts';
import { alloc_race, race_losses, race_report, race_stats } from '../detect/race.ts';
import { alloc_lockstat, read_lockstat, type LockstatData, type LockstatOptions } from '../detect/lockstat.ts';
import { alloc_trace, read_trace, reset_trace, type TraceBuf, type TraceEvent } from '../trace/ring.ts';
import type { Finding, Report } from '../report/report.ts';
import { merge_findings, with_signatures } from '../report/signature.ts';
import { link_causes } from '../report/cause.ts';
import { explainer, function_level, interleaving_json, steps_as_lines, type Explainer, type TraceStep } from '../report/interleave.ts';
import { fsm_names } from '../report/events.ts';
import type { Scenario } from '../scenarios/types.ts';
import type { UserArgs, UserResult } from '../scenarios/env.ts';
import { alloc_devices, bind_system, device_of_buffer, init_driver, init_system, request_stop, shared_memory, SYS_INDEX, type System, type SystemBufs } from './device.ts';
import { check_devices, overrun_allowance_ms, race_shadow_for, type SharedMemory } from './devices.ts';
import { collect_device_stats, live_device_stats, type DeviceStat } from './device-stats.ts';
import type { DetectArgs, IrqArgs } from './actors.ts';
import { wq_stop, SCHED_LOG, MAX_ACTORS, eventfd_totals, BARRIER_TIMEOUT } from '../kernel/index.ts';
import { ActorSched, SchedAbortName, SchedAbortReason, SchedView } from '../sched/state.ts';
import { init_strategy, type StrategyName } from '../sched/strategy.ts';
import { unpack, type Decision } from '../sched/decision.ts';
import { hang_report, watch, watchdog_buffers } from '../detect/watchdog.ts';
import { user_variant_modules } from '../variants/load.ts';
import { sched_cancel } from '../sched/scheduler.ts';
import { is_user_scenario, map_stack, user_frame } from '../scenarios/load.ts';
import { variant_by_name } from '../variants/index.ts';

/** Why `scenario` cannot run on `variant` (every step not applicable), or null when it can. */
export function not_applicable(scenario: Scenario, variant: string): string | null {
  const v = variant_by_name(variant);
  if (v === undefined) throw new Error(`no variant ${variant}`);
  return scenario.requires?.(v.features) ?? null;
}

const ACTORS = new URL('./actors.ts', import.meta.url).href;
export const IRQ_ACTOR = 1;
export const TODO_ACTOR = 2;
export const FIRST_USER = 3;
/** The css worker (cio_work_q) comes after the rig's users, so a user keeps its actor id. */
export const css_actor = (rig_users: number): number => FIRST_USER + rig_users;

export type DetectorName = 'invariants' | 'lockdep' | 'trace' | 'race' | 'lockstat';
/** The default set. 'lockstat' is a profiler, not a detector: a run has it only when named. */
export const ALL_DETECTORS: readonly DetectorName[] = ['invariants', 'lockdep', 'trace', 'race'];

export interface RunConfig {
  variant: string;
  scenario: Scenario;
  users: number;
  seed: number;
  iterations?: number;
  duration_s?: number;
  hw?: Partial<HwConfig>;
  detectors: readonly DetectorName[];
  params?: Record<string, number | string | boolean>;
  /** seeded delay injection at hook points (free mode) */
  delay?: { p: number; max_us: number };
  /** free-mode bound for the machine thread (ms) */
  max_ms?: number;
  /** controlled mode: one actor at a time, chosen by a strategy */
  sched?: SchedConfig;
  /** free mode: no progress for this long is a hang (ms) */
  hang_ms?: number;
  /** free mode with a duration: still running this long past it, with progress, is a livelock (ms; default 60 000) */
  grace_ms?: number;
  /** with the 'lockstat' detector: its sampling */
  lockstat?: LockstatOptions;
  /** a coverage buffer (src/fuzz/coverage.ts) every actor adds to */
  coverage?: SharedArrayBuffer;
  /** fault injection (src/kernel/fault.ts), in every actor and in main's probe */
  fault?: FaultConfig;
  /** subchannels (the rig's count; 1 when absent) */
  devices?: number;
}

export interface SchedConfig {
  strategy: StrategyName;
  seed: number;
  /** PCT: the depth, and the steps over which its change points are spread */
  depth: number;
  expected: number;
  /** choices to follow first (replay, bounded exhaustive search) */
  forced?: readonly number[];
  max_steps?: number;
}

/** What the scheduler recorded about a controlled run. */
export interface SchedOutcome {
  steps: number;
  preemptions: number;
  abort: string;
  kind_hash: number;
  checks: number[];
  decisions: Decision[];
  vnow: number;
}

export interface RunOutcome {
  sched?: SchedOutcome;
  report: Report;
  results: UserResult[];
  trace: TraceEvent[];
  warnings: WarnRecord[];
  /** with the 'lockstat' detector */
  lockstat?: LockstatData;
  /** a user's own scenario file threw: its errors, kept apart from the driver's findings */
  scenario_errors?: ScenarioFault[];
  /** per-device counters, when the run has more than one device */
  devices?: DeviceStat[];
}

/** An error a user's scenario program threw (not the driver's): where in the user's file, and its stack. */
export interface ScenarioFault {
  actor: number;
  where: string;
  message: string;
  stack: string;
}

export class Rig {
  private constructor(
    readonly pool: ActorPool,
    readonly bufs: SystemBufs,
    readonly users: number,
    readonly trace: TraceBuf,
    private lockdepSab: SharedArrayBuffer,
  ) {}

  /** The shared memory of the rig's system (bench devices, stress --devices). */
  shared_memory(): SharedMemory {
    return shared_memory(this.bufs);
  }

  /** Subchannels every run of this rig has. */
  get devices(): number {
    return this.bufs.devs.length;
  }

  /** Start the workers once: IRQ, todo, and `users` user workers, over `devices` devices. */
  static async start(users: number, modules: string[] = [], devices = 1): Promise<Rig> {
    const g = alloc_global();
    set_current(g, 0, ActorKind.main, 'main');
    const bufs = alloc_devices(g, check_devices(devices));
    const specs = [
      { id: IRQ_ACTOR, kind: ActorKind.irq, name: 'irq' },
      { id: TODO_ACTOR, kind: ActorKind.todo, name: 'todo' },
      ...Array.from({ length: users }, (_, u) => ({ id: FIRST_USER + u, kind: ActorKind.user, name: `user${u}` })),
      { id: css_actor(users), kind: ActorKind.todo, name: 'css' },
    ];
    // the users' variant files this thread loaded: every worker builds its driver from the same file
    const pool = await ActorPool.start(specs, g, [bufs.sys, ...bufs.devs], [ACTORS, ...user_variant_modules(), ...modules]);
    watchdog_buffers([g, bufs.sys, ...bufs.devs]);
    return new Rig(pool, bufs, users, alloc_trace(), alloc_lockdep().sab);
  }

  get g(): SharedBuf {
    return this.bufs.g;
  }

  /** Ask the users to stop their loops (Ctrl-C): the run ends and still reports. */
  request_stop(): void {
    request_stop(this.bufs.sys);
  }

  private live: ReturnType<typeof bind_system> | null = null;
  /** main's views of the system, per variant (they are stateless; building them is not free) */
  private readonly systems = new Map<string, ReturnType<typeof bind_system>>();

  /** Counters of the run in progress, read from shared memory (for periodic stat lines). */
  live_stats(): { starts: number; raised: number; handled: number; delivered: number; eagain: number } | null {
    return this.live === null ? null : live_device_stats(this.live);
  }

  /** A fresh lockdep graph (the graph is kept across the runs of a campaign until this is called). */
  reset_lockdep(): void {
    this.lockdepSab = alloc_lockdep().sab;
  }

  /** Set when a hang left workers blocked for good: their threads were terminated. */
  dead = false;

  /** One run: prepare -> launch -> await the end -> collect -> report. */
  async run(cfg: RunConfig): Promise<RunOutcome> {
    if (this.dead) throw new Error('the rig stopped after a hang; start a new one');
    // A scenario that needs what this variant lacks is not run: every step is not applicable.
    const why = not_applicable(cfg.scenario, cfg.variant);
    if (why !== null) return skipped(cfg, why);
    if (cfg.users > this.users) throw new Error(`rig has ${this.users} user workers, run asks for ${cfg.users}`);
    if ((cfg.devices ?? 1) !== this.devices) throw new Error(`rig has ${this.devices} devices, run asks for ${cfg.devices ?? 1}`);
    const run = this.prepare(cfg);
    const actors = this.launch(cfg, run);
    const end = await this.await_end(cfg, run, actors);
    if (end.hung !== undefined) return this.hung(cfg, run.on.has('trace'), end.hung, run.t0, await failed_by_now(actors, this.users));
    return this.report(cfg, run, collect(cfg, run, end));
  }

  /** Reset shared memory with every actor parked, set the system up again, and the detectors and scheduler for this run. */
  private prepare(cfg: RunConfig): Prepared {
    const t0 = performance.now();
    reset_global(this.g);
    this.bufs.sys.i32.fill(0);
    for (const d of this.bufs.devs) d.i32.fill(0);
    reset_trace(this.trace);
    let sys = this.systems.get(cfg.variant);
    if (sys === undefined) {
      sys = bind_system(this.g, this.bufs, cfg.variant);
      this.systems.set(cfg.variant, sys);
    }
    this.live = sys;
    init_system(sys);
    fault_configure(cfg.fault ?? null);
    init_driver(sys, { mdev: true });
    const on = new Set(cfg.detectors);
    // Fresh clocks and shadow memory per run: the last run's accesses are not ordered with this one's.
    const race = on.has('race') ? alloc_race(race_shadow_for(this.devices)) : undefined;
    const lockstat = on.has('lockstat') ? alloc_lockstat(cfg.lockstat) : undefined;
    const detect: DetectArgs = {
      ...(on.has('trace') ? { trace: { sab: this.trace.sab, cap: this.trace.cap } } : {}),
      ...(on.has('lockdep') ? { lockdep: this.lockdepSab } : {}),
      invariants: on.has('invariants'),
      ...(race !== undefined ? { race } : {}),
      ...(lockstat !== undefined ? { lockstat } : {}),
      ...(cfg.delay !== undefined ? { delay: { ...cfg.delay, seed: cfg.seed } } : {}),
      ...(cfg.coverage !== undefined ? { coverage: cfg.coverage } : {}),
      ...(cfg.fault !== undefined ? { fault: cfg.fault } : {}),
    };
    const sv = new SchedView(this.g);
    if (cfg.sched !== undefined) init_schedule(sv, cfg.sched, cfg.users, css_actor(this.users));
    return { t0, sys, on, detect, sv, controlled: cfg.sched !== undefined, race, lockstat };
  }

  /** Start the IRQ, todo and user programs on their workers. */
  private launch(cfg: RunConfig, run: Prepared): Launched {
    const { detect, controlled: sched } = run;
    const hw = { ...cfg.scenario.hw, ...cfg.hw };
    const max_ms = cfg.max_ms ?? Math.max(60_000, (cfg.duration_s ?? 0) * 1000 + 30_000);
    const irqArgs: IrqArgs = { variant: cfg.variant, detect, seed: cfg.seed, hw, max_ms, sched };
    const irq = this.pool.run(IRQ_ACTOR, prog(ACTORS, 'irq_main'), irqArgs);
    const todo = this.pool.run(TODO_ACTOR, prog(ACTORS, 'todo_main'), { variant: cfg.variant, detect, sched });
    const css = this.pool.run(css_actor(this.users), prog(ACTORS, 'css_main'), { variant: cfg.variant, detect, sched });
    const deadline = cfg.duration_s !== undefined ? performance.timeOrigin + performance.now() + cfg.duration_s * 1000 : Infinity;
    const users = Array.from({ length: cfg.users }, (_, u) => {
      const args: UserArgs = { variant: cfg.variant, detect, sched, user: u, users: cfg.users, seed: cfg.seed, iterations: cfg.iterations ?? cfg.scenario.iterations, deadline, params: cfg.params ?? {}, devices: this.devices };
      return this.pool.run(FIRST_USER + u, prog(cfg.scenario.module, 'user'), args);
    });
    // The last actor to enter starts the schedule. One that fails before it enters would leave the
    // others waiting for the baton: abort the schedule then.
    if (sched) {
      const guard = (r: Promise<RunResult>): void => {
        // (a rejection is the awaiting code's to report, not this guard's)
        r.then(
          (x) => {
            if (!x.ok && run.sv.get('arrived') < 3 + cfg.users) sched_cancel(this.g, SchedAbortReason.failed);
          },
          () => undefined,
        );
      };
      [irq, todo, css, ...users].forEach(guard);
    }
    return { irq, todo, css, users };
  }

  /** Wait for the users (free mode: under the watchdog), then stop the machine and the workqueue and wait for them. */
  private async await_end(cfg: RunConfig, run: Prepared, a: Launched): Promise<Ended> {
    const all = Promise.allSettled(a.users.map(async (r) => unwrap<UserResult>(await r)));
    const hang_ms = cfg.hang_ms ?? 20_000;
    const watched = async (p: Promise<unknown>, overrun_ms: number): Promise<'done' | 'hang' | 'overrun'> =>
      watch(this.g, p, { bound_ms: hang_ms, every_ms: Math.min(250, hang_ms / 4), overrun_ms }, () => run.sys.css.get('loops'));
    if (!run.controlled) {
      // A run that goes on making progress long after its deadline is a livelock (a quiesce that
      // restarts for ever, a retry loop nobody breaks): report it like a hang.
      const overrun_ms = cfg.duration_s !== undefined ? cfg.duration_s * 1000 + (cfg.grace_ms ?? 60_000) + overrun_allowance_ms(this.devices) : Infinity;
      const w = await watched(all, overrun_ms);
      if (w !== 'done') return { hung: w === 'overrun' ? -1 : hang_ms };
    }
    const settled = await all;
    if (!run.controlled) {
      hw_stop(run.sys.css);
      wq_stop(run.sys.wq);
      wq_stop(run.sys.cio_wq);
      // a worker ends after the work it runs: the css worker's unregistration waits for the FDs
      // for ever, as the kernel's does, and must not keep the run (and a stopped tool) alive
      const w = await watched(Promise.allSettled([a.irq, a.todo, a.css]), cfg.grace_ms ?? 60_000);
      if (w !== 'done') return { hung: w === 'overrun' ? -1 : hang_ms };
    }
    return { settled, irq: await a.irq, todo: await a.todo, css: await a.css, abort: run.controlled ? run.sv.get('abort') : 0 };
  }

  /** The accounting checks, the scenario's checks and the detectors' findings, as the run's report. */
  private report(cfg: RunConfig, run: Prepared, c: Collected): RunOutcome {
    const { stats, results } = c;
    const findings = [...c.failures, ...accounting(c)];
    const checks = [...results.flatMap((r) => r.checks), ...(cfg.scenario.check?.(results, stats) ?? [])];
    for (const k of checks) if (!k.ok) findings.push({ kind: 'invariant', id: k.id, message: k.message });
    const not_applicable = [...new Set(results.flatMap((r) => r.not_applicable))];
    const trace = run.on.has('trace') ? read_trace(this.trace) : [];
    const ex = explainer(trace, { obj: objName, controlled: run.controlled, ...optional_fsm(cfg.variant) });
    const warnings = read_warnings(this.g).records;
    for (const w of warnings) findings.push(warning_finding(w, ex));
    if (run.on.has('lockdep')) {
      const classes = [...new Set([...namedObjects('mutex'), ...namedObjects('spinlock'), ...namedObjects('completion')].map((o) => o.cls))];
      const withComp = classes.concat(namedObjects('completion').map((o) => `completion:${o.cls}`));
      for (const l of lockdep_report({ sab: this.lockdepSab }, withComp, this.devices > 1 ? device_of_buffer : undefined)) findings.push({ kind: 'lockdep', id: l.id, message: l.message });
    }
    if (run.race !== undefined) findings.push(...race_findings(run.race, ex, stats));
    const report: Report = {
      result: findings.length === 0 ? 'pass' : 'fail',
      variant: cfg.variant,
      scenario: cfg.scenario.id,
      mode: run.controlled ? 'controlled' : 'free',
      findings: report_findings(findings, cfg),
      stats,
      seed: cfg.seed,
      duration_s: (performance.now() - run.t0) / 1000,
      ...(not_applicable.length > 0 ? { not_applicable } : {}),
    };
    const lockstat = run.lockstat !== undefined ? read_lockstat(run.lockstat) : undefined;
    return { report, results, trace, warnings, ...(run.controlled ? { sched: sched_outcome(run.sv) } : {}), ...(lockstat !== undefined ? { lockstat } : {}), ...(c.scenario_errors.length > 0 ? { scenario_errors: c.scenario_errors } : {}), ...(this.devices > 1 ? { devices: c.per_device } : {}) };
  }

  /** A hang: report it, then terminate the workers (they cannot be reused). */
  private async hung(cfg: RunConfig, traced: boolean, hang_ms: number, t0: number, failed: Finding[]): Promise<RunOutcome> {
    const trace = traced ? read_trace(this.trace) : [];
    const findings = hang_report(this.g, trace, hang_ms);
    // an actor that threw holding a lock is why the others wait: its error is in the report too
    findings.splice(1, 0, ...failed);
    const ex = explainer(trace, { obj: objName, controlled: false, ...optional_fsm(cfg.variant) });
    if (hang_ms < 0) findings[0] = { ...findings[0]!, id: 'livelock', message: findings[0]!.message.replace(/^INFO: no progress for -1 ms\./, `INFO: still running ${((cfg.grace_ms ?? 60_000) / 1000).toFixed(0)} s past the deadline, with progress (a livelock).`) };
    const warnings = read_warnings(this.g).records;
    for (const w of warnings) findings.push(warning_finding(w, ex));
    this.dead = true;
    await this.pool.close();
    const report: Report = { result: 'fail', variant: cfg.variant, scenario: cfg.scenario.id, mode: 'free', findings: report_findings(findings, cfg), stats: {}, seed: cfg.seed, duration_s: (performance.now() - t0) / 1000 };
    return { report, results: [], trace, warnings };
  }

  /** Load a scenario's module (or a user's variant file) in the running workers: a change of scenario starts no thread. */
  preload(modules: string[]): Promise<void> {
    return this.pool.preload(modules);
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/**
 * What the actors that already ended had found when the run hung (the others are still running or
 * waiting): a worker's or user's exception, and the failed checks of a user that returned (the
 * fuzzer's record of a call that threw with a lock held). Neither is lost because the actors it
 * left waiting hung.
 */
async function failed_by_now(a: Launched, users: number): Promise<Finding[]> {
  const PENDING = Symbol('pending');
  const now = async (p: Promise<RunResult>): Promise<RunResult | typeof PENDING> => Promise.race([p, Promise.resolve(PENDING)]).catch((e: unknown) => ({ ok: false, error: { name: 'Error', message: String(e) } }));
  const named: [string, Promise<RunResult>, number][] = [['irq', a.irq, IRQ_ACTOR], ['todo', a.todo, TODO_ACTOR], ['css', a.css, css_actor(users)], ...a.users.map((p, u): [string, Promise<RunResult>, number] => [`user ${u}`, p, FIRST_USER + u])];
  const out: Finding[] = [];
  for (const [name, p, actor] of named) {
    const r = await now(p);
    if (r === PENDING) continue;
    if (r.ok) {
      const checks = (r.value as Partial<UserResult> | undefined)?.checks ?? [];
      for (const k of checks) if (!k.ok) out.push({ kind: 'invariant', id: k.id, message: k.message, actor });
      continue;
    }
    // a user that gave up at a barrier the hung actors never reached: the hang itself, not its cause
    if (r.error?.name === BARRIER_TIMEOUT) continue;
    const id = name.startsWith('user') ? 'user-failed' : `${name}-failed`;
    const stack = stack_frames(r.error?.stack);
    out.push({ kind: 'hang', id, message: `${name}${name.startsWith('user') ? '' : ' worker'}: ${r.error?.message ?? 'failed'}`, actor, ...(stack.length > 0 ? { trace: stack } : {}) });
  }
  return out;
}

/** The first frames of a worker's error stack (where in the port it threw), for the finding's trace. */
function stack_frames(stack: string | undefined): string[] {
  return (stack ?? '').split('\n').filter((l) => /^\s+at /.test(l)).slice(0, 8).map((l) => l.trim());
}

/** What prepare set up for one run. */
interface Prepared {
  t0: number;
  sys: System;
  on: ReadonlySet<DetectorName>;
  detect: DetectArgs;
  sv: SchedView;
  controlled: boolean;
  race: SharedArrayBuffer | undefined;
  lockstat: SharedArrayBuffer | undefined;
}

/** The programs launched: each worker's result to come. */
interface Launched {
  irq: Promise<RunResult>;
  todo: Promise<RunResult>;
  css: Promise<RunResult>;
  users: Promise<RunResult>[];
}

/** How the run ended: a hang (its bound in ms, -1 a livelock past the deadline), or every actor's outcome. */
type Ended = { hung: number } | { hung?: undefined; settled: PromiseSettledResult<UserResult>[]; irq: RunResult; todo: RunResult; css: RunResult; abort: number };

/** What the run left: the users' results, the actors' failures, and the machine's and driver's counters. */
interface Collected {
  results: UserResult[];
  failures: Finding[];
  scenario_errors: ScenarioFault[];
  stats: Record<string, number>;
  /** each device's counters (stress prints them for many devices) */
  per_device: DeviceStat[];
  /** each device's accounting errors, named by device when there are several */
  device_accounting: Finding[];
}

/** Controlled mode: the scheduler's shared state for a new schedule, with the strategy's. */
function init_schedule(sv: SchedView, c: SchedConfig, users: number, css: number): void {
  sv.reset();
  sv.set('mode', 1);
  sv.set('users', users);
  sv.set('max_steps', c.max_steps ?? 200_000);
  const ids = [IRQ_ACTOR, TODO_ACTOR, ...Array.from({ length: users }, (_, u) => FIRST_USER + u)];
  sv.set('start_at', 3 + users);
  // the css worker is late: it enters blocked on cio_work_q, and the strategies draw nothing for it
  init_strategy(sv, { strategy: c.strategy, seed: c.seed, depth: c.depth, expected: c.expected, actors: ids, late: [css], ...(c.forced !== undefined ? { forced: c.forced } : {}) });
}

/** A scenario that needs what the variant lacks: nothing ran. */
function skipped(cfg: RunConfig, why: string): RunOutcome {
  const report: Report = { result: 'skipped', variant: cfg.variant, scenario: cfg.scenario.id, mode: cfg.sched !== undefined ? 'controlled' : 'free', findings: [], stats: {}, seed: cfg.seed, duration_s: 0, not_applicable: [`${cfg.scenario.id}: ${why}`] };
  return { report, results: [], trace: [], warnings: [] };
}

const NO_RESULT = (): UserResult => ({ counters: {}, checks: [], not_applicable: [], notes: [] });

/** The actors' outcomes and the counters in shared memory, read once every actor is done. */
function collect(cfg: RunConfig, run: Prepared, end: Exclude<Ended, { hung: number }>): Collected {
  const { abort } = end;
  const failures: Finding[] = [];
  const results: UserResult[] = [];
  if (abort === SchedAbortReason.deadlock) failures.push({ kind: 'hang', id: 'deadlock', message: `nothing can run: every actor is blocked (${blocked_desc(run.sv)})` });
  else if (abort === SchedAbortReason.step_bound) failures.push({ kind: 'hang', id: 'livelock', message: `no end after ${run.sv.get('step')} schedule points` });
  else if (abort === SchedAbortReason.stuck) failures.push({ kind: 'hang', id: 'sched-stuck', message: 'the baton protocol stalled (internal)' });
  // An actor that failed before the schedule began aborted it: its error is the finding, the
  // others' aborts are not.
  const byAbort = (msg: string | undefined): boolean => abort !== 0 && (abort !== SchedAbortReason.failed || /schedule aborted/.test(msg ?? ''));
  const scenario_errors: ScenarioFault[] = [];
  end.settled.forEach((s, u) => {
    if (s.status === 'fulfilled') return void results.push(s.value);
    results.push(NO_RESULT());
    const e = s.reason as Error;
    const message = String(e?.message ?? s.reason);
    if (byAbort(message)) return;
    const where = is_user_scenario(cfg.scenario) ? thrown_by_user(e, cfg.scenario.module) : null;
    // the user's own code threw: a bug in the scenario, not a finding about the driver
    if (where !== null) scenario_errors.push({ actor: FIRST_USER + u, where, message: e.message.replace(/^\w*Error: /, ''), stack: map_stack(String(e.stack ?? e.message), cfg.scenario.module) });
    else failures.push({ kind: 'hang', id: 'user-failed', message: `user ${u}: ${message}`, actor: FIRST_USER + u });
  });
  for (const [name, r] of [['irq', end.irq], ['todo', end.todo], ['css', end.css]] as const) {
    if (!r.ok && !byAbort(r.error?.message)) {
      const stack = stack_frames(r.error?.stack);
      failures.push({ kind: 'hang', id: `${name}-failed`, message: `${name} worker: ${r.error?.message ?? 'failed'}`, ...(stack.length > 0 ? { trace: stack } : {}) });
    }
  }
  const stats: Record<string, number> = {};
  const device_accounting: Finding[] = [];
  const per_device = collect_device_stats(run.sys, stats, device_accounting);
  counters(run.sys, results, stats);
  return { results, failures, scenario_errors, stats, per_device, device_accounting };
}

/** The eventfds' and the users' counters (the machine's and the driver's come per device). */
function counters(sys: System, results: readonly UserResult[], stats: Record<string, number>): void {
  const fds = eventfd_totals(sys.g);
  stats['eventfd.signals'] = fds.signals;
  stats['eventfd.reads'] = fds.reads;
  for (const r of results) for (const [k, v] of Object.entries(r.counters)) stats[`user.${k}`] = (stats[`user.${k}`] ?? 0) + v;
}

/** The machine's, the driver's (per device) and the eventfds' books must balance. */
function accounting({ device_accounting, stats: s }: Collected): Finding[] {
  const out = [...device_accounting];
  // every read that got a count needs a signal before it
  if (s['eventfd.reads']! > s['eventfd.signals']!) out.push({ kind: 'accounting', id: 'eventfd', message: `eventfd reads ${s['eventfd.reads']} > signals ${s['eventfd.signals']}` });
  return out;
}

/** The race detector's findings, each with its window of the trace; its own counters go to stats. */
function race_findings(sab: SharedArrayBuffer, ex: Explainer, stats: Record<string, number>): Finding[] {
  const out: Finding[] = [];
  for (const r of race_report(sab)) {
    const first = { actor: r.first.actor, function: r.first.site, op: r.first.op, marked: r.first.marked };
    const second = { actor: r.second.actor, function: r.second.site, op: r.second.op, marked: r.second.marked };
    const f: Finding = { kind: 'data-race', id: r.id === 'data-race' ? r.field : `data-race-marked:${r.field}`, message: r.message, actor: r.second.actor, count: r.count, race: { field: r.field, first, second } };
    out.push(with_window(f, ex.race(r.field, first, second)));
  }
  const rs = race_stats(sab);
  stats['race.accesses'] = rs.accesses;
  stats['race.shadow_used'] = rs.shadow_used;
  for (const m of race_losses(rs)) out.push({ kind: 'accounting', id: 'race-detector', message: m });
  return out;
}

function sched_outcome(v: SchedView): SchedOutcome {
  const n = Math.min(v.get('ndec'), SCHED_LOG);
  // Copy the logs now (the next run overwrites them); build the objects only if someone asks
  // (shrinking, DPOR, reports): a search by seed never does.
  const w = v.w;
  const dec = v.a.slice(w.dec, w.dec + n);
  const kind = v.a.slice(w.dec_kind, w.dec_kind + n);
  const timed = v.a.slice(w.dec_timed, w.dec_timed + n);
  const mark = v.a.slice(w.dec_mark, w.dec_mark + n);
  let decisions: Decision[] | null = null;
  const nc = v.get('ncheck');
  const out = {
    steps: v.get('step'),
    preemptions: v.get('preemptions'),
    abort: SchedAbortName[v.get('abort')] ?? 'unknown',
    kind_hash: v.get('kind_hash') >>> 0,
    checks: Array.from({ length: nc }, (_, k) => v.get('checks', k) >>> 0),
    vnow: v.vnow,
  };
  Object.defineProperty(out, 'decisions', {
    enumerable: true,
    get: (): Decision[] => {
      decisions ??= Array.from(dec, (d, k) => unpack(d, kind[k]!, timed[k]!, mark[k]!));
      return decisions;
    },
  });
  return out as SchedOutcome;
}

function blocked_desc(v: SchedView): string {
  const out: string[] = [];
  for (let k = 0; k < MAX_ACTORS; k++) if (v.get('st', k) === ActorSched.blocked) out.push(`actor ${k} waits on ${objName(v.get('key', k))}`);
  return out.join('; ');
}

/** A recorded WARN/BUG/invariant as a finding, with the window of the trace that led to it. */
function warning_finding(w: WarnRecord, ex: Explainer): Finding {
  const uaf = w.code === Warn.use_after_free;
  const kind = w.code === Warn.invariant ? 'invariant' : uaf ? 'use-after-free' : 'lockdep';
  const id = w.code === Warn.invariant ? (w.msg.split(':')[0] ?? 'I?') : uaf ? (w.msg.includes('NULL pointer') ? 'null-ptr-deref' : 'use-after-free') : w.name;
  return with_window({ kind, id, message: w.msg, actor: w.actor, count: w.count }, w.seq >= 0 ? ex.warning(w.seq) : []);
}

function with_window(f: Finding, steps: TraceStep[]): Finding {
  if (steps.length === 0) return f;
  return { ...f, trace: steps_as_lines(steps), steps, interleaving: interleaving_json(function_level(steps)) };
}

const optional_fsm = (variant: string): { fsm?: NonNullable<ReturnType<typeof fsm_names>> } => {
  const n = fsm_names(variant);
  return n !== undefined ? { fsm: n } : {};
};

/** One entry per signature, where it was seen, and the causes linked. */
function report_findings(fs: readonly Finding[], cfg: RunConfig): Finding[] {
  const seen = [{ scenario: cfg.scenario.id, variant: cfg.variant }];
  return link_causes(merge_findings(with_signatures(fs.map((f) => ({ ...f, seen })))));
}

export { SYS_INDEX };

/** The user's file and line when the first frame of the error's stack (below the messages) is in the user's scenario. */
function thrown_by_user(reason: unknown, module: string): string | null {
  const stack = String((reason as Error)?.stack ?? '');
  const first = stack.split('\n').find((l) => /^\s+at /.test(l) && !l.includes('node:internal'));
  return first === undefined ? null : user_frame(first, module);
}
