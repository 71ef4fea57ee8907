// eventfd: a counter. A signal adds one; a read returns the count and clears it, or blocks.
// The table lives in the global buffer; an fd is a slot index, and the slot's eventfd_ctx has a
// lifetime (fs/eventfd.c, v6.2 read): the open file holds one reference, eventfd_ctx_fdget takes
// another, eventfd_ctx_put and the file's release drop them, and the last one frees the context.
// A driver keeps the context as a pointer (eventfd_ctx_ptr) that remembers its generation, so a
// signal through it after the free is a use-after-free (lifetime.ts), not a signal to the fd
// number's next owner.
import { backend } from './backend.ts';
import { clock } from './clock.ts';
import { current, progress } from './current.ts';
import { EventfdSlot, GLOBAL, MAX_EVENTFDS } from './global.ts';
import { H, hook } from './hook.ts';
import { objId, type SharedBuf } from './layout.ts';
import { Kref, kref_get, kref_init, kref_put, kref_read, obj_use, type Lifetime } from './lifetime.ts';

const E = EventfdSlot.fields;
export const EBADF = 9;

/** Bits of a context pointer that hold fd + 1 (MAX_EVENTFDS = 1024); the rest is the generation. */
const PTR_FD_BITS = 11;

export class EventfdCtx implements Lifetime {
  readonly b: number;
  readonly id: number;
  readonly ref: Kref;
  readonly what = 'eventfd_ctx';
  constructor(
    readonly a: Int32Array,
    g: SharedBuf,
    readonly fd: number,
    /** generation of the context this handle points at */
    readonly gen: number,
  ) {
    this.b = GLOBAL.eventfd(fd);
    this.id = objId(g, this.b + E.count.off);
    this.ref = new Kref(a, this.b + E.ctx.off, objId(g, this.b + E.ctx.off));
  }
}

const slot_ref = (g: SharedBuf, fd: number): Kref => new Kref(g.i32, GLOBAL.eventfd(fd) + E.ctx.off, objId(g, GLOBAL.eventfd(fd) + E.ctx.off));
const slot_gen = (g: SharedBuf, fd: number): number => Atomics.load(g.i32, GLOBAL.eventfd(fd) + E.ctx.off + 1);

/** User side: eventfd(0, 0). Returns the fd, or -EMFILE (24) if the table is full. */
export function eventfd_create(g: SharedBuf): number {
  for (let fd = 0; fd < MAX_EVENTFDS; fd++) {
    const b = GLOBAL.eventfd(fd);
    // A slot is free once its fd is closed and the last reference to its context is gone.
    if (kref_read(slot_ref(g, fd)) !== 0) continue;
    if (Atomics.compareExchange(g.i32, b + E.in_use.off, 0, 1) === 0) {
      Atomics.store(g.i32, b + E.count.off, 0);
      kref_init(slot_ref(g, fd));
      return fd;
    }
  }
  return -24;
}

/** close(fd): the file's reference goes (eventfd_release); the context lives on while the driver holds one. */
export function eventfd_close(g: SharedBuf, fd: number): void {
  if (!Number.isInteger(fd) || fd < 0 || fd >= MAX_EVENTFDS) return;
  if (Atomics.compareExchange(g.i32, GLOBAL.eventfd(fd) + E.in_use.off, 1, 0) !== 1) return;
  const ctx = new EventfdCtx(g.i32, g, fd, slot_gen(g, fd));
  kref_put(ctx, ctx.gen, 'eventfd_release');
}

/** The user's own open file (read, poll): no extra reference. -EBADF if the fd is not open. */
export function eventfd_file(g: SharedBuf, fd: number): EventfdCtx | number {
  if (!Number.isInteger(fd) || fd < 0 || fd >= MAX_EVENTFDS) return -EBADF;
  if (Atomics.load(g.i32, GLOBAL.eventfd(fd) + E.in_use.off) === 0) return -EBADF;
  return new EventfdCtx(g.i32, g, fd, slot_gen(g, fd));
}

/** eventfd_ctx_fdget: the context of an open fd with a reference of the caller's, or -EBADF. */
export function eventfd_ctx_fdget(g: SharedBuf, fd: number): EventfdCtx | number {
  const ctx = eventfd_file(g, fd);
  if (typeof ctx === 'number') return ctx;
  return kref_get(ctx, ctx.gen, 'eventfd_ctx_fdget') ? ctx : -EBADF;
}

/** eventfd_ctx_put: drop the caller's reference; the last one frees the context. */
export function eventfd_ctx_put(ctx: EventfdCtx, site: string): void {
  kref_put(ctx, ctx.gen, site);
}

/** The pointer a driver stores (struct eventfd_ctx *): 0 is NULL. */
export const eventfd_ctx_ptr = (ctx: EventfdCtx): number => (ctx.gen << PTR_FD_BITS) | (ctx.fd + 1);

/** The fd a stored pointer was taken through (tests, reports); -1 for NULL. */
export const eventfd_ptr_fd = (ptr: number): number => (ptr === 0 ? -1 : (ptr & ((1 << PTR_FD_BITS) - 1)) - 1);

/** Follow a stored pointer (non-zero): the context it was taken from, alive or not. */
export function eventfd_ctx_deref(g: SharedBuf, ptr: number): EventfdCtx {
  return new EventfdCtx(g.i32, g, (ptr & ((1 << PTR_FD_BITS) - 1)) - 1, ptr >>> PTR_FD_BITS);
}

/** eventfd_signal: on a freed context a use-after-free, and nothing is counted. */
export function eventfd_signal(ctx: EventfdCtx, site: string): void {
  const a = ctx.a;
  if (hook !== null) hook(H.signal, ctx.id, site, current.id, 1);
  if (!obj_use(ctx, ctx.gen, site, 'eventfd_signal on')) return;
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

/** Signals and reads summed over every slot: a run's books, read once per run without an object per slot. */
export function eventfd_totals(g: SharedBuf): { signals: number; reads: number } {
  let signals = 0;
  let reads = 0;
  for (let fd = 0; fd < MAX_EVENTFDS; fd++) {
    const b = GLOBAL.eventfd(fd);
    signals += Atomics.load(g.i32, b + E.signals.off);
    reads += Atomics.load(g.i32, b + E.reads.off);
  }
  return { signals, reads };
}
