// The variant registry: every kernel version of spec/driver.md as data (no kernel file; DESIGN.md §5).
//
// A variant is one selectable driver: its spec label, kernel range, the commits and mails the spec
// rests on, the FSM model (a key into FSM_TABLES) and `features`, the per-version behaviour the
// driver code switches on. Two variants are compared by reading their entries below.
import type { FsmLabel } from '../driver/fsm_tables.ts';

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

/** io_todo rule (§4.4, §5.4, §6.4, §7.2, §9.1). */
export type IoTodoRule =
  /** A: fsm_irq runs in the work item: if solicited, cp_update_scsw + cp_free (no is_final); IRB to region; signal; IDLE */
  | 'A'
  /** v4.12 … v5.0-rc: if solicited, cp_update_scsw + cp_free; IRB to region (no lock); signal; IDLE if mdev */
  | 'B-unconditional'
  /** "only free cp on final interrupt": cp_free and IDLE (if mdev) both gated by is_final; signal before IDLE */
  | 'B3-final'
  /** v5.2: cp_free if solicited && is_final; IRB under io_mutex; signal; IDLE if mdev && is_final */
  | 'C52'
  /** v5.3 … v5.12: cp_free if solicited && is_final && CP_PENDING; IRB under io_mutex; IDLE if mdev && is_final; then signal */
  | 'C53'
  /** v5.13 … v5.19 (and F): IDLE if mdev && cp_is_finished (this run freed the cp); then signal */
  | 'D'
  /** v6.0+: as D without the mdev check */
  | 'E';

/** cp rules (§12.2, §2.5). */
export type CpRules =
  /** no `initialized` flag; cp_init re-initialises the list (old chains leak); pa_nr kept on alloc failure */
  | 'B'
  /** + `initialized` flag (set on success, checked by the accessors) */
  | 'C52'
  /** + cp_init error path frees only the failing chain, no cp_free (M-C6); pa_nr = 0 on alloc failure (M-C7) */
  | 'C53'
  /** + cp_init returns -EBUSY when already initialised (M-D2) */
  | 'D'
  /** + cp_iova_pinned takes a range (v6.0, M-E7) */
  | 'G';

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
  /** ioctl copy-back fault: v4.12 returns copy_to_user's raw count (§11.6) */
  readonly ioctl_copyback_fault: 'raw-count' | '-EFAULT';

  // --- channel program (§12.2, §2.5)
  readonly cp_rules: CpRules;
  /** ORB without pfch: cp_init rejects it (-EOPNOTSUPP) or logs a warning */
  readonly cp_pfch: 'reject' | 'warn';
  /** cp_iova_pinned(iova) matches a page starting at iova; v6.0+: any page in [iova, iova+len) */
  readonly cp_iova_pinned: 'page-start' | 'range';
  /** cp_update_scsw also accepts cpa = just past the chain (head … tail + 1) */
  readonly cp_update_scsw_past_end: boolean;

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
  /** v5.14+: mdev driver probe/remove and a vfio device that remove unregisters first (waits for every FD to close) */
  readonly mdev_driver: boolean;
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

export interface Variant {
  readonly name: VariantName;
  readonly label: SpecLabel;
  /** mainline releases it covers; null for an unmerged proposal */
  readonly kernel: KernelRange | null;
  readonly merged: boolean;
  /** the release whose code `features` describe (for a range: our choice, see `inferred`; for a proposal: its base) */
  readonly models: string;
  readonly description: string;
  /** the variant `changes` is relative to (null for the first mainline driver) */
  readonly based_on: VariantName | null;
  readonly changes: readonly string[];
  readonly commits: readonly CommitRef[];
  readonly mails: readonly MailRef[];
  /** §0.1 whole-file sources the spec section rests on */
  readonly sources: readonly string[];
  /** facts the spec marks [inferred]/[not verified], and how we read them; choices we made */
  readonly inferred: readonly string[];
  readonly fsm: FsmLabel;
  readonly features: VariantFeatures;
}

// ---------------------------------------------------------------------------------------------
// References named by the spec (§0.2, §3). Shared by the entries below.

const C = {
  ssch_rework: { id: '486f7810252c', subject: 'vfio-ccw: rework ssch state handling', note: 'id from the public copy of M-C1' },
  protect_io: { id: '4f76617378ee', subject: 'vfio-ccw: protect the I/O region' },
  safe_cp: { id: '71189f263f8a', subject: 'vfio-ccw: make it safe to access channel programs' },
  flush_wq: { id: 'cea5dde42a83', subject: 'vfio-ccw: Do not call flush_workqueue while holding the spinlock' },
  quiesce_loop: { id: 'd1ffa760d22a', subject: 'vfio-ccw: Prevent quiesce function going into an infinite loop' },
  release_cp: { id: 'b49bdc8602b7', subject: 'vfio-ccw: Release any channel program when releasing/removing vfio-ccw mdev' },
  squash_free: {
    id: '812271b910',
    subject: 's390/cio: Squash cp_free() and cp_unpin_free()',
    note: 'v5.3 development: cp_init error path called a cp_free that returns early (§12.2)',
  },
  logging: { id: '60e05d1cf087', subject: 'vfio-ccw: add some logging', note: 'v5.4: s390dbf records point at the mdev UUID' },
  serialize: { id: '2af7a834a435', subject: 'vfio-ccw: Serialize FSM IDLE state with I/O completion', note: 'v5.13, also stable' },
  emulated_iommu: { id: '3bf1311f351e', subject: 'vfio_register_emulated_iommu_dev', note: '≈v5.16' },
} as const satisfies Record<string, CommitRef>;

