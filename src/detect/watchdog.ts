// The hang watchdog (free mode): if no actor makes progress within a bound, report what each
// actor holds and waits on, its last trace events, and for a waiter on a completion or eventfd
// that nobody signalled, who should have signalled it (the sites that completed it before).
import { read_actors, type ActorView } from '../kernel/current.ts';
import { H, HookName } from '../kernel/hook.ts';
import { lock_owner } from '../kernel/lockword.ts';
import { namedObjects, objClass, objName, type SharedBuf } from '../kernel/layout.ts';
import type { Finding } from '../report/report.ts';
import type { TraceEvent } from '../trace/ring.ts';

export interface WatchdogOpts {
  /** no progress for this long is a hang (ms) */
  bound_ms: number;
  /** how often to look (ms) */
  every_ms: number;
  /** still running this long after the start, with progress: a livelock (ms; default never) */
  overrun_ms?: number;
}

/** Sum of everything that moves while actors make progress. */
function progress_sum(g: SharedBuf, extra: () => number): number {
  let s = extra();
  for (const a of read_actors(g)) s += a.progress + a.waits;
  return s;
}

/**
 * Watch until `done` resolves; resolves with 'hang' if progress stalls for bound_ms.
 * `extra` adds counters outside the actor slots (the machine's loops, the tracer's sequence).
 */
export async function watch(g: SharedBuf, done: Promise<unknown>, o: WatchdogOpts, extra: () => number = () => 0): Promise<'done' | 'hang' | 'overrun'> {
  const start = performance.now();
  let finished = false;
  void done.then(
    () => (finished = true),
    () => (finished = true),
  );
  let last = progress_sum(g, extra);
  let since = performance.now();
  while (!finished) {
    await new Promise((r) => setTimeout(r, o.every_ms));
    if (finished) break;
    if (o.overrun_ms !== undefined && performance.now() - start > o.overrun_ms) return 'overrun';
    const now = progress_sum(g, extra);
    if (now !== last) {
      last = now;
      since = performance.now();
    } else if (performance.now() - since >= o.bound_ms) return 'hang';
  }
  return 'done';
}

/** Who holds each lock now (lock words carry their owner). */
export function lock_holders(): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const kind of ['mutex', 'spinlock'] as const) {
    for (const o of namedObjects(kind)) {
      const v = Atomics.load(buf_of(o.id), o.id % (1 << 20));
      if (v === 0) continue;
      const owner = lock_owner(v);
      const l = out.get(owner) ?? [];
      l.push(o.name);
      out.set(owner, l);
    }
  }
  return out;
}

let bufs = new Map<number, Int32Array>();
/** The watchdog reads lock words in these buffers (main registers them). */
export function watchdog_buffers(list: readonly SharedBuf[]): void {
  bufs = new Map(list.map((b) => [b.index, b.i32]));
}
function buf_of(id: number): Int32Array {
  return bufs.get(Math.floor(id / (1 << 20))) ?? new Int32Array(1 << 20);
}

const ACTOR = (a: number): string => (a === 0 ? 'main' : a === 1 ? 'irq' : a === 2 ? 'todo' : `user${a - 3}`);

/** The hang finding: every actor's state, held locks, wait, last events, and lost wake-ups. */
export function hang_report(g: SharedBuf, trace: readonly TraceEvent[], bound_ms: number): Finding[] {
  const actors = read_actors(g).filter((a) => a.id !== 0);
  const held = lock_holders();
  const lines: string[] = [];
  const findings: Finding[] = [];
  for (const a of actors) {
    const locks = held.get(a.id) ?? [];
    const waits = a.waitingOn !== 0 ? objName(a.waitingOn) : null;
    lines.push(`${ACTOR(a.id)}: ${waits !== null ? `waits on ${waits}` : 'running'}${locks.length > 0 ? `, holds ${locks.join(', ')}` : ''}${a.inIrq ? ', in IRQ' : ''}`);
    const lw = lost_wakeup(a, trace);
    if (lw !== null) findings.push({ kind: 'hang', id: 'lost-wakeup', message: lw, actor: a.id });
  }
  const tail = trace.slice(-16).map((e) => `${e.seq} a${e.actor} ${HookName[e.kind]} ${objName(e.obj)} @${e.site}`);
  findings.unshift({ kind: 'hang', id: 'no-progress', message: `INFO: no progress for ${bound_ms} ms. ${lines.join('; ')}`, ...(tail.length > 0 ? { trace: tail } : {}) });
  return findings;
}

/** A waiter on a completion or eventfd: name who should have signalled it. */
function lost_wakeup(a: ActorView, trace: readonly TraceEvent[]): string | null {
  if (a.waitingOn === 0) return null;
  const cls = objClass(a.waitingOn);
  const isCompletion = namedObjects('completion').some((o) => o.id === a.waitingOn) || cls.includes('stack_comp');
  const isEventfd = cls.startsWith('eventfd.');
  if (!isCompletion && !isEventfd) return null;
  const signallers = new Set(trace.filter((e) => (e.kind === H.complete || e.kind === H.signal) && objClass(e.obj) === cls).map((e) => `${ACTOR(e.actor)} at ${e.site}`));
  const who = signallers.size > 0 ? `it was signalled before by ${[...signallers].join(', ')}, but not again` : 'no complete() or signal of it was seen in this run';
  return `lost wake-up: ${ACTOR(a.id)} waits on ${objName(a.waitingOn)} (${isCompletion ? 'completion' : 'eventfd'}); ${who}`;
}
