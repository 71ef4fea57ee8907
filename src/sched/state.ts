// Views of the scheduler's shared state (SchedArea in the global buffer), for every thread.
import { GLOBAL, MAX_ACTORS, SchedArea } from '../kernel/global.ts';
import type { SharedBuf } from '../kernel/layout.ts';

/** Relax points of pollers alone after which time may pass to the next timed wait. */
export const SPIN_ROUNDS = 64;

export const ActorSched = { absent: 0, runnable: 1, blocked: 2, done: 3 } as const;
export const SchedAbortReason = { none: 0, deadlock: 1, step_bound: 2, diverged: 3, stuck: 4, failed: 5 } as const;
export const SchedAbortName: Record<number, string> = { 0: 'none', 1: 'deadlock', 2: 'step-bound', 3: 'diverged', 4: 'stuck', 5: 'failed' };

const F = SchedArea.fields;
/** Absolute word index of every field in the global buffer. */
const W = Object.fromEntries(Object.entries(F).map(([k, spec]) => [k, GLOBAL.sched + spec.off])) as Readonly<Record<keyof typeof F, number>>;
const ATOMIC_NAMES: readonly (keyof typeof F)[] = ['arrived', 'start_at', 'abort', 'finished', 'baton', 'running'];
// A flag per field, not a Set: get/set run at every schedule point, and once inlined with a
// constant name the flag is a plain property load where Set.has was a hash lookup.
const ATOMIC = Object.fromEntries(Object.keys(F).map((k) => [k, ATOMIC_NAMES.includes(k as keyof typeof F)])) as Readonly<Record<keyof typeof F, boolean>>;

// f64 indexes of virtual time and the deadlines (the area is 8-byte aligned)
const VNOW = W.vnow >> 1;
const DEADLINE = W.deadline >> 1;

/** Word indexes of the scheduler's fields in the global buffer, and typed access. */
export class SchedView {
  readonly a: Int32Array;
  readonly f: Float64Array;
  readonly b = GLOBAL.sched;
  /** Absolute word index of every field: the hot paths index the array directly. */
  readonly w = W;
  /** enabled(): the earliest timed waiter, -1 none */
  timeout = -1;
  constructor(readonly g: SharedBuf) {
    this.a = g.i32;
    this.f = new Float64Array(g.sab, 0, Math.floor(g.sab.byteLength / 8));
  }
  i(name: keyof typeof F, k = 0): number {
    return W[name] + k;
  }
  // Only the baton holder touches the scheduler's state, and passing the baton (an Atomics store
  // and notify, then a load or wait) orders those accesses: plain reads and writes are enough,
  // except for the words actors touch without the baton (arrival, abort, the end).
  get(name: keyof typeof F, k = 0): number {
    const i = W[name] + k;
    return ATOMIC[name] ? Atomics.load(this.a, i) : this.a[i]!;
  }
  set(name: keyof typeof F, v: number, k = 0): void {
    const i = W[name] + k;
    if (ATOMIC[name]) Atomics.store(this.a, i, v);
    else this.a[i] = v;
  }
  add(name: keyof typeof F, v: number, k = 0): number {
    const i = W[name] + k;
    if (ATOMIC[name]) return Atomics.add(this.a, i, v);
    const old = this.a[i]!;
    this.a[i] = old + v;
    return old;
  }
  get vnow(): number {
    return this.f[VNOW]!;
  }
  set vnow(v: number) {
    this.f[VNOW] = v;
  }
  deadline(actor: number): number {
    return this.f[DEADLINE + actor]!;
  }
  set_deadline(actor: number, v: number): void {
    this.f[DEADLINE + actor] = v;
  }
  /**
   * Actors that may be picked now: runnable ones; blocked ones whose deadline has passed; and the
   * earliest timed wait, if it is a scheduled event (a device completing can happen any time) or
   * if nothing else can run (time passes only when everyone waits). Returns the mask; the timed
   * waiter is left in `timeout`.
   */
  enabled(): number {
    const a = this.a;
    const w = this.w;
    let mask = 0;
    let tActor = -1;
    let tMin = Infinity;
    const now = this.vnow;
    const hi = a[w.hi] || MAX_ACTORS;
    const dl = w.deadline >> 1;
    // Every runnable actor is a poller and nothing else has run for SPIN_ROUNDS relax points:
    // real time passes while they spin, so the earliest timed wait may come due (a user's bounded
    // wait times out beside a polling thread, as on a real CPU; a livelock otherwise).
    let spinning = a[w.spin_rounds]! >= SPIN_ROUNDS;
    for (let k = 0; k < hi; k++) {
      const st = a[w.st + k];
      if (st === ActorSched.runnable) {
        mask |= 1 << k;
        if (a[w.polling + k] !== 1) spinning = false;
      }
      else if (st === ActorSched.blocked) {
        const d = this.f[dl + k]!;
        if (d <= now) mask |= 1 << k;
        else if (d < tMin) {
          tMin = d;
          tActor = k;
        }
      }
    }
    if (tActor >= 0 && (mask === 0 || spinning || a[w.tevent + tActor] === 1)) mask |= 1 << tActor;
    this.timeout = tActor;
    return mask;
  }
  /** Reset for a new schedule (main, with every actor parked). */
  reset(): void {
    // The logs (forced choices, decisions) are read only up to their counters: clear the header
    // and the counters, not ~400 KB of log on every schedule.
    this.a.fill(0, this.b, this.b + F.forced.off);
    this.a[this.b + F.ndec.off] = 0;
    for (let k = 0; k < MAX_ACTORS; k++) this.set_deadline(k, Infinity);
    this.set('running', -1);
  }
}

export const bits = (mask: number): number[] => {
  const out: number[] = [];
  for (let k = 0; k < MAX_ACTORS; k++) if ((mask & (1 << k)) !== 0) out.push(k);
  return out;
};
