// The global shared buffer: what spans devices (actors, the workqueue, eventfds, warnings).
import { allocBuf, kref, atomic, bytes, completion, defineStruct, i32, nameRegion, spinlock, words, type SharedBuf, type StructLayout, type FieldSpec } from './layout.ts';

export const MAX_ACTORS = 16;
/** Work items queued at once: each device has two work items, pending at most once each. */
export const WQ_RING = 1024;
/** eventfds: QEMU opens three per device (I/O, CRW, request). */
export const MAX_EVENTFDS = 1024;
/** The first slots of the ring and of the eventfd table sit where one device's run always had
 * them; the rest (many devices) follow the warnings, so the object ids one device's run names
 * (and the kind hashes replay tokens recorded) keep their numbers. */
const WQ_RING_LOW = 256;
const EVENTFDS_LOW = 32;
export const WARN_RING = 64;
export const WARN_MSG_BYTES = 192; // a use-after-free names two sites

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
  ring: words(WQ_RING_LOW, 'queued work object ids (slots 0..255; the rest in the ring extension)'),
});

export const EventfdSlot = defineStruct('eventfd', {
  in_use: atomic('1 while a user holds the fd'),
  count: atomic('the eventfd counter'),
  waiters: atomic(),
  signals: atomic('signals ever (accounting)'),
  reads: atomic('successful reads ever (accounting)'),
  ctx: kref('the eventfd_ctx: the open file holds one reference, each eventfd_ctx_fdget another'),
});

export const WarnEntry = defineStruct('warn', {
  code: i32(),
  actor: i32(),
  obj: i32(),
  seq: i32('trace sequence number when recorded, or -1'),
  count: atomic('times this same record was made (repeats bump it instead of taking a slot)'),
  len: i32(),
  msg: bytes(WARN_MSG_BYTES),
});

export const GlobalHeader = defineStruct('global', {
  warn_count: atomic('warnings ever recorded'),
  bug_count: atomic('BUGs ever recorded'),
  next_actor: atomic(),
  pad: i32('keeps the scheduler area 8-byte aligned'),
});

export const SCHED_LOG = 1 << 15;
/**
 * Words a pick strategy may lay out as its own (PCT takes 51). 53: the words the strategies' state
 * took when it was named here, so every object id after the area stays as it was.
 */
export const STRATEGY_SLOTS = 53;

/** The controlled scheduler's shared state (src/sched): one actor runs at a time, by baton. */
export const SchedArea = defineStruct('sched', {
  vnow: words(2, 'virtual time, ms (f64); first, so it is 8-byte aligned'),
  deadline: words(2 * MAX_ACTORS, 'per actor: virtual deadline of its timed wait (f64), +inf if none'),
  mode: atomic('0 free, 1 controlled'),
  abort: atomic('non-zero: the run is aborted (SchedAbortReason)'),
  running: atomic('actor holding the baton, -1 none'),
  arrived: atomic('actors that entered the schedule'),
  start_at: atomic('if non-zero: the actor that arrives as this many-th makes the first pick (no round trip through main)'),
  finished: atomic('1 when every actor left the schedule (main waits here)'),
  step: atomic('schedule points so far'),
  max_steps: atomic('bound: more steps abort the run (a livelock guard)'),
  users: atomic('user actors in the run'),
  hi: atomic('one past the highest actor id in the run (scans stop there)'),
  users_done: atomic(),
  stop_sent: atomic('the end-of-run stop was delivered to the machine and the workqueue'),
  preemptions: atomic(),
  handoffs: atomic('baton passes (a switch from one actor to another)'),
  strategy: atomic('StrategyId'),
  seed: atomic(),
  rng: atomic('shared PRNG state (mulberry32)'),
  kind_hash: atomic('running hash of the step kinds (replay checks)'),
  ncheck: atomic(),
  checks: words(24, 'kind_hash at steps 2^k, k = 4..27 (replay finds where a run diverged)'),
  slots: words(STRATEGY_SLOTS, "the pick strategy's own state, laid out by the strategy (src/sched/strategies)"),
  polling: words(MAX_ACTORS, 'per actor: 1 from its relax point (a polling loop) until it blocks'),
  spin_rounds: atomic('relax points passed since an actor that is not polling last ran'),
  step_mark: atomic('mark object passed since the last decision (+1; 0 none, -1 several)'),
  st: words(MAX_ACTORS, 'ActorSched state per actor'),
  key: words(MAX_ACTORS, 'object id of the word a blocked actor waits on'),
  woke: words(MAX_ACTORS, '1 notified, 2 timed out'),
  tevent: words(MAX_ACTORS, '1: the timed wait is a scheduled event (may fire any time); 0: a guard'),
  baton: words(MAX_ACTORS, '1: this actor may run'),
  nforced: atomic('choices to follow before the default policy (replay, DFS); sparse: words of pairs'),
  forced: words(SCHED_LOG, 'forced choices (actor ids); sparse: decision index, actor pairs'),
  ndec: atomic('decisions recorded'),
  dec: words(SCHED_LOG, 'per decision: enabled mask << 16 | current << 8 | pick'),
  dec_kind: words(SCHED_LOG, 'per decision: hook kind << 24 | low bits of the object id'),
  dec_timed: words(SCHED_LOG, 'per decision: the enabled actors that are blocked (only a timed wait firing would run them)'),
  dec_mark: words(SCHED_LOG, 'per decision: low bits of the mark object the step after it passed (+1; 0 none, -1 several)'),
});

