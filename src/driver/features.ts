// The per-version rules the driver code switches on (p.drv.f): what a variant in the registry
// (src/variants) fills in. Data only, so the driver's header (private.ts) names it and the
// registry imports it: the dependency runs from the registry to the driver, never back.
import type { CpRules } from './cp.ts';

/**
 * What io_todo does with a solicited interrupt and when it resets IDLE (vfio_ccw_sch_io_todo in
 * vfio_ccw_drv.c). Each variant states its rule; neighbouring variants differ in the patch between them.
 */
export interface IoTodoRule {
  /** A: the work item fires INTERRUPT and fsm_irq runs these steps [inferred from patch 1] */
  readonly in_fsm_irq: boolean;
  /** a solicited interrupt frees the cp: always, if final, or if final while CP_PENDING */
  readonly free: 'solicited' | 'final' | 'final+cp_pending';
  /** state = IDLE afterwards: if an mdev exists, if also final, if also this run freed the cp, if this run freed it; A: fsm_irq returns IDLE */
  readonly idle: 'mdev' | 'mdev+final' | 'mdev+freed' | 'freed' | 'returned';
  readonly idle_before_signal: boolean;
}

export interface VariantFeatures {
  // --- FSM dispatch (vfio_ccw_fsm_event, vfio_ccw_private.h)
  /** 'direct': handlers write private->state themselves, no dispatch lock. A: actions return the next state, dispatch serialised [inferred]. */
  readonly fsm_dispatch: 'direct' | 'serialised-returns-state';

  // --- regions and IRQs (vfio_ccw_ops.c, vfio_ccw_async.c)
  readonly regions: 'io' | 'io+async' | 'io+async+schib+crw';
  /** v5.2+: region index = offset >> 10, position = offset & 0x3FF (B: offset = position) */
  readonly offset_shift: boolean;
  /** VFIO_CCW_NUM_IRQS: 1 = IO, 2 = + CRW (v5.8), 3 = + REQ (v5.11, with the request callback) */
  readonly irqs: 1 | 2 | 3;
  /** v5.8+: the css chp_event callback and the crw work item */
  readonly chp_event: boolean;
  /**
   * The current tree (torvalds/linux @ 16b0798024c0): spinlock_t private->crw_lock around every
   * list operation on private->crw (queue_crw, crw_todo, the CRW region read, .release); the CRW
   * region read runs under io_mutex and checks the region index. Before: no lock of its own.
   */
  readonly crw_lock: boolean;

  // --- I/O request path (fsm_io_request, fsm_io_helper in vfio_ccw_fsm.c; vfio_ccw_io_region_write)
  /** the state fsm_io_request writes at entry */
  readonly request_entry_state: 'BOXED' | 'BUSY' | 'CP_PROCESSING';
  readonly io_helper:
    | 'no-lock' // morel-2018: no sch->lock at all; the caller returns BUSY
    | 'ssch-outside-lock' // v4.12: BUSY under sch->lock, then ssch and the actl update outside it
    | 'one-lock-busy-first' // v4.18 … v5.1: BUSY, ORB, ssch, cc mapping in one sch->lock section (BUSY even if ssch fails)
    | 'one-lock-pending-on-cc0'; // v5.2+: one sch->lock section; NULL orb -> -EIO; CP_PENDING only on cc 0
  /** ORB transport-mode bit -> -EOPNOTSUPP */
  readonly tm_check: boolean;
  /** HALT/CLEAR fctl written to the I/O region. A: no fctl check, every write starts the program. */
  readonly halt_clear_on_io_region: '-EOPNOTSUPP' | 'no-fctl-check';
  /** fsm_io_request's err_out sets IDLE (B, v5.13+); C (v5.2 … v5.12) leaves CP_PROCESSING */
  readonly err_out_sets_idle: boolean;
  /** write handler: state != IDLE -> -EACCES before the copy (B) */
  readonly write_prefilter_eacces: boolean;
  /** write handler: ret_code != 0 -> state = IDLE after IO_REQ (B and v5.2 … v5.12) */
  readonly write_resets_idle_on_error: boolean;
  /** v5.2+: io_mutex; region writers trylock (-EAGAIN), readers lock, io_todo locks around the IRB copy */
  readonly io_mutex: boolean;
  readonly io_todo: IoTodoRule;
  /**
   * The current tree (@ 16b0798024c0): io_todo holds io_mutex from before cp_update_scsw until
   * after the IDLE write, so cp_free there is serialised with fsm_io_request. Before (v5.2 …):
   * io_mutex around the IRB copy only.
   */
  readonly io_todo_holds_io_mutex: boolean;
  /** ioctl copy-back fault: v4.12 returns copy_to_user's raw count (vfio_ccw_mdev_ioctl, vfio_ccw_ops.c) */
  readonly ioctl_copyback_fault: 'raw-count' | '-EFAULT';

  // --- channel program (vfio_ccw_cp.c)
  readonly cp_rules: CpRules;

  // --- quiesce (vfio_ccw_sch_quiesce, vfio_ccw_drv.c)
  readonly quiesce:
    | 'quiescing-state' // morel-2018: OFFLINE/QUIESCING states and fsm_quiescing(_done)
    | 'retry-255-flush-under-lock' // v4.12 … v5.1: iretry = 255 per outer loop, flush_workqueue under sch->lock, NOT_OPER at the end
    | 'retry-once' // v5.2 … v5.19: iretry once, -EIO leaves, flush outside the lock, NOT_OPER at the end
    | 'flush_sch-in-close' // gunthorpe-2021: retry-once's loop inside fsm_close, -EIO returns, no state write
    | 'in-close-lock-held'; // v6.0+: retry-once's loop inside fsm_close with sch->lock held on entry, no state write

