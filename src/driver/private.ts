// drivers/s390/cio/vfio_ccw_private.h: struct vfio_ccw_private, laid out in the device's shared buffer.
import { KREF_WORDS, atomic, bytes, completion, defineStruct, i32, kref, mutex, spinlock, work, words } from '../kernel/index.ts';
import { CMD_REGION_SIZE, CRW_REGION_SIZE, IO_REGION_SIZE, SCHIB_AREA_SIZE } from '../uapi/vfio_ccw.ts';

export const CRW_QUEUE = 64;
export const LOG_RECORDS = 16;

/**
 * Which lock protects what (spec/driver.md §1.2):
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
  // lifecycle (spec §13)
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
import type { Cp } from './cp.ts';
import type { Driver } from './variant.ts';

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
}
