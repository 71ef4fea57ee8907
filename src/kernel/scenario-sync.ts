// A scenario's own synchronisation between its user threads (QEMU's threads, the vfio core's
// removal, the machine's operator): a barrier every user passes together, and flag words one
// user sets and another waits on. No kernel primitive: what a test program uses to meet the
// driver at a chosen step. Blocking goes through the wait backend (a controlled schedule hands
// the baton over, free mode sleeps on the futex), and every access reports to the hook, so the
// detectors see signal -> wake edges and the scheduler a point it can order.
import { backend } from './backend.ts';
import { clock } from './clock.ts';
import { current } from './current.ts';
import { H, hook } from './hook.ts';
import type { KObj } from './obj.ts';

const BARRIER_SITE = 'scenario_barrier';
const FLAG_SITE = 'scenario_flag';
const WORD_SITE = 'scenario_word';
/** How long a barrier waits for the last user: a bound, so a user that died does not hang the run. */
const BARRIER_MS = 20_000;
/** Free mode re-checks a flag this often (a notify can land between the load and the wait). */
const POLL_MS = 50;

/** A user that reached a barrier the others never did: the harness's bounded wait, a symptom of their hang. */
export const BARRIER_TIMEOUT = 'BarrierTimeout';
function barrier_timeout(): Error {
  const e = new Error('scenario barrier timed out');
  e.name = BARRIER_TIMEOUT;
  return e;
}

/** All `users` arrive before any leaves. `count` counts arrivals; `gen` moves on at each passage. */
export function user_barrier(count: KObj, gen: KObj, users: number): void {
  const g0 = Atomics.load(gen.a, gen.i);
  if (hook !== null) hook(H.signal, gen.id, BARRIER_SITE, current.id, 1);
  if (Atomics.add(count.a, count.i, 1) + 1 === users) {
    Atomics.store(count.a, count.i, 0);
    Atomics.add(gen.a, gen.i, 1);
    backend.notify(gen.a, gen.i, Infinity, gen.id);
    if (hook !== null) hook(H.wake, gen.id, BARRIER_SITE, current.id, 1);
    return;
  }
  const end = clock.now_ms() + BARRIER_MS;
  while (Atomics.load(gen.a, gen.i) === g0) {
    if (clock.now_ms() > end) throw barrier_timeout();
    backend.wait(gen.a, gen.i, g0, POLL_MS, gen.id);
  }
  if (hook !== null) hook(H.wake, gen.id, BARRIER_SITE, current.id, 1);
}

/**
 * Flag words shared by a scenario's users (word i of `w`). The flag accesses are marked (the race
 * detector never pairs them); `word`/`set_word` are plain, as C code would read and write a shared
 * int, so a scenario can model a race of its own.
 */
export class ScenarioFlags {
  constructor(readonly w: KObj) {}

  /** A marked read every detector and the scheduler see (DPOR orders it with set). */
  get(i: number): number {
    if (hook !== null) hook(H.read_once, this.w.id + i, FLAG_SITE, current.id, 4);
    return Atomics.load(this.w.a, this.w.i + i);
  }

  set(i: number, v: number): void {
    if (hook !== null) hook(H.signal, this.w.id + i, FLAG_SITE, current.id, 1);
    Atomics.store(this.w.a, this.w.i + i, v);
    backend.notify(this.w.a, this.w.i + i, Infinity, this.w.id + i);
  }

  add(i: number, d: number): void {
    if (hook !== null) hook(H.signal, this.w.id + i, FLAG_SITE, current.id, 1);
    Atomics.add(this.w.a, this.w.i + i, d);
    backend.notify(this.w.a, this.w.i + i, Infinity, this.w.id + i);
  }

  /** Wait (bounded) until flag i satisfies pred; false on timeout. */
  wait(i: number, pred: (v: number) => boolean, ms: number): boolean {
    const a = this.w.a;
    const k = this.w.i + i;
    const key = this.w.id + i;
    const end = clock.now_ms() + ms;
    for (;;) {
      const v = Atomics.load(a, k);
      if (pred(v)) {
        if (hook !== null) hook(H.wake, key, FLAG_SITE, current.id, 1);
        return true;
      }
      const left = end - clock.now_ms();
      if (left <= 0) return false;
      backend.wait(a, k, v, Math.min(left, POLL_MS), key);
    }
  }

  /**
   * A checker's read of flag i: no hook, so no schedule point. Only for a word a barrier already
   * ordered after its write (the writer set it before the barrier the reader has passed).
   */
  peek(i: number): number {
    return Atomics.load(this.w.a, this.w.i + i);
  }

  /** A plain read of word i: a schedule point and an access every detector sees. */
  word(i: number): number {
    if (hook !== null) hook(H.read, this.w.id + i, WORD_SITE, current.id, 4);
    return this.w.a[this.w.i + i]!;
  }

  set_word(i: number, v: number): void {
    if (hook !== null) hook(H.write, this.w.id + i, WORD_SITE, current.id, 4);
    this.w.a[this.w.i + i] = v;
  }

  /** One pass of a user's polling loop: where a controlled schedule lets the other actors run. */
  relax(): void {
    backend.relax(this.w.id);
  }
}
