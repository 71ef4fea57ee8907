// drivers/s390/cio/vfio_ccw_private.h: struct vfio_ccw_private, laid out in the device's shared buffer.
import {
  BUG, H, KREF_WORDS, Warn, atomic, bytes, completion, completion_by_id, current, defineStruct, hook, i32, kref, mutex, mutex_lock, mutex_unlock, spinlock, work, words, type Completion,
} from '../kernel/index.ts';
import { CMD_REGION_SIZE, CRW_REGION_SIZE, IO_REGION_SIZE, SCHIB_AREA_SIZE } from '../uapi/vfio_ccw.ts';

export const CRW_QUEUE = 64;
export const LOG_RECORDS = 16;

/**
 * Which lock protects what (vfio_ccw_private.h and the callers in vfio_ccw_*.c):
 * - state: none (R1); every access goes through the seam so the race detector sees it.
 * - io_region, cmd_region, schib_region, crw_region: io_mutex (v5.2+).
 * - irb: none (R2): fsm_irq writes it under sch->lock, io_todo reads it with no lock.
 * - completion, triggers: none (R4, R5).
 * - crw list (crw.ts): the producer holds sch->lock; the CRW region reader dequeues with no lock.
 *   The current tree (torvalds/linux @ 16b0798024c0) puts every list operation under crw_lock.
 */
export const VfioCcwPrivate = defineStruct('private', {
  state: i32('enum vfio_ccw_state, per variant'),
  io_mutex: mutex(),
  fsm_mutex: mutex('A only: "Make FSM functions atomic", read as a mutex around dispatch [inferred]'),
  completion: i32('object id of a waiting on-stack completion, or 0 (NULL)'),
  irb: bytes(96, 'the single IRB slot'),
  scsw: bytes(12, 'copy of io_region.scsw_area made by fsm_io_request'),
  io_region: bytes(IO_REGION_SIZE),
  cmd_region: bytes(CMD_REGION_SIZE),
  schib_region: bytes(SCHIB_AREA_SIZE),
  crw_region: bytes(CRW_REGION_SIZE),
  num_regions: i32('extra regions registered at open (async, schib, crw)'),
  region_sets: i32('times the region array was filled (I16: at most 1)'),
  crw_lock: spinlock('private->crw_lock: the CRW list (the current tree only; crw_lock feature)'),
  crw_first: i32('private->crw: the first entry (crw.ts pointer), 0 = empty'),
  crw_last: i32('private->crw.prev: the last entry, 0 = empty'),
  crw_next: words(CRW_QUEUE, 'per entry: next pointer'),
  crw_val: words(CRW_QUEUE, 'per entry: the CRW'),
  crw_life: words(CRW_QUEUE * KREF_WORDS, 'per entry: kzalloc / kfree (lifetime.ts)'),
  crw_slab: spinlock('the slab allocator\'s own ordering of a kfree before the kzalloc that hands the same vfio_ccw_crw out again (a leaf lock, not the driver\'s)'),
  io_trigger: i32('struct eventfd_ctx * (eventfd_ctx_ptr: its generation and fd), 0 = NULL'),
  crw_trigger: i32(),
  req_trigger: i32(),
  io_work: work(),
  crw_work: work(),
  // lifecycle (vfio_ccw_drv.c probe/remove, vfio_ccw_ops.c mdev probe/remove)
  mdev: i32('an mdev exists (private->mdev / parent drvdata != NULL)'),
  avail: atomic('available instances (<= v6.0)'),
  open_lock: mutex('the vfio core device-set lock (serialises open_device/close_device)'),
  open_count: i32('device FDs open'),
  notifier_registered: i32('DMA-unmap notifier registrations (I16: at most 1)'),
  release_comp: completion('E1 release completion'),
  vdev_refs: atomic('references to the vfio_device (E1/E2): its .release runs when the last one drops'),
  parent_registered: i32('the mdev parent is registered: mdev create is possible (css probe)'),
  quiesce_halts: i32('hsch issued by the running quiesce (I11)'),
  quiesce_clears: i32('csch issued by the running quiesce (I11)'),
  quiesce_cancels: i32('xsch issued by the running quiesce (I11)'),
  // statistics and accounting
  irqs: atomic('vfio_ccw_sch_irq calls (the IRQ statistics bump)'),
  irbs_to_region: atomic('io_todo copies of the IRB into the I/O region'),
  io_signals: atomic('io_trigger signals'),
  // oracle bookkeeping (not driver state): read and written with raw Atomics, never hooked
  o_io_req_running: atomic('IO_REQ handlers running (I2 holds only when none is)'),
  o_irb_final_unread: atomic('the IRB slot holds a final IRB io_todo has not copied yet (I12)'),
  o_todo_freed: atomic('the running io_todo freed a cp (I13)'),
  o_io_req_actor: atomic('actor + 1 running the IO_REQ handler, the cp owner while it translates (I4); 0 none'),
  o_region_writer: atomic('actor + 1 whose region write is not yet consumed by its IO_REQ (I1 before io_mutex); 0 none'),
  life: kref('v6.2+: this mdev\'s private, born at mdev probe (vfio_alloc_device), freed when the last vfio_device reference runs .release'),
  dbf_lock: spinlock('the s390dbf debug_info lock debug_sprintf_event takes around a record (the driver has one debug_info; one device per run, so one lock)'),
  log_count: i32('records written (dbf_lock)'),
  log: words(LOG_RECORDS * 2, 'debug log records: kind, value-or-reference (dbf_lock)'),
});

export type PrivateLayout = typeof VfioCcwPrivate;

