// The programs the long-lived actor workers run: the IRQ worker (the machine and the host's
// interrupt entry), the todo worker (the vfio-ccw workqueue), the css worker (the css layer's
// cio_work_q), and the detectors each installs.
import { fault_configure, register_work_fn, set_might_sleep_mode, worker_thread, wq_idle_begin, wq_idle_end, wq_idle_key, wq_never_queued, wq_stop, type FaultConfig, type WorkqueueStruct } from '../kernel/index.ts';
import { css_hw_run, css_register_driver, css_sch_todo, css_slow_path_func, css_unregister_driver, type CssDriver, type Subch } from '../cio/css.ts';
import { vfio_ccw_sch_remove } from '../driver/drv_remove.ts';
import { vfio_ccw_sch_probe_new } from '../driver/drv_probe.ts';
import { hw_stop } from '../hw/engine.ts';
import type { HwConfig } from '../hw/config.ts';
import { vfio_ccw_chp_event, vfio_ccw_crw_todo, vfio_ccw_sch_event, vfio_ccw_sch_io_todo, vfio_ccw_sch_irq } from '../driver/drv.ts';
import type { VfioCcwPrivate } from '../driver/private.ts';
import { start_invariants } from '../detect/invariants.ts';
import { start_lifetimes } from '../detect/lifetime.ts';
import { start_lockdep } from '../detect/lockdep.ts';
import { start_race_detector } from '../detect/race.ts';
import { start_lockstat } from '../detect/lockstat.ts';
import { start_tracer } from '../trace/ring.ts';
import { start_delay_injection, type DelayArgs } from '../detect/delay.ts';
import { current } from '../kernel/index.ts';
import type { ProgramCtx } from '../runtime/context.ts';
import { WORK_CRW_TODO, WORK_IO_TODO, WORK_SCH_TODO, WORK_SLOW_PATH, bind_system, type System } from './device.ts';
import { sched_attach, sched_enter, sched_exit, sched_retire_idle } from '../sched/scheduler.ts';
import { start_coverage } from '../fuzz/coverage.ts';
import { ENTRY, entry } from '../fuzz/entry.ts';

export interface DetectArgs {
  trace?: { sab: SharedArrayBuffer; cap: number };
  delay?: DelayArgs;
  lockdep?: SharedArrayBuffer;
  invariants?: boolean;
  race?: SharedArrayBuffer;
  /** lock statistics (a profiler: on only when asked for by name) */
  lockstat?: SharedArrayBuffer;
  /** coverage: FSM cells, entry points' answers and overlaps (src/fuzz/coverage.ts) */
  coverage?: SharedArrayBuffer;
  /** fault injection at the driver's allocation, pin, registration and lookup sites */
  fault?: FaultConfig;
}

export interface ActorArgs {
  variant: string;
  detect: DetectArgs;
  /** controlled mode: this actor runs under the scheduler */
  sched?: boolean;
}

export interface IrqArgs extends ActorArgs {
  seed: number;
  hw: Partial<HwConfig>;
  max_ms: number;
}

/** This thread's system handles for a variant (rebuilt when the variant changes). */
let cached: { variant: string; sys: System } | null = null;
export function system_of(ctx: ProgramCtx, variant: string): System {
  if (cached === null || cached.variant !== variant) cached = { variant, sys: bind_system(ctx.g, ctx.bufs, variant) };
  return cached.sys;
}

/**
 * Run `body` as this actor: under the scheduler in controlled mode (attached before the detectors,
 * so the tracer records an event when it really runs), with the requested detectors.
 */
export function as_actor<T>(sys: System, a: ActorArgs, isUser: boolean, body: () => T, idle?: { wq: WorkqueueStruct; retired: T }): T {
  const detach = a.sched === true ? sched_attach(sys.g, () => {
    hw_stop(sys.css);
    wq_stop(sys.wq);
    // cio_work_q never had work: its worker leaves as if it had never been scheduled (no priority
    // drawn, no decision), so a run without a css todo makes the decisions it made without it
    if (wq_never_queued(sys.cio_wq)) sched_retire_idle(wq_idle_key(sys.cio_wq));
    wq_stop(sys.cio_wq);
  }) : null;
  const off = detectors_on(sys, a.detect);
  let entered = detach !== null;
  try {
    // an idle executor enters the schedule blocked on its queue: no decision until work comes
    if (detach !== null && idle !== undefined) {
      entered = sched_enter(wq_idle_begin(idle.wq));
      wq_idle_end(idle.wq);
      if (!entered) return idle.retired;
    } else if (detach !== null) sched_enter();
    return body();
  } finally {
    if (entered) sched_exit(isUser);
    off();
    detach?.();
  }
}