  // --- lifecycle (vfio_ccw_sch_probe/remove in vfio_ccw_drv.c; mdev probe/remove in vfio_ccw_ops.c)
  /** open/release per device FD (≤ v5.14); else open_device/close_device (first open/last close) */
  readonly per_fd_open: boolean;
  /** FSM OPEN/CLOSE events at open/close; reset = CLOSE + OPEN */
  readonly open_close_fsm_events: boolean;
  /** v6.1: .release completes release_comp; mdev remove waits for it; private outlives the mdev */
  readonly release_completion: boolean;
  /** v6.2+: vfio_ccw_parent; private per mdev; css callbacks tolerate a NULL private */
  readonly parent_split: boolean;
  /** css probe enables the subchannel (≤ v5.19) */
  readonly probe_enables_subchannel: boolean;
  /** css probe registers the mdev parent after INIT_WORK/avail/STANDBY (v5.0+, M-A2) */
  readonly probe_registers_parent_last: boolean;
  /** mdev create/probe writes state = IDLE (≤ v5.19) */
  readonly mdev_create_sets_idle: boolean;
  /** driver-side `avail` counter (≤ v6.0); later the mdev core counts instances */
  readonly avail_accounting: boolean;
  /** mdev remove/remove callback */
  readonly mdev_remove:
    | 'offline-event' // morel-2018 [inferred]: fire OFFLINE, wait for QUIESCING to end
    | 'reset' // v4.12 … v5.1: not NOT_OPER/STANDBY: reset (quiesce + enable) -> STANDBY
    | 'quiesce+cp_free' // v5.2 … v5.19: not NOT_OPER/STANDBY: quiesce -> STANDBY; cp_free (M-B4)
    | 'unregister'; // gunthorpe-2021, v6.0+: no quiesce, no cp_free (close_device already closed the FSM)
  /**
   * The current tree (@ 16b0798024c0): close_device (after CLOSE) and .release cancel io_work and
   * crw_work with cancel_work_sync (and flush notoper_work) before they drop the regions / free.
   */
  readonly close_cancels_work: boolean;
  /** release/close_device: if not NOT_OPER/STANDBY reset -> STANDBY; cp_free (v5.2 … v5.19, M-B4) */
  readonly release_frees_cp: boolean;
  /** sch_event: NOT_OPER rewritten to IDLE (mdev) or STANDBY (≤ v5.19) */
  readonly sch_event_rewrite: boolean;
  /** sch_event's answer when the device is unregistered or a css todo is pending */
  readonly sch_event_busy_rc: 0 | -11;
  /** fsm_notoper (F: fsm_broken) calls cp_free */
  readonly notoper_frees_cp: boolean;
  /** NOT_OPER (F: BROKEN) is never left except by a fresh probe */
  readonly notoper_absorbing: boolean;
  readonly reset: 'offline+online' | 'quiesce+enable' | 'close+open';
  /** fsm_open when the enable fails: F writes BROKEN under sch->lock (v3 diff); v6.0+ unlocks, then fires NOT_OPER (fsm_open, vfio_ccw_fsm.c) */
  readonly open_failure: 'state-under-lock' | 'event-after-unlock';
  /** mdev create/probe refuses a NOT_OPER device with -ENODEV (every version but gunthorpe-2021; vfio_ccw_mdev_probe, vfio_ccw_ops.c) */
  readonly mdev_probe_checks_notoper: boolean;
  /** ≤ v5.19: IOMMU notifier, exact page-start match, reset then cp_free; v6.0+: .dma_unmap(iova, length), reset */
  readonly dma_unmap: 'notifier-exact' | 'callback-range';
  /**
   * The mdev core's parent->unreg_sem (v5.3+, 5715c4dd66a3 "vfio/mdev: Synchronize device
   * create/remove with parent removal"): remove_store holds it for read through the removal
   * (-ENODEV when the parent's unregistration has begun), the parent's unregistration for write,
   * so it waits for a removal in progress and then finds the mdev gone. Before, both go through
   * mdev_device_remove, and only the one that takes the mdev (active / mdev_list) removes it.
   */
  readonly mdev_unreg_sem: boolean;
  /**
   * The vfio core takes the device off its group before the unregister waits for the FDs
   * (v6.5: "vfio: Move vfio_device_group_unregister() to be the first operation in unregister",
   * Yi Liu, the vfio cdev series), so no FD can be opened meanwhile. Before, after the wait: an
   * open still succeeds while any FD holds a reference.
   */
  readonly vfio_unhooks_before_wait: boolean;
  /** s390dbf records keep a pointer to the mdev UUID (v5.4 … v5.19, VFIO_CCW_HEX_EVENT/VFIO_CCW_MSG_EVENT in vfio_ccw_private.h) */
  readonly uuid_log_by_reference: boolean;
}

/**
 * morel-2018's FSM (its `fsm_dispatch`): dispatch serialised, actions return the next state, and
 * the ONLINE/OFFLINE events and QUIESCING state of its own table. Every other version is direct.
 */
export function fsm_returns_state(f: Pick<VariantFeatures, 'fsm_dispatch'>): boolean {
  return f.fsm_dispatch !== 'direct';
}
