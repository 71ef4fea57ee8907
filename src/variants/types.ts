// The types of a variant: one selectable driver, stated in src/variants/<name>.ts as its
// predecessor plus its changes (derive.ts). Data only; the driver code reads `features`, and
// `code` replaces a driver function where a version (or a user's patch) changes its C.
import type { FsmLabel } from '../driver/fsm_tables.ts';
import type { CpRules } from '../driver/cp.ts';
import type { VfioCcwPrivate } from '../driver/private.ts';

// ---------------------------------------------------------------------------------------------
// Types

export const VARIANT_NAMES = [
  'morel-2018',
  'v4.12',
  'v4.18',
  'v5.0',
  'v5.2',
  'v5.3',
  'v5.13',
  'gunthorpe-2021',
  'v6.0',
  'v6.1',
  'v6.2',
  'v6.3',
  'mainline',
] as const;
export type VariantName = (typeof VARIANT_NAMES)[number];

/** Spec labels (§3, §16.1; §16.1 calls v5.2 "C52"). */
export type SpecLabel = 'A' | 'B1' | 'B2' | 'B3' | 'C' | 'C53' | 'D' | 'F' | 'E0' | 'E1' | 'E2' | 'G';

/** Mainline releases "vX.Y"; `to: null` = still current. */
export interface KernelRange {
  readonly from: string;
  readonly to: string | null;
}

export interface CommitRef {
  /** abbreviated upstream commit id as the spec gives it */
  readonly id: string;
  readonly subject: string;
  readonly note?: string;
}

export interface MailRef {
  /** the spec's label (§0.2), e.g. "M-D4" */
  readonly label: string;
  readonly subject: string;
  readonly note?: string;
}

/**
 * What io_todo does with a solicited interrupt and when it resets IDLE (§4.4, §5.4, §6.4, §7.2,
 * §9.1). Each variant states its rule; neighbouring variants differ in the patch between them.
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

/** cp rules (§12.2, §2.5): the channel-program code's per-version behaviour. */
export type { CpRules };

export interface VariantFeatures {
  // --- FSM dispatch (§1.1 R1, §4.1)
  /** 'direct': handlers write private->state themselves, no dispatch lock. A: actions return the next state, dispatch serialised [inferred]. */
  readonly fsm_dispatch: 'direct' | 'A-serialised-returns-state';

  // --- regions and IRQs (§2.2, §11)
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

  // --- I/O request path (§5.3, §6.3, §7.3, §11.2)
  /** the state fsm_io_request writes at entry */
  readonly request_entry_state: 'BOXED' | 'BUSY' | 'CP_PROCESSING';
  readonly io_helper:
    | 'A-unlocked' // no sch->lock at all; the caller returns BUSY
    | 'B1-unlocked-ssch' // BUSY under sch->lock, then ssch and the actl update outside it
    | 'B2-locked' // BUSY, ORB, ssch, cc mapping in one sch->lock section (BUSY even if ssch fails)
    | 'C-locked'; // one sch->lock section; NULL orb -> -EIO; CP_PENDING only on cc 0
  /** ORB transport-mode bit -> -EOPNOTSUPP */
  readonly tm_check: boolean;
  /** HALT/CLEAR fctl written to the I/O region. A: no fctl check, every write starts the program. */
  readonly halt_clear_on_io_region: '-EOPNOTSUPP' | 'A-no-fctl-check';
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
  /** ioctl copy-back fault: v4.12 returns copy_to_user's raw count (§11.6) */
  readonly ioctl_copyback_fault: 'raw-count' | '-EFAULT';

  // --- channel program (§12.2, §2.5)
  readonly cp_rules: CpRules;

  // --- quiesce (§5.6, §6.5, §8.4, §9.1, §4.4)
  readonly quiesce:
    | 'A-states' // OFFLINE/QUIESCING states and fsm_quiescing(_done)
    | 'B' // iretry = 255 per outer loop, flush_workqueue under sch->lock, NOT_OPER at the end
    | 'C' // iretry once, -EIO leaves, flush outside the lock, NOT_OPER at the end
    | 'F-flush_sch' // C's loop inside fsm_close, -EIO returns, no state write
    | 'E'; // C's loop inside fsm_close with sch->lock held on entry, no state write

  // --- lifecycle (§13)
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
    | 'A-offline' // [inferred] fire OFFLINE, wait for QUIESCING to end
    | 'B-reset' // not NOT_OPER/STANDBY: reset (quiesce + enable) -> STANDBY
    | 'C-quiesce+cp_free' // not NOT_OPER/STANDBY: quiesce -> STANDBY; cp_free (M-B4)
    | 'unregister'; // F, E: no quiesce, no cp_free (close_device already closed the FSM)
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
  readonly reset: 'A-offline+online' | 'quiesce+enable' | 'close+open';
  /** fsm_open when the enable fails: F writes BROKEN under sch->lock (§8.4); E unlocks, then fires NOT_OPER (§9.1) */
  readonly open_failure: 'state-under-lock' | 'event-after-unlock';
  /** mdev create/probe refuses a NOT_OPER device with -ENODEV (every version but F, §8.6, §13.2) */
  readonly mdev_probe_checks_notoper: boolean;
  /** ≤ v5.19: IOMMU notifier, exact page-start match, reset then cp_free; v6.0+: .dma_unmap(iova, length), reset */
  readonly dma_unmap: 'notifier-exact' | 'callback-range';
  /** s390dbf records keep a pointer to the mdev UUID (v5.4 … v5.19, §13.4) */
  readonly uuid_log_by_reference: boolean;
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

export interface Variant {
  /** a built-in name, or for a user's file its absolute path */
  readonly name: string;
  readonly label: SpecLabel;
  /** mainline releases it covers; null for an unmerged proposal or a user's patch */
  readonly kernel: KernelRange | null;
  readonly merged: boolean;
  /** the release whose code `features` describe (for a range: our choice, see `inferred`; for a proposal: its base) */
  readonly models: string;
  readonly description: string;
  /** the variant `changes` is relative to (null for the first mainline driver) */
  readonly based_on: string | null;
  /** the same as `based_on`: the variant this one derives from (a check's default base) */
  readonly base: string | null;
  readonly changes: readonly string[];
  readonly commits: readonly CommitRef[];
  readonly mails: readonly MailRef[];
  /** §0.1 whole-file sources the spec section rests on */
  readonly sources: readonly string[];
  /** facts the spec marks [inferred]/[not verified], and how we read them; choices we made */
  readonly inferred: readonly string[];
  readonly fsm: FsmLabel;
  readonly features: VariantFeatures;
  /** driver functions this variant replaces (inherited by the variants derived from it) */
  readonly code: Readonly<Partial<DriverCode>>;
  /** a user's variant file: its absolute path and the sha256 of its content */
  readonly path?: string;
  readonly hash?: string;
}