/** Install the requested detectors in this thread; returns their uninstall. */
export function detectors_on(sys: System, d: DetectArgs): () => void {
  const offs: (() => void)[] = [];
  // Detectors report and the run goes on, as the kernel's splat does; tests of the seam alone keep BUG.
  set_might_sleep_mode('warn');
  if (d.trace !== undefined) offs.push(start_tracer(d.trace));
  if (d.lockdep !== undefined) offs.push(start_lockdep({ sab: d.lockdep }));
  if (d.race !== undefined) offs.push(start_race_detector(d.race, current.id));
  if (d.invariants === true) offs.push(start_invariants(sys.devs), start_lifetimes(sys.devs));
  if (d.lockstat !== undefined) offs.push(start_lockstat(d.lockstat, current.id));
  if (d.coverage !== undefined) offs.push(start_coverage(d.coverage, current.id));
  if (d.fault !== undefined) offs.push((fault_configure(d.fault, current.id), () => fault_configure(null)));
  // Last, so the detectors have already seen an access when the delay stretches the window after it.
  if (d.delay !== undefined) offs.push(start_delay_injection(d.delay, current.id));
  return () => {
    for (const off of offs.reverse()) off();
    set_might_sleep_mode('bug');
  };
}

/** sch -> private: through the parent's drvdata in v6.2+, which is NULL without an mdev. */
export function private_of(sys: System, sch: Subch): VfioCcwPrivate | null {
  const p = sys.devs[sch.dev];
  if (p === undefined) return null;
  if (p.drv.f.parent_split && Atomics.load(p.v.mdev.a, p.v.mdev.i) === 0) return null;
  return p;
}

/** struct css_driver vfio_ccw_sch_driver, as the threads that deliver css callbacks register it. */
function vfio_ccw_sch_driver(sys: System): CssDriver {
  return {
    irq: (sch) => vfio_ccw_sch_irq(private_of(sys, sch), sch),
    sch_event: (sch) => entry(ENTRY.sch_event, () => vfio_ccw_sch_event(private_of(sys, sch), sch)),
    chp_event: (sch, link, event) => entry(ENTRY.chp_event, () => vfio_ccw_chp_event(private_of(sys, sch), sch, link, event)),
    // the subchannel's drvdata (the parent in v6.2+) is set for as long as the driver is bound
    remove: (sch) => vfio_ccw_sch_remove(sys.devs[sch.dev]!, sch),
    // a subchannel probed again after it came back (the css worker's slow path)
    probe: (sch) => vfio_ccw_sch_probe_new(sys.devs[sch.dev]!),
  };
}

export function irq_main(ctx: ProgramCtx, args: IrqArgs): { loops: number; presented: number } {
  const sys = system_of(ctx, args.variant);
  css_register_driver(vfio_ccw_sch_driver(sys));
  try {
    const r = as_actor(sys, args, false, () => css_hw_run(sys.css, sys.devs.map((p) => p.sch), args.seed, args.hw, args.max_ms, sys.bus));
    return { loops: r.loops, presented: r.presented };
  } finally {
    css_unregister_driver();
  }
}

export function todo_main(ctx: ProgramCtx, args: ActorArgs): number {
  const sys = system_of(ctx, args.variant);
  register_work_fn(WORK_IO_TODO, (_w, dev) => vfio_ccw_sch_io_todo(sys.devs[dev]!));
  register_work_fn(WORK_CRW_TODO, (_w, dev) => vfio_ccw_crw_todo(sys.devs[dev]!));
  return as_actor(sys, args, false, () => worker_thread(sys.wq));
}

/**
 * The css worker: cio_work_q's executor: css_sch_todo, which unregisters a subchannel gone NOT_OPER,
 * and css_slow_path_func, which probes a subchannel that came back.
 */
export function css_main(ctx: ProgramCtx, args: ActorArgs): number {
  const sys = system_of(ctx, args.variant);
  register_work_fn(WORK_SCH_TODO, (_w, dev) => css_sch_todo(sys.devs[dev]!.sch));
  register_work_fn(WORK_SLOW_PATH, () => css_slow_path_func(sys.bus));
  css_register_driver(vfio_ccw_sch_driver(sys));
  try {
    return as_actor(sys, args, false, () => worker_thread(sys.cio_wq), { wq: sys.cio_wq, retired: 0 });
  } finally {
    css_unregister_driver();
  }
}

/** Any actor: stop the machine and the workqueues (the end of a run). */
export function stop_all(ctx: ProgramCtx, args: { variant: string }): void {
  const sys = system_of(ctx, args.variant);
  hw_stop(sys.css);
  wq_stop(sys.wq);
  wq_stop(sys.cio_wq);
}