const M = {
  A0: { label: 'M-A0', subject: '[PATCH 00/10] vfio: ccw: Refactoring the VFIO CCW state machine' },
  A1: { label: 'M-A1', subject: 'vfio: ccw: VFIO CCW cleanup part1; [PULL 1/2] vfio: ccw: Merge BUSY and BOXED states' },
  A2: { label: 'M-A2', subject: '[PATCH v3 0/6] vfio: ccw: VFIO CCW cleanup part1 (Register mediated device once all structures are initialized)' },
  C0: { label: 'M-C0', subject: '[PATCH v4 0/6] vfio-ccw: support hsch/csch (kernel part)' },
  C1: { label: 'M-C1', subject: 'vfio-ccw: rework ssch state handling' },
  C2: { label: 'M-C2', subject: 'vfio-ccw: protect the I/O region' },
  C3: { label: 'M-C3', subject: '[PATCH v2/v3/v4 1/6] vfio-ccw: make it safe to access channel programs' },
  B1: { label: 'M-B1', subject: '[PULL 1/1] vfio: ccw: only free cp on final interrupt' },
  B2: { label: 'M-B2', subject: '[PATCH 4.14 077/193] vfio-ccw: Do not call flush_workqueue while holding the spinlock' },
  B3: { label: 'M-B3', subject: '[PATCH 5.0 343/346] vfio-ccw: Prevent quiesce function going into an infinite loop' },
  B4: { label: 'M-B4', subject: '[PATCH 5.0 123/346] vfio-ccw: Release any channel program when releasing/removing vfio-ccw mdev' },
  C4: { label: 'M-C4', subject: '[PULL 2/7] s390/cio: Set vfio-ccw FSM state before ioeventfd' },
  C5: { label: 'M-C5', subject: "[PULL v2 4/6] vfio-ccw: Don't call cp_free if we are processing a channel program" },
  C6: { label: 'M-C6', subject: "[PULL 2/5] vfio-ccw: Fix memory leak and don't call cp_free in cp_init" },
  C7: { label: 'M-C7', subject: '[PULL 3/5] vfio-ccw: Set pa_nr to 0 if memory allocation fails for pa_iova_pfn' },
  D0: { label: 'M-D0', subject: '[RFC PATCH v4 0/4] vfio-ccw: Fix interrupt handling for HALT/CLEAR' },
  D1: { label: 'M-D1', subject: '[PATCH v6 0/3] vfio-ccw: Fix interrupt handling for HALT/CLEAR' },
  D2: { label: 'M-D2', subject: '[PATCH v6 1/3] vfio-ccw: Check initialized flag in cp_init()' },
  D3: { label: 'M-D3', subject: 'Re: [PATCH v6 2/3] vfio-ccw: Reset FSM state to IDLE inside FSM' },
  D4: { label: 'M-D4', subject: '[PATCH v6 3/3] vfio-ccw: Serialize FSM IDLE state with I/O completion' },
  D5: { label: 'M-D5', subject: '[PULL 0/3] vfio-ccw: some fixes (tag vfio-ccw-20210520)' },
  D6: { label: 'M-D6', subject: "Halil Pasic's replies to [PATCH v6 0/3]" },
  F1: { label: 'M-F1', subject: '[PATCH v3 05/10] vfio/ccw: Make the FSM complete and synchronize it to the mdev' },
  F2: { label: 'M-F2', subject: '[PATCH v3 12/14] vfio/ap,ccw: Fix open/close when multiple device FDs are open' },
  F3: { label: 'M-F3', subject: '[PATCH v2 07/13] vfio/ccw: Convert to use vfio_register_group_dev()' },
  E0: { label: 'M-E0', subject: '[PATCH v3 00/11] s390/vfio-ccw rework' },
  E1: { label: 'M-E1', subject: '[PATCH v3 01/11] vfio/ccw: Remove UUID from s390 debug log' },
  E2: { label: 'M-E2', subject: '[PATCH v4 02/11] vfio/ccw: Fix FSM state if mdev probe fails' },
  E3: { label: 'M-E3', subject: '[PATCH v4 03/11] vfio/ccw: Do not change FSM state in subchannel event' },
  E4: { label: 'M-E4', subject: '[PATCH v3 08/11] vfio/ccw: Create an OPEN FSM Event' },
  E5: { label: 'M-E5', subject: '[PATCH v4 09/11] vfio/ccw: Create a CLOSE FSM event' },
  E6: { label: 'M-E6', subject: '[PATCH v4 11/11] vfio/ccw: Move FSM open/close to MDEV open/close' },
  E7: { label: 'M-E7', subject: '[PATCH v3 0/3] vfio-ccw fixes for 5.20 (DMA_UNMAP length, no FSM Close in remove, quiesce return code)' },
  E8: { label: 'M-E8', subject: '[PATCH v2 13/15] vfio/ccw: Use the new device life cycle helpers' },
  E9: { label: 'M-E9', subject: 'vfio-ccw parent rework (create a parent struct … replace vfio_init_device with _alloc_)' },
  misc: { label: 'M-misc', subject: 'vfio-ccw: add some logging' },
} as const satisfies Record<string, MailRef>;

