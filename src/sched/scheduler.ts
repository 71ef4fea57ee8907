// The controlled scheduler, worker side. At every hook point the running actor asks the strategy
// who runs next and, if it is someone else, hands over the baton (a shared word per actor,
// Atomics.wait/notify). Blocking primitives block through this backend: the actor is marked
// blocked on the exact word it waits for, and only runnable actors are picked. Time is virtual:
// a timed wait's deadline is a choice the strategy can take when it is the earliest one.
import { availableParallelism, loadavg } from 'node:os';
import { set_backend, type WaitBackend } from '../kernel/backend.ts';
import { set_clock } from '../kernel/clock.ts';
import { current } from '../kernel/current.ts';
import { MAX_ACTORS, SCHED_LOG } from '../kernel/global.ts';
import { H, type HookFn, register_hook } from '../kernel/hook.ts';
import type { SharedBuf } from '../kernel/layout.ts';
import { pack_pick, pack_point } from './decision.ts';
import { ActorSched, bits, SchedAbortName, SchedAbortReason, SchedView } from './state.ts';
import { STRATEGIES, is_preemption, type PickCtx } from './strategy.ts';

/** Thrown in every actor when the schedule is aborted (deadlock, step bound, divergence). */
export class SchedAbort extends Error {
  constructor(readonly reason: number) {
    super(`schedule aborted: ${SchedAbortName[reason] ?? reason}`);
    this.name = 'SchedAbort';
  }
}

/** A safety bound on one baton wait (wall time): the protocol itself is stuck if it passes. */
const STUCK_MS = 60_000;

let v: SchedView | null = null;
let me = -1;
let onAllUsersDone: (() => void) | null = null;

/** Record why the schedule ends (the first reason wins) and release every actor and main. */
function release_all(s: SchedView, reason: number): void {
  if (s.get('abort') === 0) s.set('abort', reason);
  for (let k = 0; k < MAX_ACTORS; k++) {
    s.set('baton', 1, k);
    Atomics.notify(s.a, s.i('baton', k));
  }
  s.set('finished', 1);
  Atomics.notify(s.a, s.i('finished'));
}

function abort(reason: number): never {
  release_all(v!, reason);
  throw new SchedAbort(v!.get('abort'));
}

const hashStep = (h: number, kind: number, obj: number): number => Math.imul(h ^ ((kind << 20) ^ (obj & 0xfffff)), 0x01000193) | 0;

/** Record a decision and choose; `kind`/`obj` name the schedule point. */
// The pick context, reused: this runs at every schedule point.
const ctx: PickCtx = { v: null as unknown as SchedView, step: 0, current: -1, mask: 0, kind: 0 };