// ---- the per-thread handle: struct vfio_ccw_private * ----
import type { LayoutView, SharedBuf, WorkqueueStruct } from '../kernel/index.ts';
import type { Subch } from '../cio/css.ts';
import type { VfioCoreView } from '../vfio/vfio_device.ts';
import type { Cp } from './cp.ts';
import type { FsmShape } from './fsm_tables.ts';
import { fsm_returns_state, type VariantFeatures } from './features.ts';

export interface VfioCcwPrivate {
  /** device index (buffer index = dev + 1) */
  readonly dev: number;
  readonly buf: SharedBuf;
  readonly g: SharedBuf;
  /** the shared fields of struct vfio_ccw_private */
  readonly v: LayoutView<PrivateLayout>;
  readonly sch: Subch;
  readonly cp: Cp;
  /** the driver version this device runs (jump table, state numbering, per-version rules) */
  readonly drv: Driver;
  /** the vfio-ccw workqueue (one for all devices) */
  readonly wq: WorkqueueStruct;
  /** the vfio core's side of the mdev's vfio_device: the references its unregistration waits for */
  readonly core: VfioCoreView;
}

// ---- what vfio_ccw_private.h declares for drv.c and fsm.c: fsm_func_t, the jump table of the
// device's version, vfio_ccw_fsm_event (a static inline there), the functions a version replaces.

/** fsm_func_t */
export type FsmFunc = (p: VfioCcwPrivate, event: number) => void;

/** Every state name any version uses; a version that lacks one maps it to -1. */
export const STATE_NAMES = ['NOT_OPER', 'STANDBY', 'IDLE', 'BOXED', 'BUSY', 'CP_PROCESSING', 'CP_PENDING', 'QUIESCING', 'BROKEN', 'CLOSED'] as const;
export type StateName = (typeof STATE_NAMES)[number];
export const EVENT_NAMES = ['NOT_OPER', 'IO_REQ', 'INTERRUPT', 'ASYNC_REQ', 'OPEN', 'CLOSE', 'INIT', 'SSCH_REQ', 'SCHIB_CHANGED', 'ONLINE', 'OFFLINE', 'BROKEN'] as const;
export type EventName = (typeof EVENT_NAMES)[number];

export type DriverFeatures = VariantFeatures;

export interface Driver {
  /** variant name, e.g. "mainline" */
  readonly name: string;
  readonly shape: FsmShape;
  readonly S: Readonly<Record<StateName, number>>;
  readonly E: Readonly<Record<EventName, number>>;
  /**
   * States and events by their role where a version renamed them, so shared code reads one
   * number: gunthorpe-2021's BROKEN/CLOSED for NOT_OPER/STANDBY, morel-2018's SSCH_REQ for IO_REQ.
   * Elsewhere these are the names themselves.
   */
  readonly R: Readonly<{ NOT_OPER: number; STANDBY: number; EV_NOT_OPER: number; EV_IO_REQ: number }>;
  /** jumptable[state][event] */
  readonly jumptable: readonly (readonly FsmFunc[])[];
  readonly f: DriverFeatures;
  /** functions picked once for this variant: its own replacement, else the shared one */
  readonly code: DriverCode;
}

/**
 * Driver functions a variant may replace with its own, written like that version's C. The driver
 * picks each one once, when it is built; without a replacement it runs the shared function under
 * the variant's `features`.
 */
export interface DriverCode {
  /** io_work's handler (drivers/s390/cio/vfio_ccw_drv.c): the IRB slot to the I/O region, free, IDLE, signal */
  readonly vfio_ccw_sch_io_todo: (p: VfioCcwPrivate) => void;
  /** the ssch path of fsm_io_request (vfio_ccw_fsm.c): 0 or -errno; the forms differ in sch->lock */
  readonly fsm_io_helper: (p: VfioCcwPrivate) => number;
  /** vfio_ccw_sch_quiesce (vfio_ccw_drv.c): cancel/halt/clear until the disable takes; 0 or -errno */
  readonly vfio_ccw_sch_quiesce: (p: VfioCcwPrivate) => number;
}

export const VFIO_CCW_ISC = 6; // IO_SCH_ISC in the kernel's isc.h

/**
 * vfio_ccw_fsm_event: a plain table dispatch with no lock of its own (R1). A's dispatcher is
 * serialised ("Make FSM functions atomic", read as a mutex around dispatch [inferred] from the 2018 cover letter).
 */
export function vfio_ccw_fsm_event(p: VfioCcwPrivate, event: number): void {
  const serialised = fsm_returns_state(p.drv.f);
  if (serialised) mutex_lock(p.v.fsm_mutex, 'vfio_ccw_fsm_event');
  try {
    const state = p.v.state.get('vfio_ccw_fsm_event');
    if (hook !== null) hook(H.fsm, p.v.state.id, 'vfio_ccw_fsm_event', current.id, (state << 8) | event);
    const row = p.drv.jumptable[state];
    const fn = row?.[event];
    // A's fsm_quiescing can leave a negative errno as the state: the kernel then indexes out of bounds.
    if (fn === undefined) BUG(Warn.driver, p.v.state.id, `vfio_ccw_fsm_event: state ${state} event ${event} outside the jump table`);
    fn(p, event);
    if (hook !== null) hook(H.fsm_exit, p.v.state.id, 'vfio_ccw_fsm_event', current.id, (state << 8) | event);
  } finally {
    if (serialised) mutex_unlock(p.v.fsm_mutex, 'vfio_ccw_fsm_event');
  }
}

/** The on-stack completion a quiesce points private->completion at (an actor slot's). */
export function completion_at(p: VfioCcwPrivate, id: number): Completion {
  return completion_by_id(p.g, id);
}