// ---------------------------------------------------------------------------------------------
// Features: each entry spells out every field, so a variant reads as one block.

const F_V4_12: VariantFeatures = {
  fsm_dispatch: 'direct',
  regions: 'io',
  offset_shift: false,
  irqs: 1,
  chp_event: false,
  request_entry_state: 'BOXED',
  io_helper: 'B1-unlocked-ssch',
  tm_check: false,
  halt_clear_on_io_region: '-EOPNOTSUPP',
  err_out_sets_idle: true,
  write_prefilter_eacces: true,
  write_resets_idle_on_error: true,
  io_mutex: false,
  io_todo: 'B-unconditional',
  ioctl_copyback_fault: 'raw-count',
  cp_rules: 'B',
  cp_pfch: 'reject',
  cp_iova_pinned: 'page-start',
  cp_update_scsw_past_end: false,
  quiesce: 'B',
  per_fd_open: true,
  mdev_driver: false,
  open_close_fsm_events: false,
  release_completion: false,
  parent_split: false,
  probe_enables_subchannel: true,
  probe_registers_parent_last: false,
  mdev_create_sets_idle: true,
  avail_accounting: true,
  mdev_remove: 'B-reset',
  release_frees_cp: false,
  sch_event_rewrite: true,
  sch_event_busy_rc: 0,
  notoper_frees_cp: false,
  notoper_absorbing: false,
  reset: 'quiesce+enable',
  open_failure: 'event-after-unlock',
  mdev_probe_checks_notoper: true,
  dma_unmap: 'notifier-exact',
  uuid_log_by_reference: false,
};

const F_MOREL_2018: VariantFeatures = {
  ...F_V4_12,
  fsm_dispatch: 'A-serialised-returns-state',
  request_entry_state: 'BOXED',
  io_helper: 'A-unlocked',
  tm_check: false,
  halt_clear_on_io_region: 'A-no-fctl-check',
  err_out_sets_idle: true,
  io_todo: 'A',
  quiesce: 'A-states',
  mdev_remove: 'A-offline',
  reset: 'A-offline+online',
  sch_event_rewrite: false,
};

const F_V4_18: VariantFeatures = {
  ...F_V4_12,
  io_helper: 'B2-locked',
  tm_check: true,
};

const F_V5_0: VariantFeatures = {
  ...F_V4_18,
  request_entry_state: 'BUSY',
  io_todo: 'B3-final',
  probe_registers_parent_last: true,
};

const F_V5_2: VariantFeatures = {
  fsm_dispatch: 'direct',
  regions: 'io+async',
  offset_shift: true,
  irqs: 1,
  chp_event: false,
  request_entry_state: 'CP_PROCESSING',
  io_helper: 'C-locked',
  tm_check: true,
  halt_clear_on_io_region: '-EOPNOTSUPP',
  err_out_sets_idle: false,
  write_prefilter_eacces: false,
  write_resets_idle_on_error: true,
  io_mutex: true,
  io_todo: 'C52',
  ioctl_copyback_fault: '-EFAULT',
  cp_rules: 'C52',
  cp_pfch: 'reject',
  cp_iova_pinned: 'page-start',
  cp_update_scsw_past_end: true,
  quiesce: 'C',
  per_fd_open: true,
  mdev_driver: false,
  open_close_fsm_events: false,
  release_completion: false,
  parent_split: false,
  probe_enables_subchannel: true,
  probe_registers_parent_last: true,
  mdev_create_sets_idle: true,
  avail_accounting: true,
  mdev_remove: 'C-quiesce+cp_free',
  release_frees_cp: true,
  sch_event_rewrite: true,
  sch_event_busy_rc: -11,
  notoper_frees_cp: false,
  notoper_absorbing: false,
  reset: 'quiesce+enable',
  open_failure: 'event-after-unlock',
  mdev_probe_checks_notoper: true,
  dma_unmap: 'notifier-exact',
  uuid_log_by_reference: false,
};

const F_V5_3: VariantFeatures = {
  ...F_V5_2,
  regions: 'io+async+schib+crw',
  irqs: 3,
  chp_event: true,
  io_todo: 'C53',
  cp_rules: 'C53',
  cp_pfch: 'warn',
  uuid_log_by_reference: true,
};

