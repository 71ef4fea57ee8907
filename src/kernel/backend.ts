// How an actor blocks and wakes others. Free mode: futexes (Atomics.wait/notify).
// Controlled mode replaces this backend so that a blocked actor hands over the baton
// instead of sleeping, and the scheduler knows who waits on what.
import { count_wait, set_waiting } from './current.ts';

export type WaitResult = 'ok' | 'not-equal' | 'timed-out';

export interface WaitBackend {
  /**
   * Block while a[idx] === expected, at most timeoutMs (Infinity = forever). `obj` is the object id
   * of that exact word. `event`: the timeout is a scheduled event (a device completing), not a
   * safety bound; a controlled scheduler may fire events at any point, guards only when idle.
   */
  wait(a: Int32Array, idx: number, expected: number, timeoutMs: number, obj: number, event?: boolean): WaitResult;
  /** Wake up to `count` waiters of a[idx]. */
  notify(a: Int32Array, idx: number, count: number, obj: number): void;
  /** A spin-wait step (a spinlock's or a retry loop's): free mode lets the CPU go briefly. */
  relax(obj: number): void;
}

export const freeBackend: WaitBackend = {
  wait(a, idx, expected, timeoutMs, obj) {
    set_waiting(obj);
    count_wait();
    const r = Atomics.wait(a, idx, expected, timeoutMs);
    set_waiting(0);
    return r;
  },
  notify(a, idx, count) {
    Atomics.notify(a, idx, count);
  },
  relax() {
    // Nothing: callers spin a few loads and then futex-wait (2 cores, 3+ threads).
  },
};

export let backend: WaitBackend = freeBackend;

/** True while a controlled scheduler owns waiting and time in this thread. */
export const is_controlled = (): boolean => backend !== freeBackend;

export function set_backend(b: WaitBackend | null): void {
  backend = b ?? freeBackend;
}