function decide(kind: number, obj: number, cur: number): number {
  const s = v!;
  const a = s.a;
  const w = s.w;
  // Only the baton holder is here: plain accesses (see SchedView).
  const step = ++a[w.step]!;
  if (step > a[w.max_steps]!) abort(SchedAbortReason.step_bound);
  // Polling alone for SPIN_ROUNDS relax points lets time pass (SchedView.enabled).
  if (kind === H.mark) a[w.spin_rounds]!++;
  else if (cur >= 0 && a[w.polling + cur] !== 1) a[w.spin_rounds] = 0;
  const h = hashStep(a[w.kind_hash]!, kind, obj);
  a[w.kind_hash] = h;
  if ((step & (step - 1)) === 0 && step >= 16) {
    const k = Math.log2(step) - 4;
    if (k < 24) {
      a[w.checks + k] = h;
      a[w.ncheck] = k + 1;
    }
  }
  const mask = s.enabled();
  if (mask === 0) abort(SchedAbortReason.deadlock);
  const n = a[w.ndec]!;
  // The step that ended here (since the previous decision) passed these marks: hardware
  // instructions and machine steps that touch no traced field. DPOR orders such steps.
  if (n > 0 && n <= SCHED_LOG) a[w.dec_mark + n - 1] = a[w.step_mark]!;
  a[w.step_mark] = 0;
  const strat = STRATEGIES[a[w.strategy]!];
  if (strat === undefined) abort(SchedAbortReason.failed);
  ctx.v = s;
  ctx.step = step;
  ctx.current = cur;
  ctx.mask = mask;
  ctx.kind = kind;
  let pick = strat.pick(ctx);
  if ((mask & (1 << pick)) === 0) {
    // A forced choice that is not enabled: the run diverged from the recorded one.
    if (n < a[w.nforced]!) abort(SchedAbortReason.diverged);
    pick = bits(mask)[0]!;
  }
  if (n < SCHED_LOG) {
    a[w.dec + n] = pack_pick(mask, cur, pick);
    a[w.dec_kind + n] = pack_point(kind, obj);
    let timed = 0;
    for (let k = 0, m = mask; m !== 0; k++, m >>>= 1) if ((m & 1) !== 0 && a[w.st + k] === ActorSched.blocked) timed |= 1 << k;
    a[w.dec_timed + n] = timed;
    a[w.dec_mark + n] = 0;
  }
  a[w.ndec] = n + 1;
  if (is_preemption({ cur, mask, kind }, pick) && a[w.st + cur] === ActorSched.runnable) a[w.preemptions]!++;
  return pick;
}

/** Give the baton to `next` (firing its timeout if it is blocked), and wait for it to come back. */
function handoff(next: number, wait: boolean): void {
  const s = v!;
  if (s.get('st', next) === ActorSched.blocked) {
    s.vnow = Math.max(s.vnow, s.deadline(next));
    s.set_deadline(next, Infinity);
    s.set('woke', 2, next);
    s.set('st', ActorSched.runnable, next);
  }
  if (next === me) return;
  s.add('handoffs', 1);
  s.set('running', next);
  s.set('baton', 1, next);
  Atomics.notify(s.a, s.i('baton', next));
  if (wait) wait_baton();
}

/**
 * Loads to spin before sleeping. Only one actor runs at a time, so a waiter spinning on a core of
 * its own catches a baton that comes straight back without a futex wake. With fewer idle cores
 * than actors the spinners share cores with the baton holder and only delay it: on a loaded
 * 2-core machine spinning halved S12's schedules/s (bench sched). Decided at each attach from
 * the cores and the load average; VFIO_CCW_SIM_SPIN=n fixes it (0: never spin).
 */
const SPIN_LOADS = 2000;
const SPIN_FIXED = process.env.VFIO_CCW_SIM_SPIN;
let spin = SPIN_LOADS;

// The load average moves over seconds, and reading it is a file read: at most once a second,
// not at every attach (three times a schedule).
let idle_cores = 0;
let idle_read = -Infinity;

function spin_for(actors: number): number {
  if (SPIN_FIXED !== undefined && /^\d+$/.test(SPIN_FIXED)) return Number(SPIN_FIXED);
  const now = performance.now();
  if (now - idle_read >= 1000) {
    idle_cores = availableParallelism() - loadavg()[0]!;
    idle_read = now;
  }
  return idle_cores >= actors + 1 ? SPIN_LOADS : 0;
}

function wait_baton(): void {
  const s = v!;
  const i = s.i('baton', me);
  // The baton often comes straight back (a ping-pong between two actors): catch it without a futex wake.
  for (let k = 0; k < spin && Atomics.load(s.a, i) === 0; k++);
  const end = performance.now() + STUCK_MS;
  while (Atomics.load(s.a, i) === 0) {
    if (Atomics.wait(s.a, i, 0, STUCK_MS) === 'timed-out' && performance.now() >= end) abort(SchedAbortReason.stuck);
  }
  Atomics.store(s.a, i, 0);
  if (s.get('abort') !== 0) throw new SchedAbort(s.get('abort'));
}