const F_V5_13: VariantFeatures = {
  ...F_V5_3,
  err_out_sets_idle: true,
  write_resets_idle_on_error: false,
  io_todo: 'D',
  cp_rules: 'D',
  per_fd_open: false,
  mdev_driver: true,
};

/** The FSM that owns open and close (Gunthorpe's proposal, and the v6.0 rework that followed it). */
const OPEN_CLOSE_FSM = {
  open_close_fsm_events: true,
  probe_enables_subchannel: false,
  mdev_create_sets_idle: false,
  mdev_remove: 'unregister',
  release_frees_cp: false,
  sch_event_rewrite: false,
  notoper_frees_cp: true,
  notoper_absorbing: true,
  reset: 'close+open',
} as const satisfies Partial<VariantFeatures>;

const F_GUNTHORPE_2021: VariantFeatures = {
  ...F_V5_13,
  ...OPEN_CLOSE_FSM,
  quiesce: 'F-flush_sch',
  open_failure: 'state-under-lock',
  mdev_probe_checks_notoper: false,
};

const F_V6_0: VariantFeatures = {
  ...F_V5_13,
  io_todo: 'E',
  cp_rules: 'G',
  cp_iova_pinned: 'range',
  quiesce: 'E',
  ...OPEN_CLOSE_FSM,
  dma_unmap: 'callback-range',
  uuid_log_by_reference: false,
};

const F_V6_1: VariantFeatures = { ...F_V6_0, release_completion: true, avail_accounting: false };

const F_V6_2: VariantFeatures = { ...F_V6_1, release_completion: false, parent_split: true };

// ---------------------------------------------------------------------------------------------
// The registry, in the order of DESIGN.md's variant table.

