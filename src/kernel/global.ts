// The global shared buffer: what spans devices (actors, the workqueue, eventfds, warnings).
import { allocBuf, atomic, bytes, completion, defineStruct, i32, nameRegion, spinlock, words, type SharedBuf, type StructLayout, type FieldSpec } from './layout.ts';

export const MAX_ACTORS = 16;
export const WQ_RING = 256;
export const MAX_EVENTFDS = 32;
export const WARN_RING = 64;
export const WARN_MSG_BYTES = 120;

/** Per-actor mirror of the thread-local context, so the watchdog can tell who holds and waits on what. */
export const ActorSlot = defineStruct('actor', {
  kind: i32('ActorKind + 1; 0 = unused slot'),
  spin_depth: i32('spinlocks held'),
  irqs_off: i32('local interrupts disabled'),
  in_irq: i32('running a hard-IRQ handler'),
  waiting_on: i32('object id blocked on, or 0'),
  progress: i32('bumped at every completed blocking operation'),
  waits: i32('futex waits (free mode): how often this actor went to sleep'),
  stack_comp: completion('an on-stack completion of this actor (quiesce points private->completion here)'),
});

export const Workqueue = defineStruct('workqueue', {
  lock: spinlock('protects head/tail/ring (pool->lock)'),
  head: i32(),
  tail: i32(),
  queued_seq: atomic('items ever queued'),
  done_seq: atomic('items ever retired (run or skipped)'),
  running: atomic('object id of the work item being run, or 0'),
  exec_waiters: atomic(),
  flush_waiters: atomic(),
  stop: atomic('asks the executor to return'),
  ring: words(WQ_RING, 'queued work object ids'),
});

export const EventfdSlot = defineStruct('eventfd', {
  in_use: atomic('1 while a user holds the fd'),
  count: atomic('the eventfd counter'),
  waiters: atomic(),
  signals: atomic('signals ever (accounting)'),
  reads: atomic('successful reads ever (accounting)'),
});

export const WarnEntry = defineStruct('warn', {
  code: i32(),
  actor: i32(),
  obj: i32(),
  seq: i32('trace sequence number when recorded, or -1'),
  len: i32(),
  msg: bytes(WARN_MSG_BYTES),
});

export const GlobalHeader = defineStruct('global', {
  warn_count: atomic('warnings ever recorded'),
  bug_count: atomic('BUGs ever recorded'),
  next_actor: atomic(),
  sched: words(32, 'reserved for the controlled scheduler baton'),
});

const HEADER = 0;
const ACTORS = HEADER + GlobalHeader.words;
const WQ = ACTORS + ActorSlot.words * MAX_ACTORS;
const EVENTFDS = WQ + Workqueue.words;
const WARNS = EVENTFDS + EventfdSlot.words * MAX_EVENTFDS;
const TOTAL = WARNS + WarnEntry.words * WARN_RING;

export const GLOBAL = {
  header: HEADER,
  actor: (i: number): number => ACTORS + i * ActorSlot.words,
  workqueue: WQ,
  eventfd: (i: number): number => EVENTFDS + i * EventfdSlot.words,
  warn: (i: number): number => WARNS + i * WarnEntry.words,
  words: TOTAL,
} as const;

function nameAll(): void {
  const n = (base: number, l: StructLayout<Record<string, FieldSpec>>, p: string): void => nameRegion(0, base, l, p);
  n(HEADER, GlobalHeader, '');
  for (let i = 0; i < MAX_ACTORS; i++) n(GLOBAL.actor(i), ActorSlot, `actor${i}.`);
  n(WQ, Workqueue, 'vfio-ccw.');
  for (let i = 0; i < MAX_EVENTFDS; i++) n(GLOBAL.eventfd(i), EventfdSlot, `eventfd${i}.`);
}
nameAll();

/** Main only: allocate the global buffer before any worker starts. */
export function alloc_global(): SharedBuf {
  return allocBuf(0, GLOBAL.words);
}

/** Between runs, with every actor parked: clear the workqueue, eventfds and warnings; keep actor slots. */
export function reset_global(g: SharedBuf): void {
  g.i32.fill(0, GLOBAL.header, GLOBAL.header + GlobalHeader.words);
  g.i32.fill(0, GLOBAL.workqueue, GLOBAL.words);
  for (let i = 0; i < MAX_ACTORS; i++) {
    const s = GLOBAL.actor(i);
    g.i32.fill(0, s + ActorSlot.fields.spin_depth.off, s + ActorSlot.words);
  }
}