/** A schedule point: the strategy may switch to another actor here. */
function point(kind: number, obj: number): void {
  const s = v!;
  if (Atomics.load(s.a, s.w.abort) !== 0) throw new SchedAbort(s.get('abort'));
  const next = decide(kind, obj, me);
  if (next !== me) handoff(next, true);
}

const controlled: WaitBackend = {
  wait(a, idx, expected, timeoutMs, key, event) {
    const s = v!;
    if (Atomics.load(a, idx) !== expected) return 'not-equal';
    s.set('polling', 0, me);
    s.set('st', ActorSched.blocked, me);
    s.set('key', key, me);
    s.set('woke', 0, me);
    s.set('tevent', event === true ? 1 : 0, me);
    s.set_deadline(me, Number.isFinite(timeoutMs) ? s.vnow + timeoutMs : Infinity);
    const next = decide(H.wait, key, me);
    handoff(next, true);
    // Back with the baton: notified (woke 1) or our own timeout fired (woke 2).
    s.set('st', ActorSched.runnable, me);
    s.set_deadline(me, Infinity);
    return s.get('woke', me) === 2 ? 'timed-out' : 'ok';
  },
  notify(_a, _idx, count, key) {
    const s = v!;
    let n = count;
    for (let k = 0; k < MAX_ACTORS && n > 0; k++) {
      if (s.get('st', k) === ActorSched.blocked && s.get('key', k) === key) {
        s.set('st', ActorSched.runnable, k);
        s.set_deadline(k, Infinity);
        s.set('woke', 1, k);
        n--;
      }
    }
  },
  relax(obj) {
    // From here until it blocks, this actor is a poller (its loop body included).
    v!.set('polling', 1, me);
    point(H.mark, obj);
  },
};

/** Install the scheduler in this thread (before any other hook consumer, so events are traced as they run). */
export function sched_attach(g: SharedBuf, allDone: () => void): () => void {
  const at = attachment(g);
  v = at.view;
  me = current.id;
  spin = spin_for(Math.max(2, Atomics.load(v.a, v.i('start_at'))));
  onAllUsersDone = allDone;
  set_backend(controlled);
  set_clock(at.clock);
  const off = register_hook(at.fn);
  return () => {
    off();
    set_backend(null);
    set_clock(null);
    v = null;
  };
}

/** This thread's view, clock and hook consumer for a global buffer. */
interface Attachment {
  g: SharedBuf;
  view: SchedView;
  clock: { now_ms: () => number };
  fn: HookFn;
}

// Made once per thread and buffer, not at every attach (three or four a schedule): the hook's call
// sites then keep seeing the same consumer from run to run.
let attached: Attachment | null = null;

function attachment(g: SharedBuf): Attachment {
  if (attached !== null && attached.g === g) return attached;
  const view = new SchedView(g);
  const fn: HookFn = (kind, obj) => {
    // Marks are named points with no shared object: not worth a decision, but remembered for DPOR.
    if (kind !== H.mark) point(kind, obj);
    else {
      const i = view.w.step_mark;
      const m = view.a[i];
      const k = (obj & 0xffffff) + 1;
      if (m === 0) view.a[i] = k;
      else if (m !== k) view.a[i] = -1;
    }
  };
  attached = { g, view, clock: { now_ms: () => view.vnow }, fn };
  return attached;
}

/** woke: the actor left the schedule idle (sched_retire_idle), without ever running. */
const RETIRED = 3;

/**
 * Enter the schedule: announce this actor and wait for the baton. With `blocked_on`, the actor
 * enters already blocked on that key (an idle executor waiting for work): it costs no decision
 * until a notify on the key makes it runnable. False: it was retired before it ever ran
 * (sched_retire_idle), and must neither run nor sched_exit.
 */
