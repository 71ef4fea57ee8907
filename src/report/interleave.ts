// A finding's interleaving, told as the kernel tells a race: CPU columns of function calls
// (consecutive events of one CPU in one function are one `function()` line), then the detailed
// rows under it. The window opens at the earliest event of the functions that led to the
// finding, so the cause is in view, and closes when the CPUs caught in it leave what they were
// doing. Harness steps (the scenario's own code, the machine's marks) are flagged and left out
// unless asked for.
import { H, type HookKind } from '../kernel/hook.ts';
import type { TraceEvent } from '../trace/ring.ts';
import { describe_event, type FsmNames } from './events.ts';

/** One trace event of a finding's window. */
export interface TraceStep {
  seq: number;
  /** the actor id: CPU column */
  cpu: number;
  actor: string;
  function: string;
  what: string;
  /** a scenario step, a machine mark or a detector's note: left out unless verbose */
  harness?: true;
  /** controlled mode: the scheduler switched this CPU away here while it could still run */
  preempted?: true;
  /** not an event: this many events of a long window left out here (cpu is -1) */
  gap?: number;
}

/** One line of the function-level interleaving. */
export interface FunctionStep {
  cpu: number;
  actor: string;
  function: string;
  preempted?: true;
}

// The rig's actor ids (src/system/rig.ts): 0 main, 1 the interrupt actor, 2 the workqueue, users after.
const ACTOR_NAMES: Record<number, string> = { 0: 'main', 1: 'irq', 2: 'todo' };
export const actor_name = (a: number): string => ACTOR_NAMES[a] ?? `user${a - 3}`;

const HARNESS_SITE = /^(scenario|guest|users?|client|harness)(_|$)/;

/** Not the driver: main's setup, the scenario's own steps, the machine's marks, detector notes. */
export function is_harness(e: TraceEvent): boolean {
  return e.actor === 0 || e.kind === H.mark || e.kind === H.warn || HARNESS_SITE.test(e.site);
}

// An I/O instruction's mark (ssch, hsch, csch, xsch: HwInstr 0..3) starts what an interrupt ends.
const is_io_instruction = (e: TraceEvent): boolean => e.kind === H.mark && e.arg >>> 8 <= 3 && HARNESS_SITE.test(e.site) === false;
const ENDS = new Set<HookKind>([H.irq_exit, H.run_end]);
const BEGINS = new Set<HookKind>([H.irq_enter, H.run]);
/** Where a CPU stops by itself (it blocks or finished a unit of work): not a preemption. */
const STOPS = new Set<HookKind>([H.contended, H.wait, H.run_end, H.irq_exit, H.trylock_fail]);

const HORIZON = 4000;
const MAX_DEPTH = 2;
const TAIL = 200;
/** a window longer than this keeps its start, the rows around its seeds and the end before the anchor */
const MAX_ROWS = 300;
const AROUND = 20;

class Trace {
  /** per actor, the indices of its events in order */
  readonly own = new Map<number, number[]>();
  /** position of each event in its actor's list */
  readonly pos: Int32Array;
  constructor(readonly ev: readonly TraceEvent[]) {
    this.pos = new Int32Array(ev.length);
    ev.forEach((e, i) => {
      let l = this.own.get(e.actor);
      if (l === undefined) this.own.set(e.actor, (l = []));
      this.pos[i] = l.length;
      l.push(i);
    });
  }

  /** The index of the actor's event before (d = -1) or after (d = 1) event i, or -1. */
  step(i: number, d: -1 | 1): number {
    const l = this.own.get(this.ev[i]!.actor)!;
    return l[this.pos[i]! + d] ?? -1;
  }

  /**
   * The start of the top-level unit of work around event i on its CPU: the interrupt or work item
   * it is in, or for a user the driver call since its last scenario step.
   */
  frame_start(i: number): number {
    let s = i;
    for (let n = 0; n < 500 && !BEGINS.has(this.ev[s]!.kind); n++) {
      const p = this.step(s, -1);
      if (p < 0) break;
      const e = this.ev[p]!;
      if (ENDS.has(e.kind) || (is_harness(e) && e.kind !== H.warn && e.kind !== H.mark)) break;
      s = p;
    }
    return s;
  }

  /** The last event before i (back to `from`) that `ok` accepts, from another CPU. */
  last_before(i: number, from: number, ok: (e: TraceEvent) => boolean): number {
    const a = this.ev[i]!.actor;
    for (let k = i - 1; k >= from; k--) {
      const e = this.ev[k]!;
      if (e.actor !== a && ok(e) && !(is_harness(e) && !is_io_instruction(e))) return k;
    }
    return -1;
  }

