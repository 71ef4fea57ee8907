// The ordering a kernel atomic read-modify-write gives (refcount_dec_and_test: release on every
// put, acquire on the one that reaches zero), for the race detector. Not a hook event: the
// scheduler makes every hook event a schedule point, and a refcount_t operation is none of the
// driver's synchronisation points, so adding its order must not move any schedule.
import { current } from './current.ts';

export const Order = { release: 1, acquire: 2 } as const;
export type OrderOp = (typeof Order)[keyof typeof Order];

/** A consumer sees the operation, the object whose clock carries the order, and the actor. */
export type OrderFn = (op: OrderOp, obj: number, actor: number) => void;

const consumers: OrderFn[] = [];

/** Register a consumer for this thread; returns its unregister function. */
export function register_order(fn: OrderFn): () => void {
  consumers.push(fn);
  return () => {
    const i = consumers.indexOf(fn);
    if (i >= 0) consumers.splice(i, 1);
  };
}

export function order_release(obj: number): void {
  for (const c of consumers) c(Order.release, obj, current.id);
}

export function order_acquire(obj: number): void {
  for (const c of consumers) c(Order.acquire, obj, current.id);
}
