// eventfd: a counter. A signal adds one; a read returns the count and clears it, or blocks.
// The table lives in the global buffer; an fd is a slot index.
import { backend } from './backend.ts';
import { clock } from './clock.ts';
import { current, progress } from './current.ts';
import { EventfdSlot, GLOBAL, MAX_EVENTFDS } from './global.ts';
import { H, hook } from './hook.ts';
import { objId, type SharedBuf } from './layout.ts';

const E = EventfdSlot.fields;
export const EBADF = 9;

export class EventfdCtx {
  readonly b: number;
  readonly id: number;
  constructor(
    readonly a: Int32Array,
    g: SharedBuf,
    readonly fd: number,
  ) {
    this.b = GLOBAL.eventfd(fd);
    this.id = objId(g, this.b + E.count.off);
  }
}

/** User side: eventfd(0, 0). Returns the fd, or -EMFILE (24) if the table is full. */
export function eventfd_create(g: SharedBuf): number {
  for (let fd = 0; fd < MAX_EVENTFDS; fd++) {
    const b = GLOBAL.eventfd(fd);
    if (Atomics.compareExchange(g.i32, b + E.in_use.off, 0, 1) === 0) {
      Atomics.store(g.i32, b + E.count.off, 0);
      return fd;
    }
  }
  return -24;
}

export function eventfd_close(g: SharedBuf, fd: number): void {
  if (fd >= 0 && fd < MAX_EVENTFDS) Atomics.store(g.i32, GLOBAL.eventfd(fd) + E.in_use.off, 0);
}

/** eventfd_ctx_fdget: the context for an open fd, or -EBADF. */
export function eventfd_ctx_fdget(g: SharedBuf, fd: number): EventfdCtx | number {
  if (!Number.isInteger(fd) || fd < 0 || fd >= MAX_EVENTFDS) return -EBADF;
  if (Atomics.load(g.i32, GLOBAL.eventfd(fd) + E.in_use.off) === 0) return -EBADF;
  return new EventfdCtx(g.i32, g, fd);
}

export function eventfd_signal(ctx: EventfdCtx, site: string): void {
  const a = ctx.a;
  if (hook !== null) hook(H.signal, ctx.id, site, current.id, 1);
  Atomics.add(a, ctx.b + E.count.off, 1);
  Atomics.add(a, ctx.b + E.signals.off, 1);
  if (Atomics.load(a, ctx.b + E.waiters.off) !== 0) backend.notify(a, ctx.b + E.count.off, Infinity, ctx.id);
}

/** Non-blocking read: the count, cleared; 0 means it would block. */
export function eventfd_try_read(ctx: EventfdCtx, site: string): number {
  const n = Atomics.exchange(ctx.a, ctx.b + E.count.off, 0);
  if (n !== 0) {
    Atomics.add(ctx.a, ctx.b + E.reads.off, 1);
    if (hook !== null) hook(H.wake, ctx.id, site, current.id, n);
  }
  return n;
}

/** Blocking read with a timeout (user side): the count, or 0 on timeout. */
export function eventfd_read(ctx: EventfdCtx, timeoutMs: number, site: string): number {
  let n = eventfd_try_read(ctx, site);
  if (n !== 0) return n;
  if (hook !== null) hook(H.wait, ctx.id, site, current.id, 0);
  const a = ctx.a;
  const deadline = clock.now_ms() + timeoutMs;
  for (;;) {
    Atomics.add(a, ctx.b + E.waiters.off, 1);
    const r = backend.wait(a, ctx.b + E.count.off, 0, Math.max(0, deadline - clock.now_ms()), ctx.id);
    Atomics.sub(a, ctx.b + E.waiters.off, 1);
    n = eventfd_try_read(ctx, site);
    if (n !== 0) {
      progress();
      return n;
    }
    if (r === 'timed-out' || clock.now_ms() >= deadline) return 0;
  }
}

export function eventfd_stats(g: SharedBuf, fd: number): { signals: number; reads: number; count: number } {
  const b = GLOBAL.eventfd(fd);
  return { signals: Atomics.load(g.i32, b + E.signals.off), reads: Atomics.load(g.i32, b + E.reads.off), count: Atomics.load(g.i32, b + E.count.off) };
}
