// lockdep_assert_held and friends: checks on the running actor's held locks.
import { WARN, Warn } from './bug.ts';
import { current } from './current.ts';
import { lock_owner } from './lockword.ts';
import type { KObj } from './obj.ts';

/** Mutex and spinlock words carry their owner (lockword.ts). */
export function lockdep_assert_held(lock: KObj, site: string): void {
  if (lock_owner(Atomics.load(lock.a, lock.i)) !== current.id) {
    WARN(Warn.lock_not_held, lock.id, `WARNING: lockdep_assert_held failed at ${site}`);
  }
}

export function lockdep_assert_not_held(lock: KObj, site: string): void {
  if (lock_owner(Atomics.load(lock.a, lock.i)) === current.id) {
    WARN(Warn.lock_not_held, lock.id, `WARNING: lockdep_assert_not_held failed at ${site}`);
  }
}