export const VARIANTS: readonly Variant[] = [
  {
    name: 'morel-2018',
    label: 'A',
    kernel: null,
    merged: false,
    models: 'v4.17',
    description: "Pierre Morel's 2018 FSM refactoring: actions return the next state, IRQ work moved to the work item, ONLINE/OFFLINE/QUIESCING",
    based_on: 'v4.12',
    changes: [
      'states NOT_OPER, STANDBY, IDLE, BUSY, QUIESCING (+ BOXED in the snapshot); events INIT, NOT_OPER, SSCH_REQ, INTERRUPT, SCHIB_CHANGED, ONLINE, OFFLINE',
      'each action returns the next state; the dispatcher assigns it and is serialised [inferred]',
      'the INTERRUPT event (fsm_irq) runs in the io_todo work item; cp_free on every solicited interrupt',
      'fsm_io_request: no fctl check, no tm check; fsm_io_helper takes no lock',
      'reset/remove through OFFLINE and QUIESCING instead of the quiesce loop [inferred]',
      'fsm_quiescing returns the raw cio_cancel_halt_clear result as the next state',
    ],
    commits: [],
    mails: [
      M.A0,
      { ...M.A1, note: 'the BUSY/BOXED merge reached mainline for v5.0' },
      { ...M.A2, note: 'the probe-ordering patch reached mainline for v5.0' },
    ],
    sources: ['A-fsm'],
    inferred: [
      'Only the cover letter (an excerpt) and one mid-series vfio_ccw_fsm.c exist (§17). Enum values follow the cover-letter order [inferred]; BOXED, still in the snapshot and removed by patch 9, is given value 5 by us.',
      'Base release: the series is dated 19 Apr 2018, so we take the v4.17 development tree as its base [inferred from the date]; everything outside fsm.c (ops, drv, cp) is the mainline of then (B1).',
      'fsm_dispatch: "Make FSM functions atomic" is read as a mutex around dispatch [inferred].',
      'io_todo: fsm_irq in the work item is inferred from patch 1 ("Moving state change out of IRQ context").',
      'reset and mdev remove: OFFLINE then wait on private->completion while QUIESCING (plausible reconstruction, §4.4); reset then fires ONLINE.',
      '"Let user wait when busy on IO" (patch 10) is not modelled: its mechanism was not available; the snapshot answers -EBUSY (fsm_io_busy).',
      'sch_event goes through the SCHIB_CHANGED event instead of the B rewrite [inferred from the table]; sch_event_rewrite = false.',
      'write handler: the B pre-filter (-EACCES) and the IDLE reset on error are kept, since ops.c was not part of the snapshot [inferred].',
      'IRQ path: the css irq callback only copies the IRB into the slot and queues io_work; io_todo fires INTERRUPT; the IRQ does not complete private->completion, fsm_quiescing_done does [inferred from patch 1 and §4.4].',
      'probe: NOT_OPER (kzalloc), INIT (fsm_init: ISC, STANDBY) fired before sch->lock is taken since the dispatcher sleeps, then the B enable; mdev create fires ONLINE instead of writing IDLE, so an mdev created again after OFFLINE disabled the subchannel gets it enabled [inferred].',
      'reset answers 0 if ONLINE reached IDLE, else -EIO (no answer in the material); the QUIESCING wait has no timeout ("block ... until", §4.4); css shutdown goes offline the same way [inferred].',
      'fsm_disabled_irq runs from the work item with no sch->lock: the snapshot names no lock for it; cio.c asserts none, so the unlocked disable shows only as the unlocked schib write (I18, race detector).',
      'fsm_quiescing returns the raw cio_cancel_halt_clear result, as the snapshot does (its BOXED row is kept too): 0 reads as NOT_OPER, -ENODEV/-EIO leave a state outside the table and the next event BUGs.',
    ],
    fsm: 'A',
    features: F_MOREL_2018,
  },
  {
    name: 'v4.12',
    label: 'B1',
    kernel: { from: 'v4.12', to: 'v4.17' },
    merged: true,
    models: 'v4.12',
    description: 'the initial driver: NOT_OPER/STANDBY/IDLE/BOXED/BUSY, ssch outside sch->lock, unconditional cp_free in io_todo',
    based_on: null,
    changes: [
      'initial driver: states NOT_OPER, STANDBY, IDLE, BOXED, BUSY; events NOT_OPER, IO_REQ, INTERRUPT',
      'I/O region only (index 0, offset = position); IO IRQ only',
      'write pre-filter: state != IDLE -> -EACCES; IDLE reset on any non-zero ret_code',
      'fsm_io_helper sets BUSY under sch->lock, then issues ssch outside it',
      'io_todo: cp_free on every solicited interrupt, signal, then IDLE',
      'quiesce with flush_workqueue under sch->lock; probe registers the mdev parent before INIT_WORK',
    ],
    commits: [
      { ...C.flush_wq, note: 'later fix (v5.2, stable 4.14); its diff shows the original quiesce' },
      { ...C.release_cp, note: 'later fix (v5.2, stable); its diff shows the original release' },
    ],
    mails: [M.B1, M.B2, M.B4],
    sources: ['B-fsm-412', 'B-priv', 'B-ops-412', 'B-drv-412', 'B-cp'],
    inferred: [
      'Range end ≈v4.17: "process ssch with interrupts disabled" is dated 2018 and its commit message was not read (§17).',
      'sch_event returns 0 when unregistered or a todo is pending (read in v4.12).',
      'vfio_ccw_mdev_reset enables the subchannel without sch->lock (through v5.19): §1.2 does not list the reset among the lock\'s takers; cio.c asserts no lock, so I18 and the race detector report the unlocked schib write (no lockdep warning).',
      'cp_update_scsw: §12.2 says it rewrites cpa only when it points inside a chain; the C (v4.12 … v6.3) stores scsw->cmd.cpa after the walk in every case, so io_todo writes the IRB slot whenever the cp is walked. The C is followed.',
    ],
    fsm: 'B1',
    features: F_V4_12,
  },
  {
    name: 'v4.18',
    label: 'B2',
    kernel: { from: 'v4.18', to: 'v4.20' },
    merged: true,
    models: 'v4.20',
    description: 'B1 with the whole ssch path inside one sch->lock section and the transport-mode ORB check',
    based_on: 'v4.12',
    changes: [
      '"process ssch with interrupts disabled": set BUSY, build the ORB, ssch and the actl update in one sch->lock section',
      'ORB tm bit -> -EOPNOTSUPP; trace at err_out',
      'I/O region allocated from a kmem cache (no behavioural change)',
    ],
    commits: [],
    mails: [M.B1, M.B2, M.B4],
    sources: ['B-helper-18', 'B-priv', 'B-ops-412', 'C0-fsm'],
    inferred: [
      'Release numbers ≈v4.18 (locked ssch) and ≤v4.20 (tm check) are approximate (§17); both are modelled for the whole range.',
      'sch_event busy answer: v4.12 returns 0, "later code" -EAGAIN (§5.5); the change is not dated, we keep 0 through all of B.',
    ],
    fsm: 'B2',
    features: F_V4_18,
  },
  {
    name: 'v5.0',
    label: 'B3',
    kernel: { from: 'v5.0', to: 'v5.1' },
    merged: true,
    models: 'v5.1',
    description: 'BOXED merged into BUSY, cp freed only on the final interrupt, mdev parent registered last',
    based_on: 'v4.18',
    changes: [
      '"Merge BUSY and BOXED states": BOXED removed, fsm_io_request writes BUSY at entry',
      '"only free cp on final interrupt": is_final gates cp_free and the IDLE reset in io_todo',
      '"Register mediated device once all structures are initialized": probe registers the mdev parent last',
    ],
    commits: [],
    mails: [M.A1, M.A2, M.B1, { ...M.B3, note: 'stable 5.0 backport; its diff shows this quiesce' }, { ...M.B4, note: 'stable 5.0 backport; its diff shows this release' }],
    sources: ['B-fsm-412', 'B-helper-18', 'B-ops-412', 'B-cp'],
    inferred: [
      '"only free cp on final interrupt" landed in v5.0 or v5.1 (§17); we model it for the whole range (§5.1 puts it in B3).',
      'sch_event busy answer kept at 0 as in v4.12; "later code" returns -EAGAIN (§5.5), which we start at v5.2.',
    ],
    fsm: 'B3',
    features: F_V5_0,
  },
  {
    name: 'v5.2',
    label: 'C',
    kernel: { from: 'v5.2', to: 'v5.2' },
    merged: true,
    models: 'v5.2',
    description: '"support hsch/csch": CP_PROCESSING/CP_PENDING, io_mutex, async region, cp->initialized',
    based_on: 'v5.0',
    changes: [
      'states CP_PROCESSING/CP_PENDING replace BUSY; event ASYNC_REQ; -EAGAIN in CP_PROCESSING',
      'cp->initialized flag; cp accessors safe on an uninitialised cp',
      'io_mutex (trylock -> -EAGAIN for writers); the -EACCES pre-filter is gone',
      'capability chain (offset shift 10) and the async command region (hsch/csch)',
      'fsm_io_request err_out no longer sets IDLE (the write handler still does)',
      'quiesce: flush_workqueue outside sch->lock, loop restructured; release and mdev remove call quiesce and cp_free',
    ],
    commits: [C.safe_cp, C.ssch_rework, C.protect_io, C.flush_wq, C.quiesce_loop, C.release_cp],
    mails: [M.C0, M.C1, M.C2, M.C3, M.B2, M.B3, M.B4],
    sources: ['G-async', 'C3-drv', 'C4-fsm', 'C11-ops'],
    inferred: [
      'No v5.2 whole-file snapshot exists; v5.2 is reconstructed from v5.3 drv.c, v5.4–v5.12 fsm.c, v5.11 ops.c and the diffs (§17).',
      'cp_update_scsw\'s "tail + 1" bound is known only from G-cp; we assume it from v5.2 on.',
      'sch_event answers -EAGAIN when busy ("later code", §5.5); the change is not dated, we start it here.',
    ],
    fsm: 'C',
    features: F_V5_2,
  },
  {
    name: 'v5.3',
    label: 'C53',
    kernel: { from: 'v5.3', to: 'v5.12' },
    merged: true,
    models: 'v5.12',
    description: 'the v5.3 … v5.12 line: state before eventfd, cp_free only in CP_PENDING, schib/CRW regions, REQ IRQ',
    based_on: 'v5.2',
    changes: [
      'io_todo: cp_free only if is_final && CP_PENDING; IDLE before the eventfd signal',
      'cp_init error path frees only the failing chain; pa_nr = 0 on page-array allocation failure; guest_cp in private',
      'v5.4: s390dbf records keep a pointer to the mdev UUID',
      'pfch relaxed to a warning (≈v5.7)',
      'v5.8: schib and CRW regions, CRW IRQ, chp_event; v5.11: REQ IRQ and the request callback',
    ],
    commits: [C.squash_free, C.logging],
    mails: [M.C4, M.C5, M.C6, M.C7, M.misc],
    sources: ['C3-drv', 'C4-fsm', 'C11-ops'],
    inferred: [
      'The variant models the v5.11–v5.12 state of the line: async + schib + CRW regions and 3 IRQs (the CRW region came in v5.8, REQ in v5.11); the scenarios need the async region and C11-ops is the ops source.',
      'uuid_log_by_reference = true: the logging came in v5.4 and C4-fsm (v5.4–v5.12) has it; v5.3 itself did not.',
      'pfch relaxation ≈v5.7 is [not verified] (§2.5); at v5.12 it is a warning (applied over the C53 cp rules, which stand for v5.3 … v5.6 on that point).',
    ],
    fsm: 'C',
    features: F_V5_3,
  },
  {
    name: 'v5.13',
    label: 'D',
    kernel: { from: 'v5.13', to: 'v5.19' },
    merged: true,
    models: 'v5.19',
    description: '"Serialize FSM IDLE state with I/O completion": IDLE only when io_todo freed the cp; err_out sets IDLE',
    based_on: 'v5.3',
    changes: [
      'cp_init returns -EBUSY when the cp is already initialised',
      'fsm_io_request err_out sets IDLE; the write handler no longer resets IDLE',
      'io_todo sets IDLE only if it freed the cp in this run (cp_is_finished)',
      'v5.14: mdev driver probe/remove with a vfio group device; v5.15: open_device/close_device (first open, last close)',
      '≈v5.16: vfio_register_emulated_iommu_dev',
    ],
    commits: [C.serialize, C.emulated_iommu],
    mails: [M.D0, M.D1, M.D2, M.D3, M.D4, M.D5, M.D6, M.F3, M.F2],
    sources: ['C3-drv', 'C4-fsm', 'C11-ops'],
    inferred: [
      'Lifecycle modelled at v5.15–v5.19: open_device/close_device (per_fd_open = false) and the mdev driver. v5.13 and v5.14 still opened per FD like the v5.3 variant; that gap is left to the v5.3 variant.',
      '≈v5.16 (emulated-IOMMU registration) is approximate; its error path (state = IDLE, mdev = NULL) is part of mdev_create_sets_idle.',
    ],
    fsm: 'C',
    features: F_V5_13,
  },
  {
    name: 'gunthorpe-2021',
    label: 'F',
    kernel: null,
    merged: false,
    models: 'v5.15',
    description: "Jason Gunthorpe's 2021 proposal: BROKEN/CLOSED states, OPEN/CLOSE events, FSM synchronised to the mdev",
    based_on: 'v5.13',
    changes: [
      'NOT_OPER renamed BROKEN (absorbing), STANDBY renamed CLOSED; events OPEN and CLOSE',
      'fsm_broken and fsm_close call cp_free; INTERRUPT in CLOSED disables again',
      'quiesce becomes flush_sch inside fsm_close; no quiesce in css remove or mdev remove',
      'css probe does not enable; shutdown = CLOSE + BROKEN; reset = CLOSE + OPEN',
      'no NOT_OPER rewrite in sch_event; mdev probe writes no state',
    ],
    commits: [],
    mails: [M.F1, { ...M.F2, note: 'merged for v5.15; part of the base' }, { ...M.F3, note: 'merged for v5.14; part of the base' }],
    sources: [],
    inferred: [
      'Known only through the v3 diff of 1 Oct 2021 against v5.15-era code (§8, §17); io_todo is D\'s (with the mdev check).',
      'notoper_absorbing = true: BROKEN is left only by re-probing the driver (§8.1), and no path rewrites it.',
      'dma_unmap stays the v5.15 IOMMU notifier (exact page-start match); its reset is CLOSE + OPEN.',
    ],
    fsm: 'F',
    features: F_GUNTHORPE_2021,
  },
  {
    name: 'v6.0',
    label: 'E0',
    kernel: { from: 'v6.0', to: 'v6.0' },
    merged: true,
    models: 'v6.0',
    description: "Eric Farman's rework: OPEN/CLOSE events, NOT_OPER dead end, reset = CLOSE + OPEN, .dma_unmap with a range",
    based_on: 'v5.13',
    changes: [
      'events OPEN and CLOSE at open_device/close_device; NOT_OPER absorbing; fsm_notoper and fsm_close call cp_free',
      'css probe does not enable; mdev probe writes no state; sch_event does not rewrite NOT_OPER',
      'io_todo without the mdev check; quiesce only inside fsm_close, no state write',
      'reset = CLOSE + OPEN; .dma_unmap(iova, length) with a range check',
      'UUID removed from the debug log',
    ],
    commits: [],
    mails: [M.E0, M.E1, M.E2, M.E3, M.E4, M.E5, M.E6, M.E7],
    sources: [],
    inferred: ['The series\' intermediate states (§9.1, M-E4 … M-E6 and M-E5 … M-E7) are not modelled; the release has the final table and the quiesce return-code fix.'],
    fsm: 'E',
    features: F_V6_0,
  },
  {
    name: 'v6.1',
    label: 'E1',
    kernel: { from: 'v6.1', to: 'v6.1' },
    merged: true,
    models: 'v6.1',
    description: 'vfio device life-cycle helpers: .init/.release and the release completion that mdev remove waits for',
    based_on: 'v6.0',
    changes: [
      '.init initialises release_comp; .release memsets the vdev and completes release_comp',
      'mdev remove: unregister, put, wait for release_comp; private outlives the mdev',
      'available instances counted by the mdev core (max_instances = 1)',
    ],
    commits: [],
    mails: [M.E8],
    sources: [],
    inferred: [
      'The move of available_instances into the mdev core is v6.1 or v6.2 [not verified] (§9.2, §17); we model it from v6.1.',
      'The vfio_device references are one counter: mdev probe holds one, any other holder gets and puts; open FDs are waited for by the core\'s unregister before remove runs, not counted.',
    ],
    fsm: 'E',
    features: F_V6_1,
  },
  {
    name: 'v6.2',
    label: 'E2',
    kernel: { from: 'v6.2', to: 'v6.2' },
    merged: true,
    models: 'v6.2',
    description: 'parent rework: struct vfio_ccw_parent, private per mdev, no release completion, NULL-private guards',
    based_on: 'v6.1',
    changes: [
      'struct vfio_ccw_parent at css probe; private allocated per mdev by vfio_alloc_device',
      'release completion removed; .release frees the buffers',
      'css callbacks tolerate a NULL private (irq disables, sch_event/chp_event/shutdown/quiesce skip)',
      'NOT_OPER is per mdev: re-creating the mdev gives a fresh STANDBY',
    ],
    commits: [],
    mails: [M.E9],
    sources: ['E2-fsm', 'E2-drv', 'E2-ops', 'E2-priv (torvalds/linux @ 008a011d6803)'],
    inferred: [],
    fsm: 'E',
    features: F_V6_2,
  },
  {
    name: 'mainline',
    label: 'G',
    kernel: { from: 'v6.3', to: null },
    merged: true,
    models: 'v6.3',
    description: 'current mainline: v6.2 behaviour (the reference model)',
    based_on: 'v6.2',
    changes: ['no FSM change: eventfd_signal loses its count, sch->lock embedded, cp_get_orb(cp, sch), dma32 helpers'],
    commits: [],
    mails: [],
    sources: ['G-fsm', 'G-drv', 'G-ops', 'G-priv', 'G-cp', 'G-chp', 'G-async', 'G-uapi', 'G-doc'],
    inferred: [
      'Read from a 2025 mirror whose comments were altered; the code was cross-checked (§0.1, §17).',
      'Changes seen only in a machine transliteration of a newer tree (io_mutex across cp_free in io_todo, crw_lock, notoper_work) are not modelled (§17).',
      'cp_update_scsw: §10.4 says "otherwise leave it" (cpa outside every chain); the C stores scsw->cmd.cpa back whenever the cp is initialised, a plain write to the IRB slot. The C is followed.',
    ],
    fsm: 'E',
    features: F_V6_2,
  },
];

