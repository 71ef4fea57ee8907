// Delay injection (free mode): at hook points, with a seeded probability, the running actor
// busy-waits a little, widening race windows as the kernel's KCSAN delays do.
import { H, type HookFn, register_hook } from '../kernel/hook.ts';
import { mulberry32 } from '../hw/prng.ts';

export interface DelayArgs {
  /** probability per eligible hook point */
  p: number;
  /** upper bound of one delay, µs */
  max_us: number;
  seed: number;
}

/** Hook kinds worth stretching: shared accesses and lock releases. */
const ELIGIBLE = new Set<number>([H.read, H.write, H.read_once, H.write_once, H.release, H.queue, H.signal, H.fsm]);

export function start_delay_injection(d: DelayArgs, actor: number): () => void {
  const rnd = mulberry32((d.seed ^ Math.imul(actor + 1, 0x9e3779b1)) >>> 0);
  const threshold = d.p * 0x1_0000_0000;
  const fn: HookFn = (kind) => {
    if (!ELIGIBLE.has(kind) || rnd() >= threshold) return;
    const until = performance.now() + ((rnd() % 1000) / 1000) * (d.max_us / 1000);
    while (performance.now() < until) {
      // spin: a delay here models a slow path, an interrupt or a preemption on this CPU
    }
  };
  return register_hook(fn);
}