  /**
   * What event i consumed from another CPU: the write a read saw, the queue_work that ran a work
   * item, the complete or signal that woke a wait, the I/O instruction an interrupt ends. The
   * dispatcher's read of the FSM state is not followed: it links every event to the one before.
   */
  source(i: number, from: number): number {
    const e = this.ev[i]!;
    switch (e.kind) {
      case H.read:
      case H.read_once:
        if (e.site === 'vfio_ccw_fsm_event') return -1;
        return this.last_before(i, from, (x) => x.obj === e.obj && (x.kind === H.write || x.kind === H.write_once));
      case H.warn:
        return this.last_before(i, from, (x) => x.obj === e.obj && (x.kind === H.write || x.kind === H.write_once));
      case H.run:
        return this.last_before(i, from, (x) => x.obj === e.obj && x.kind === H.queue);
      case H.wake:
        return this.last_before(i, from, (x) => x.obj === e.obj && (x.kind === H.complete || x.kind === H.signal));
      case H.irq_enter:
        return this.last_before(i, from, is_io_instruction);
    }
    return -1;
  }
}

/**
 * The window [lo, hi] of trace indices around the anchor: the units of work the anchor depends
 * on (two hops at most, each source newer than its reader's previous unit) from their start,
 * through the anchor, to where the CPUs busy at the anchor leave their unit.
 */
function window(t: Trace, anchor: number, seeds: readonly number[]): [number, number] {
  const from = Math.max(0, anchor - HORIZON);
  let lo = anchor;
  const seen = new Set<number>();
  let todo = seeds.map((i) => ({ i, depth: 0 }));
  while (todo.length > 0) {
    const next: { i: number; depth: number }[] = [];
    for (const { i, depth } of todo) {
      const s = t.frame_start(i);
      if (seen.has(s)) continue;
      seen.add(s);
      lo = Math.min(lo, s);
      if (depth >= MAX_DEPTH) continue;
      // a source older than this CPU's previous unit of work is history, not cause
      const prev = t.step(s, -1);
      const fresh = prev < 0 ? from : Math.max(from, t.frame_start(prev));
      for (let k = s; k !== -1 && k <= i; k = t.step(k, 1)) {
        const src = t.source(k, fresh);
        if (src >= 0) next.push({ i: src, depth: depth + 1 });
      }
    }
    todo = next;
  }
  // Close when every CPU that was in the middle of a unit at the anchor has left it.
  let hi = anchor;
  for (const [, l] of t.own) {
    let p = l.findLastIndex((k) => k <= anchor);
    if (p < 0 || l[p]! < lo) continue;
    const e = t.ev[l[p]!]!;
    if (ENDS.has(e.kind) || is_harness(e)) continue;
    for (; p < l.length && l[p]! <= anchor + TAIL; p++) {
      const x = t.ev[l[p]!]!;
      if (l[p]! > anchor && is_harness(x) && x.kind !== H.warn && x.kind !== H.mark) break;
      hi = Math.max(hi, l[p]!);
      if (ENDS.has(x.kind)) break;
    }
  }
  return [lo, hi];
}

export interface ExplainOptions {
  fsm?: FsmNames;
  /** name of an object id */
  obj: (id: number) => string;
  /** the run was scheduled one CPU at a time: switches are preemptions or blocks */
  controlled: boolean;
}