// ---------------------------------------------------------------------------------------------
// Lookup

export interface KernelRelease {
  readonly major: number;
  readonly minor: number;
}

/** Last minor release of each finished major series (4.20, 5.19); later majors are open. */
const LAST_MINOR: Readonly<Record<number, number>> = { 4: 20, 5: 19 };
const FIRST_RELEASE: KernelRelease = { major: 4, minor: 12 };

/**
 * "v5.15", "5.15", "v5.15.3", "v5.13-rc2" → {major, minor}. A stable point release or an -rc
 * belongs to its major.minor (an -rc has that release's merge window in it). Null if unparsable.
 */
export function parse_release(s: string): KernelRelease | null {
  const m = /^[vV]?(\d{1,2})\.(\d{1,2})(?:\.\d{1,4})?(?:-rc\d{1,2})?$/.exec(s.trim());
  if (m === null) return null;
  return { major: Number(m[1]), minor: Number(m[2]) };
}

export function compare_release(a: KernelRelease, b: KernelRelease): number {
  return a.major - b.major || a.minor - b.minor;
}

function release_of(s: string): KernelRelease {
  const r = parse_release(s);
  if (r === null) throw new Error(`registry: bad release ${s}`);
  return r;
}

export function in_range(r: KernelRelease, range: KernelRange): boolean {
  return compare_release(r, release_of(range.from)) >= 0 && (range.to === null || compare_release(r, release_of(range.to)) <= 0);
}

