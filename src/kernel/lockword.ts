// One word per sleeping or spinning lock, as the kernel's struct mutex keeps its owner:
//   0                         free
//   (owner + 1) << 1          locked, no waiters
//   (owner + 1) << 1 | 1      locked, there may be waiters (unlock must notify)
// so the owner costs nothing extra and any thread can read who holds a lock.
import { backend } from './backend.ts';
import { progress } from './current.ts';

export const WAITERS = 1;
export const lockval = (actor: number): number => (actor + 1) << 1;
/** Actor holding a lock word's value, or -1. */
export const lock_owner = (v: number): number => (v >>> 1) - 1;

/** Slow path: spin a few loads, then futex-wait with the waiters bit set. */
export function lock_slow(a: Int32Array, i: number, me: number, id: number, spin: number): void {
  const mine = lockval(me);
  for (let k = 0; k < spin; k++) {
    if (a[i] === 0 && Atomics.compareExchange(a, i, 0, mine) === 0) return;
    backend.relax(id);
  }
  for (;;) {
    let v = Atomics.load(a, i);
    if (v === 0) {
      // We may have company: keep the waiters bit so our unlock wakes the next one.
      if (Atomics.compareExchange(a, i, 0, mine | WAITERS) === 0) break;
      continue;
    }
    if ((v & WAITERS) === 0) {
      const seen = Atomics.compareExchange(a, i, v, v | WAITERS);
      if (seen !== v) continue;
      v |= WAITERS;
    }
    backend.wait(a, i, v, Infinity, id);
  }
  progress();
}

/** Release; false if `me` does not own it (nothing is changed then). */
export function unlock_word(a: Int32Array, i: number, me: number, id: number): boolean {
  const mine = lockval(me);
  if (Atomics.compareExchange(a, i, mine, 0) === mine) return true;
  const v = Atomics.load(a, i);
  if ((v & ~WAITERS) !== mine) return false;
  Atomics.store(a, i, 0);
  backend.notify(a, i, 1, id);
  return true;
}
