// The hook: the one point every primitive operation and every shared-field access passes.
// Consumers (tracer, lock statistics, race detectors, lockdep, the scheduler) register here.
// With none registered, each call site costs one load and one compare.

export const H = {
  acquire: 1, // about to take a lock (before the attempt)
  contended: 2, // the attempt found the lock held and will wait
  acquired: 3, // the lock is now held
  release: 4,
  trylock_fail: 5,
  wait: 6, // about to block on a completion / eventfd / flush
  wake: 7, // a blocked wait returned (arg: 1 = signalled, 0 = timed out)
  complete: 8, // complete / complete_all
  queue: 9, // queue_work (arg: 1 queued, 0 already pending, 2 disabled by a cancel_work_sync)
  run: 10, // a work item starts
  run_end: 11,
  signal: 12, // eventfd_signal
  read: 13, // plain shared read (arg: byte length for regions)
  write: 14, // plain shared write
  read_once: 15, // READ_ONCE / atomic read
  write_once: 16, // WRITE_ONCE / atomic write
  irq_enter: 17,
  irq_exit: 18,
  flush: 19, // flush_workqueue begins
  cancel: 20,
  warn: 21, // WARN / BUG recorded (obj: the object concerned)
  fsm: 22, // an FSM event is dispatched (arg: state << 8 | event)
  mark: 23, // a named point with no object (scenario steps, hardware decisions)
  might_sleep: 24,
  fsm_exit: 25, // the FSM action returned (arg: state << 8 | event at entry)
} as const;
export type HookKind = (typeof H)[keyof typeof H];

export const HookName: Record<HookKind, string> = Object.fromEntries(
  Object.entries(H).map(([k, v]) => [v, k]),
) as Record<HookKind, string>;

/** A consumer sees what happened, to which object, where, by whom. */
export type HookFn = (kind: HookKind, obj: number, site: string, actor: number, arg: number) => void;

const consumers: HookFn[] = [];

/**
 * The dispatch function, or null when nobody listens. Primitives test it inline:
 *   if (hook !== null) hook(H.acquire, id, site, current.id, 0)
 */
export let hook: HookFn | null = null;

// Up to four consumers (the scheduler, the tracer, the invariant and lifetime oracles) are called one by
// one, each from a call site of its own: the consumers are built once per thread and re-armed per
// run, so each site keeps seeing one function and the optimizer can inline it. A loop over the
// list would be one call site seeing them all (megamorphic, never inlined).
function rebuild(): void {
  const [c0, c1, c2] = consumers;
  if (c0 === undefined) hook = null;
  else if (c1 === undefined) hook = c0;
  else if (c2 === undefined) hook = (k, o, s, a, x) => {
    c0(k, o, s, a, x);
    c1(k, o, s, a, x);
  };
  else if (consumers.length === 3) hook = (k, o, s, a, x) => {
    c0(k, o, s, a, x);
    c1(k, o, s, a, x);
    c2(k, o, s, a, x);
  };
  else if (consumers.length === 4) {
    const c3 = consumers[3]!;
    hook = (k, o, s, a, x) => {
      c0(k, o, s, a, x);
      c1(k, o, s, a, x);
      c2(k, o, s, a, x);
      c3(k, o, s, a, x);
    };
  }
  else {
    const list = consumers.slice();
    hook = (k, o, s, a, x) => {
      for (const c of list) c(k, o, s, a, x);
    };
  }
}

/** Register a consumer for this thread; returns its unregister function. */
export function register_hook(fn: HookFn): () => void {
  consumers.push(fn);
  rebuild();
  return () => {
    const i = consumers.indexOf(fn);
    if (i >= 0) consumers.splice(i, 1);
    rebuild();
  };
}

export function hook_consumers(): number {
  return consumers.length;
}
