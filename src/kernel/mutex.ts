// struct mutex: a futex mutex whose word holds the owner and a waiters flag (lockword.ts):
// free, locked, or locked with possible waiters; notify only in the last case.
import { WARN, Warn, might_sleep } from './bug.ts';
import { current } from './current.ts';
import { H, hook } from './hook.ts';
import { lock_owner, lock_slow, unlock_word } from './lockword.ts';
import { KObj } from './obj.ts';

export class Mutex extends KObj {}

const SPIN = 32;

export function mutex_init(m: Mutex): void {
  Atomics.store(m.a, m.i, 0);
}

export function mutex_lock(m: Mutex, site: string): void {
  const c = current;
  if (c.spinDepth !== 0 || c.inIrq) might_sleep(m.id, site);
  if (hook !== null) hook(H.acquire, m.id, site, c.id, 0);
  if (Atomics.compareExchange(m.a, m.i, 0, c.lv) !== 0) {
    if (hook !== null) hook(H.contended, m.id, site, c.id, 0);
    lock_slow(m.a, m.i, c.id, m.id, SPIN);
  }
  c.mutexDepth++;
  if (hook !== null) hook(H.acquired, m.id, site, c.id, 0);
}

/** 1 if the mutex was taken, 0 if it is held by someone (the kernel's convention). */
export function mutex_trylock(m: Mutex, site: string): number {
  const c = current;
  if (hook !== null) hook(H.acquire, m.id, site, c.id, 1);
  if (Atomics.compareExchange(m.a, m.i, 0, c.lv) !== 0) {
    if (hook !== null) hook(H.trylock_fail, m.id, site, c.id, 0);
    return 0;
  }
  c.mutexDepth++;
  if (hook !== null) hook(H.acquired, m.id, site, c.id, 1);
  return 1;
}

export function mutex_unlock(m: Mutex, site: string): void {
  const c = current;
  if (hook !== null) hook(H.release, m.id, site, c.id, 0);
  if (Atomics.compareExchange(m.a, m.i, c.lv, 0) !== c.lv && !unlock_word(m.a, m.i, c.id, m.id)) {
    // DEBUG_MUTEXES warns here. We also refuse the unlock: releasing another actor's
    // critical section would turn one report into a cascade of unrelated ones.
    WARN(Warn.mutex_not_owner, m.id, `DEBUG_LOCKS_WARN_ON(owner != current): mutex_unlock at ${site} by actor ${c.id}, owner ${mutex_owner(m)}`);
    return;
  }
  c.mutexDepth--;
}

export function mutex_is_locked(m: Mutex): boolean {
  return Atomics.load(m.a, m.i) !== 0;
}

/** Actor id holding the mutex, or -1. */
export function mutex_owner(m: Mutex): number {
  return lock_owner(Atomics.load(m.a, m.i));
}