const BY_NAME: ReadonlyMap<string, Variant> = new Map(VARIANTS.map((v) => [v.name, v]));

export function variant_by_name(name: string): Variant | undefined {
  return BY_NAME.get(name);
}

export function format_range(k: KernelRange | null): string {
  if (k === null) return 'unmerged';
  if (k.to === null) return `${k.from}+`;
  return k.from === k.to ? k.from : `${k.from}-${k.to}`;
}

const VALID = `valid: ${VARIANT_NAMES.join(', ')}, or a kernel release v4.12 or later (e.g. v5.15.3)`;

export type ResolveResult = { readonly ok: true; readonly variant: Variant } | { readonly ok: false; readonly error: string };

/**
 * A variant by exact name, or the merged variant whose kernel range contains a release
 * ('v5.12' → v5.3, '5.15' → v5.13, 'v6.8' → mainline). The error is one line naming the valid names.
 */
export function try_resolve_variant(arg: string): ResolveResult {
  const byName = BY_NAME.get(arg);
  if (byName !== undefined) return { ok: true, variant: byName };
  const r = parse_release(arg);
  if (r === null) return { ok: false, error: `unknown variant '${arg}'; ${VALID}` };
  const last = LAST_MINOR[r.major];
  if (r.major < 4 || (last !== undefined && r.minor > last)) {
    return { ok: false, error: `'${arg}' is not a Linux release; ${VALID}` };
  }
  if (compare_release(r, FIRST_RELEASE) < 0) {
    return { ok: false, error: `'${arg}' predates vfio-ccw (first in v4.12); ${VALID}` };
  }
  const v = VARIANTS.find((x) => x.kernel !== null && in_range(r, x.kernel));
  if (v === undefined) return { ok: false, error: `no variant covers '${arg}'; ${VALID}` };
  return { ok: true, variant: v };
}

export class UnknownVariantError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnknownVariantError';
  }
}

/** As try_resolve_variant, but throws UnknownVariantError. */
export function resolve_variant(arg: string): Variant {
  const r = try_resolve_variant(arg);
  if (!r.ok) throw new UnknownVariantError(r.error);
  return r.variant;
}

// ---------------------------------------------------------------------------------------------
// Output for `variants` / `variants --json`

/** Plain text table: name, label, kernel range, description. */
export function format_variant_table(): string {
  const rows = [['name', 'label', 'kernel', 'description'], ...VARIANTS.map((v) => [v.name, v.label, format_range(v.kernel), v.description])];
  const width = [0, 1, 2].map((i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => (i < 3 ? cell.padEnd(width[i] ?? 0) : cell)).join('  ')).join('\n') + '\n';
}

export interface VariantJson extends Variant {
  readonly kernel_range: string;
}

/** The registry as plain JSON data (for `--json`). */
export function variants_json(): VariantJson[] {
  return VARIANTS.map((v) => ({ ...v, kernel_range: format_range(v.kernel) }));
}
