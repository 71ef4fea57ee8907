// struct completion: a done counter; complete_all saturates it.
import { backend } from './backend.ts';
import { might_sleep } from './bug.ts';
import { clock, jiffies_to_msecs, msecs_to_jiffies } from './clock.ts';
import { current, progress } from './current.ts';
import { H, hook } from './hook.ts';
import { objOff, type SharedBuf } from './layout.ts';
import { KObj } from './obj.ts';

export class Completion extends KObj {}

/** The completion a `struct completion *` kept in a shared word points at: its object id in `buf`. */
export function completion_by_id(buf: SharedBuf, id: number): Completion {
  return new Completion(buf.i32, objOff(id), id);
}

const WAITERS = 1;
const ALL = 0x7fffffff; // UINT_MAX in the kernel: complete_all

export function init_completion(x: Completion): void {
  Atomics.store(x.a, x.i, 0);
  Atomics.store(x.a, x.i + WAITERS, 0);
}

export function reinit_completion(x: Completion): void {
  Atomics.store(x.a, x.i, 0);
}

export function complete(x: Completion, site: string): void {
  if (hook !== null) hook(H.complete, x.id, site, current.id, 1);
  let v = Atomics.load(x.a, x.i);
  while (v !== ALL) {
    const seen = Atomics.compareExchange(x.a, x.i, v, v + 1);
    if (seen === v) break;
    v = seen;
  }
  if (Atomics.load(x.a, x.i + WAITERS) !== 0) backend.notify(x.a, x.i, 1, x.id);
}

export function complete_all(x: Completion, site: string): void {
  if (hook !== null) hook(H.complete, x.id, site, current.id, 2);
  Atomics.store(x.a, x.i, ALL);
  if (Atomics.load(x.a, x.i + WAITERS) !== 0) backend.notify(x.a, x.i, Infinity, x.id);
}

/** Consume one "done" if there is one. */
export function try_wait_for_completion(x: Completion): boolean {
  let v = Atomics.load(x.a, x.i);
  while (v !== 0) {
    if (v === ALL) return true;
    const seen = Atomics.compareExchange(x.a, x.i, v, v - 1);
    if (seen === v) return true;
    v = seen;
  }
  return false;
}

export function completion_done(x: Completion): boolean {
  return Atomics.load(x.a, x.i) !== 0;
}

function do_wait(x: Completion, timeoutMs: number, site: string): boolean {
  const c = current;
  if (c.spinDepth !== 0 || c.inIrq) might_sleep(x.id, site);
  if (hook !== null) hook(H.wait, x.id, site, c.id, 0);
  const deadline = clock.now_ms() + timeoutMs;
  let ok = true;
  while (!try_wait_for_completion(x)) {
    const left = timeoutMs === Infinity ? Infinity : deadline - clock.now_ms();
    if (left <= 0) {
      ok = false;
      break;
    }
    Atomics.add(x.a, x.i + WAITERS, 1);
    backend.wait(x.a, x.i, 0, left, x.id);
    Atomics.sub(x.a, x.i + WAITERS, 1);
  }
  progress();
  if (hook !== null) hook(H.wake, x.id, site, c.id, ok ? 1 : 0);
  return ok;
}

export function wait_for_completion(x: Completion, site: string): void {
  do_wait(x, Infinity, site);
}

/** Returns 0 on timeout, else the jiffies left (at least 1), as the kernel does. */
export function wait_for_completion_timeout(x: Completion, timeout: number, site: string): number {
  const start = clock.now_ms();
  if (!do_wait(x, jiffies_to_msecs(timeout), site)) return 0;
  const left = timeout - msecs_to_jiffies(clock.now_ms() - start);
  return left > 0 ? left : 1;
}