const HEADER = 0;
const SCHED = HEADER + GlobalHeader.words;
const ACTORS = SCHED + SchedArea.words;
const WQ = ACTORS + ActorSlot.words * MAX_ACTORS;
const EVENTFDS = WQ + Workqueue.words;
const WARNS = EVENTFDS + EventfdSlot.words * EVENTFDS_LOW;
const EVENTFDS_HIGH = WARNS + WarnEntry.words * WARN_RING;
const WQ_RING_HIGH = EVENTFDS_HIGH + EventfdSlot.words * (MAX_EVENTFDS - EVENTFDS_LOW);
// The css layer's own queue (cio_work_q) comes last, so every object id before it keeps its number.
const CIO_WQ = WQ_RING_HIGH + (WQ_RING - WQ_RING_LOW);
/** cio_work_q's ring: its own 256 slots (one todo_work per subchannel, pending at most once). */
export const CIO_WQ_RING = WQ_RING_LOW;
/** The arg of cio_work_q's run/run_end/flush hooks (vfio-ccw's carry 0). */
export const WQ_TAG_CIO = 1;
const TOTAL = CIO_WQ + Workqueue.words;

export const GLOBAL = {
  header: HEADER,
  sched: SCHED,
  actor: (i: number): number => ACTORS + i * ActorSlot.words,
  workqueue: WQ,
  /** word of ring slot k (0 <= k < WQ_RING) */
  wq_slot: (k: number): number => (k < WQ_RING_LOW ? WQ + Workqueue.fields.ring.off + k : WQ_RING_HIGH + k - WQ_RING_LOW),
  /** the css layer's cio_work_q (drivers/s390/cio/css.c) */
  cio_workqueue: CIO_WQ,
  cio_wq_slot: (k: number): number => CIO_WQ + Workqueue.fields.ring.off + k,
  eventfd: (i: number): number => (i < EVENTFDS_LOW ? EVENTFDS + i * EventfdSlot.words : EVENTFDS_HIGH + (i - EVENTFDS_LOW) * EventfdSlot.words),
  warn: (i: number): number => WARNS + i * WarnEntry.words,
  words: TOTAL,
} as const;

function nameAll(): void {
  const n = (base: number, l: StructLayout<Record<string, FieldSpec>>, p: string): void => nameRegion(0, base, l, p);
  n(HEADER, GlobalHeader, '');
  n(SCHED, SchedArea, 'sched.');
  for (let i = 0; i < MAX_ACTORS; i++) n(GLOBAL.actor(i), ActorSlot, `actor${i}.`);
  n(WQ, Workqueue, 'vfio-ccw.');
  n(CIO_WQ, Workqueue, 'cio.');
  name_eventfds(EVENTFDS_LOW);
}

let eventfds_named = 0;
/** Name eventfd slots 0..n-1 for reports (a run of many devices uses more than the first 32;
 * naming all 1024 up front would slow every name look-up of a one-device run). */
export function name_eventfds(n: number): void {
  for (let i = eventfds_named; i < Math.min(n, MAX_EVENTFDS); i++) nameRegion(0, GLOBAL.eventfd(i), EventfdSlot, `eventfd${i}.`);
  eventfds_named = Math.max(eventfds_named, Math.min(n, MAX_EVENTFDS));
}
nameAll();

/** Main only: allocate the global buffer before any worker starts. */
export function alloc_global(): SharedBuf {
  return allocBuf(0, GLOBAL.words);
}

/** Between runs, with every actor parked: clear the workqueue, eventfds and warnings; keep actor slots. */
export function reset_global(g: SharedBuf): void {
  g.i32.fill(0, GLOBAL.header, GLOBAL.header + GlobalHeader.words);
  g.i32.fill(0, SCHED, SCHED + SchedArea.fields.forced.off);
  g.i32[SCHED + SchedArea.fields.ndec.off] = 0;
  g.i32.fill(0, GLOBAL.workqueue, GLOBAL.words);
  for (let i = 0; i < MAX_ACTORS; i++) {
    const s = GLOBAL.actor(i);
    g.i32.fill(0, s + ActorSlot.fields.spin_depth.off, s + ActorSlot.words);
  }
}