/** The parts of a long window that are shown: its start, its seeds, and the end before the anchor. */
function parts(lo: number, hi: number, anchor: number, seeds: readonly number[]): [number, number][] {
  if (hi - lo + 1 <= MAX_ROWS) return [[lo, hi]];
  const end = Math.min(hi, anchor + AROUND);
  const rs: [number, number][] = [[lo, lo + AROUND], ...seeds.map((k): [number, number] => [Math.max(lo, k - AROUND), Math.min(hi, k + AROUND)]), [Math.max(lo, end - (MAX_ROWS - 4 * AROUND)), end]];
  rs.sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const r of rs) {
    const last = out[out.length - 1];
    if (last !== undefined && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}

/** The rows of the window's parts, named, with harness steps and preemptions flagged, gaps noted. */
function rows(t: Trace, lo: number, hi: number, o: ExplainOptions, anchor = hi, seeds: readonly number[] = []): TraceStep[] {
  const out: TraceStep[] = [];
  let prev = -1;
  for (const [a, b] of parts(lo, hi, anchor, seeds)) {
    if (prev >= 0 && a > prev + 1) out.push({ seq: t.ev[prev + 1]!.seq, cpu: -1, actor: '', function: '', what: `… ${a - prev - 1} events left out …`, harness: true, gap: a - prev - 1 });
    rows_of(t, a, b, o, out);
    prev = b;
  }
  return out;
}

function rows_of(t: Trace, lo: number, hi: number, o: ExplainOptions, out: TraceStep[]): void {
  for (let i = lo; i <= hi; i++) {
    const e = t.ev[i]!;
    // a warning's site is its message: it belongs to the function the CPU was in
    const before = e.kind === H.warn ? t.step(i, -1) : i;
    const fn = before >= 0 ? t.ev[before]!.site : '?';
    const r: TraceStep = { seq: e.seq, cpu: e.actor, actor: actor_name(e.actor), function: fn, what: describe_event(e, o.obj(e.obj), o.fsm) };
    if (is_harness(e)) r.harness = true;
    if (o.controlled && !is_harness(e) && !STOPS.has(e.kind)) {
      const nx = t.ev[i + 1];
      const resume = t.step(i, 1);
      if (nx !== undefined && nx.actor !== e.actor && resume >= 0 && !BEGINS.has(t.ev[resume]!.kind)) r.preempted = true;
    }
    out.push(r);
  }
}

export interface AccessRef {
  actor: number;
  function: string;
  op: 'read' | 'write';
}

const is_access = (e: TraceEvent, a: AccessRef, field: (id: number) => boolean): boolean =>
  e.actor === a.actor && e.site === a.function && field(e.obj) && (a.op === 'write' ? e.kind === H.write || e.kind === H.write_once : e.kind === H.read || e.kind === H.read_once);

/** Windows of one run's findings over its trace (indexed once). */
export interface Explainer {
  /** an invariant or warning that fired at trace sequence number `seq` */
  warning(seq: number): TraceStep[];
  /** a data race, built around its two accesses (their last pair in the trace) */
  race(field: string, first: AccessRef, second: AccessRef): TraceStep[];
}

export function explainer(trace: readonly TraceEvent[], o: ExplainOptions): Explainer {
  let t: Trace | undefined;
  const get = (): Trace => (t ??= new Trace(trace));
  return {
    warning(seq) {
      let anchor = -1;
      for (let i = trace.length - 1; i >= 0 && anchor < 0; i--) if (trace[i]!.seq <= seq) anchor = i;
      if (anchor < 0) return [];
      const tr = get();
      const [lo, hi] = window(tr, anchor, [anchor]);
      return rows(tr, lo, hi, o, anchor, [anchor]);
    },
    race(field, first, second) {
      const names = new Map<number, boolean>();
      const on_field = (id: number): boolean => {
        let r = names.get(id);
        if (r === undefined) {
          const n = o.obj(id);
          names.set(id, (r = n === field || n.startsWith(`${field}+`)));
        }
        return r;
      };
      let b = -1;
      for (let i = trace.length - 1; i >= 0 && b < 0; i--) if (is_access(trace[i]!, second, on_field)) b = i;
      let a = -1;
      for (let i = b - 1; i >= 0 && a < 0; i--) if (is_access(trace[i]!, first, on_field)) a = i;
      if (a < 0 || b < 0) return [];
      const tr = get();
      const [lo, hi] = window(tr, b, [a, b]);
      return rows(tr, lo, hi, o, b, [a, b]);
    },
  };
}

/**
 * The function-level form: consecutive rows of one CPU in one function are one `function()` line,
 * and a CPU's uninterrupted stretch names each function once, where it first enters it (so a loop
 * over helpers reads as its helpers, not as their alternation). A stretch that ends in a
 * preemption ends with the function it was preempted in, marked.
 */
export function function_level(steps: readonly TraceStep[], verbose = false): FunctionStep[] {
  const out: FunctionStep[] = [];
  let stretch = new Set<string>();
  let cpu = -1;
  for (const s of steps) {
    if (s.gap !== undefined || (s.harness === true && (!verbose || s.what.startsWith('WARN ')))) continue;
    if (s.cpu !== cpu) {
      cpu = s.cpu;
      stretch = new Set();
    }
    const last = out[out.length - 1];
    if (!stretch.has(s.function)) {
      stretch.add(s.function);
      out.push({ cpu: s.cpu, actor: s.actor, function: s.function });
    } else if (s.preempted === true && !(last?.cpu === s.cpu && last.function === s.function)) {
      out.push({ cpu: s.cpu, actor: s.actor, function: s.function });
    }
    if (s.preempted === true) out[out.length - 1]!.preempted = true;
  }
  return out;
}

/** The JSON form: no preemption flags, just who ran what. */
export const interleaving_json = (fl: readonly FunctionStep[]): { cpu: number; actor: string; function: string }[] => fl.map((f) => ({ cpu: f.cpu, actor: f.actor, function: f.function }));

const PREEMPTED = '  <- preempted';

/** Lay out cells in CPU columns, in the order the CPUs first appear; nothing is cut. */
function columns(cells: readonly { cpu: number; actor: string; text: string; lead?: string }[], indent: string): string[] {
  const cpus: { cpu: number; actor: string }[] = [];
  for (const c of cells) if (c.cpu >= 0 && !cpus.some((x) => x.cpu === c.cpu)) cpus.push({ cpu: c.cpu, actor: c.actor });
  const head = (c: { cpu: number; actor: string }): string => `CPU${c.cpu} (${c.actor})`;
  const width = cpus.map((c) => Math.max(head(c).length, ...cells.filter((x) => x.cpu === c.cpu).map((x) => x.text.length)) + 4);
  const lead = Math.max(0, ...cells.map((c) => c.lead?.length ?? 0));
  const pad = lead > 0 ? lead + 2 : 0;
  const out = [`${indent}${' '.repeat(pad)}${cpus.map((c, k) => head(c).padEnd(width[k]!)).join('').trimEnd()}`];
  for (const c of cells) {
    // a note (cpu -1) stands at the left, across the columns
    const k = Math.max(0, cpus.findIndex((x) => x.cpu === c.cpu));
    const before = width.slice(0, k).reduce((n, w) => n + w, 0);
    out.push(`${indent}${(c.lead ?? '').padStart(lead)}${pad > 0 ? '  ' : ''}${' '.repeat(before)}${c.text}`);
  }
  return out;
}

/** The kernel's two-column form: one `function()` per line, in its CPU's column. */
export function format_function_level(fl: readonly FunctionStep[], indent = '    '): string[] {
  return columns(fl.map((f) => ({ cpu: f.cpu, actor: f.actor, text: `${f.function}()${f.preempted === true ? PREEMPTED : ''}` })), indent);
}

const KEEP = 8;

/**
 * The detailed rows: sequence number, then `function: what` in its CPU's column. A CPU's
 * uninterrupted stretch longer than 3 * KEEP rows shows its first and last KEEP rows (every switch
 * between CPUs stays in view); `full` shows all.
 */
export function format_steps(steps: readonly TraceStep[], verbose = false, indent = '    ', full = false): string[] {
  const shown = steps.filter((s) => verbose || s.harness !== true || s.gap !== undefined || s.what.startsWith('WARN '));
  const cells: { cpu: number; actor: string; text: string; lead?: string }[] = [];
  for (let i = 0; i < shown.length; ) {
    let j = i;
    while (j < shown.length && shown[j]!.cpu === shown[i]!.cpu) j++;
    const run = shown.slice(i, j);
    const cell = (s: TraceStep): { cpu: number; actor: string; text: string; lead: string } => ({ cpu: s.cpu, actor: s.actor, lead: String(s.seq), text: `${s.function}: ${s.what}${s.preempted === true ? PREEMPTED : ''}` });
    if (full || run.length <= 3 * KEEP) cells.push(...run.map(cell));
    else {
      const r0 = run[0]!;
      cells.push(...run.slice(0, KEEP).map(cell), { cpu: r0.cpu, actor: r0.actor, lead: '', text: `… ${run.length - 2 * KEEP} more rows of ${r0.actor} …` }, ...run.slice(-KEEP).map(cell));
    }
    i = j;
  }
  return columns(cells, indent);
}

/** Rows as one-line strings (the finding's `trace`, kept for readers of the older key). */
export const steps_as_lines = (steps: readonly TraceStep[]): string[] => steps.map((s) => `${s.seq} a${s.cpu} ${s.function}: ${s.what}`);

/** Rows for a whole stretch of trace (replay's listing), named as a finding's are. */
export function trace_steps(trace: readonly TraceEvent[], o: ExplainOptions): TraceStep[] {
  return trace.length === 0 ? [] : rows(new Trace(trace), 0, trace.length - 1, o);
}