export function sched_enter(blocked_on?: number): boolean {
  const s = v!;
  if (blocked_on === undefined) s.set('st', ActorSched.runnable, me);
  else {
    s.set('st', ActorSched.blocked, me);
    s.set('key', blocked_on, me);
    s.set('woke', 0, me);
    s.set('tevent', 0, me);
    s.set_deadline(me, Infinity);
  }
  const n = s.add('arrived', 1) + 1;
  Atomics.notify(s.a, s.i('arrived'));
  if (n === s.get('start_at')) {
    // The last actor in makes the first pick, as sched_start would: main need not wake up.
    const next = decide(H.run, 0, -1);
    s.set('running', next);
    if (next === me) return true;
    s.set('baton', 1, next);
    Atomics.notify(s.a, s.i('baton', next));
  }
  wait_baton();
  return s.get('woke', me) !== RETIRED;
}

/**
 * The baton holder, at the end of a run: every actor still blocked on `key` since it entered
 * idle (the caller knows nothing was queued for it) leaves the schedule with no decision, as if
 * it had never been in it, and its thread returns from sched_enter.
 */
export function sched_retire_idle(key: number): void {
  const s = v!;
  for (let k = 0; k < MAX_ACTORS; k++) {
    if (s.get('st', k) !== ActorSched.blocked || s.get('key', k) !== key) continue;
    s.set('st', ActorSched.done, k);
    s.set('woke', RETIRED, k);
    s.set('baton', 1, k);
    Atomics.notify(s.a, s.i('baton', k));
  }
}

/** Leave the schedule for good, handing the baton on. */
export function sched_exit(isUser: boolean): void {
  const s = v;
  if (s === null) return;
  s.set('st', ActorSched.done, me);
  if (s.get('abort') !== 0) return;
  if (isUser && s.add('users_done', 1) + 1 === s.get('users') && s.get('stop_sent') === 0) {
    s.set('stop_sent', 1);
    onAllUsersDone?.();
  }
  const mask = s.enabled();
  if (mask === 0) {
    let alive = false;
    for (let k = 0; k < MAX_ACTORS; k++) if (s.get('st', k) === ActorSched.blocked) alive = true;
    if (alive) {
      try {
        abort(SchedAbortReason.deadlock);
      } catch {
        return;
      }
    }
    s.set('finished', 1);
    Atomics.notify(s.a, s.i('finished'));
    return;
  }
  try {
    const next = decide(H.run_end, 0, -1);
    handoff(next, false);
  } catch {
    // aborted: every baton is already released
  }
}

/** Main: start the schedule once every actor arrived. Returns false if they did not arrive in time. */
export async function sched_start(g: SharedBuf, actors: number): Promise<boolean> {
  const s = new SchedView(g);
  const end = performance.now() + 30_000;
  while (s.get('arrived') < actors) {
    if (performance.now() > end) return false;
    const r = Atomics.waitAsync(s.a, s.i('arrived'), s.get('arrived'), 100);
    if (r.async) await r.value;
  }
  // The first pick, made by main on the actors' behalf.
  const saved = v;
  v = s;
  try {
    const next = decide(H.run, 0, -1);
    s.set('running', next);
    s.set('baton', 1, next);
    Atomics.notify(s.a, s.i('baton', next));
  } catch {
    // aborted before it began
  } finally {
    v = saved;
  }
  return true;
}

/** Main: abort a schedule from outside (an actor failed before it entered). */
export function sched_cancel(g: SharedBuf, reason: number): void {
  release_all(new SchedView(g), reason);
}

/** Main: wait until every actor left the schedule, or it was aborted. */
export async function sched_wait(g: SharedBuf, timeoutMs: number): Promise<boolean> {
  const s = new SchedView(g);
  const end = performance.now() + timeoutMs;
  while (s.get('finished') === 0) {
    if (performance.now() > end) return false;
    const r = Atomics.waitAsync(s.a, s.i('finished'), 0, 200);
    if (r.async) await r.value;
  }
  return true;
}
