// spinlock_t with the _irq / _irqsave variants and a per-actor "interrupts disabled" flag.
// It spins a few loads and then futex-waits: on 2 cores with 3+ threads, pure spinning
// waits for scheduler ticks. For the kernel's rules it is still a spinlock: holding it
// forbids sleeping (might_sleep checks spinDepth).
import { WARN, Warn } from './bug.ts';
import { current, mirror_irq } from './current.ts';
import { H, hook } from './hook.ts';
import { lock_owner, lock_slow, unlock_word } from './lockword.ts';
import { KObj } from './obj.ts';

export class Spinlock extends KObj {}

const SPIN = 64;

export function spin_lock_init(l: Spinlock): void {
  Atomics.store(l.a, l.i, 0);
}

export function spin_lock(l: Spinlock, site: string): void {
  const c = current;
  if (hook !== null) hook(H.acquire, l.id, site, c.id, c.irqsOff ? 1 : 0);
  if (Atomics.compareExchange(l.a, l.i, 0, c.lv) !== 0) {
    if (hook !== null) hook(H.contended, l.id, site, c.id, 0);
    lock_slow(l.a, l.i, c.id, l.id, SPIN);
  }
  c.spinDepth++;
  mirror_irq();
  if (hook !== null) hook(H.acquired, l.id, site, c.id, c.irqsOff ? 1 : 0);
}

export function spin_trylock(l: Spinlock, site: string): boolean {
  const c = current;
  if (Atomics.compareExchange(l.a, l.i, 0, c.lv) !== 0) {
    if (hook !== null) hook(H.trylock_fail, l.id, site, c.id, 0);
    return false;
  }
  c.spinDepth++;
  mirror_irq();
  if (hook !== null) hook(H.acquired, l.id, site, c.id, c.irqsOff ? 1 : 0);
  return true;
}

export function spin_unlock(l: Spinlock, site: string): void {
  const c = current;
  if (hook !== null) hook(H.release, l.id, site, c.id, 0);
  if (!unlock_word(l.a, l.i, c.id, l.id)) {
    WARN(Warn.spin_not_owner, l.id, `BUG: spinlock wrong owner on CPU${c.id}: spin_unlock at ${site}, owner ${spin_owner(l)}`);
    return;
  }
  c.spinDepth--;
  mirror_irq();
}

export function local_irq_disable(): void {
  current.irqsOff = true;
  mirror_irq();
}

export function local_irq_enable(): void {
  current.irqsOff = false;
  mirror_irq();
}

export function irqs_disabled(): boolean {
  return current.irqsOff;
}

export function spin_lock_irq(l: Spinlock, site: string): void {
  local_irq_disable();
  spin_lock(l, site);
}

export function spin_unlock_irq(l: Spinlock, site: string): void {
  spin_unlock(l, site);
  local_irq_enable();
}

/** Returns the saved flags (whether interrupts were already off). */
export function spin_lock_irqsave(l: Spinlock, site: string): boolean {
  const flags = current.irqsOff;
  local_irq_disable();
  spin_lock(l, site);
  return flags;
}

export function spin_unlock_irqrestore(l: Spinlock, flags: boolean, site: string): void {
  spin_unlock(l, site);
  current.irqsOff = flags;
  mirror_irq();
}

export function spin_is_locked(l: Spinlock): boolean {
  return Atomics.load(l.a, l.i) !== 0;
}

export function spin_owner(l: Spinlock): number {
  return lock_owner(Atomics.load(l.a, l.i));
}
