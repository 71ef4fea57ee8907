// drivers/s390/cio/vfio_ccw_private.h (enum vfio_ccw_state/event) and the jumptable of vfio_ccw_fsm.c, every version as data.
//
// One table per FSM model, named after the first variant that runs it (vfio_ccw_jumptable in
// vfio_ccw_fsm.c of that version). Each table is keyed by state name and event name, so the
// order of columns does not matter; the numeric
// values come from the order of the `as const` name arrays, which is the kernel's enum order
// (for morel-2018: the cover letter's order, see below). `satisfies JumpTable<State, Event>` makes every
// table total: a missing row or cell, an unknown state or event, or a misspelt action does not
// compile.

/** Every action function named in any version's jump table (kernel names). */
export const ACTION_NAMES = [
  // v4.12 … mainline (vfio_ccw_fsm.c), and gunthorpe-2021
  'fsm_nop',
  'fsm_io_error',
  'fsm_disabled_irq',
  'fsm_notoper',
  'fsm_io_request',
  'fsm_irq',
  'fsm_io_busy',
  'fsm_io_retry',
  'fsm_async_error',
  'fsm_async_retry',
  'fsm_async_request',
  'fsm_open',
  'fsm_close',
  'fsm_broken',
  // morel-2018 only (Pierre Morel's 2018 series, whose actions return the next state). Its
  // fsm_notoper/fsm_io_error/fsm_io_busy/fsm_disabled_irq/fsm_io_request/fsm_irq share the
  // names above but return a state too, so the driver picks the implementation by (table, name).
  'nop',
  'fsm_init',
  'fsm_online',
  'fsm_offline',
  'fsm_quiescing',
  'fsm_quiescing_done',
  'fsm_sch_event',
] as const;
export type ActionName = (typeof ACTION_NAMES)[number];

/** A total jump table: every state has a row and every row has every event. */
export type JumpTable<S extends string, E extends string> = Readonly<Record<S, Readonly<Record<E, ActionName>>>>;

/** FSM tables by the first variant that runs each: v5.2's serves v5.2 … v5.19; v6.0's serves v6.0 … current. */
export const FSM_NAMES = ['morel-2018', 'v4.12', 'v4.18', 'v5.0', 'v5.2', 'gunthorpe-2021', 'v6.0'] as const;
export type FsmName = (typeof FSM_NAMES)[number];

export interface FsmShape<S extends string = string, E extends string = string> {
  /** the first variant that runs this table */
  readonly name: FsmName;
  /** where the table is transcribed from */
  readonly source: string;
  /** state names; the index is the enum value */
  readonly states: readonly S[];
  /** event names; the index is the enum value */
  readonly events: readonly E[];
  readonly table: JumpTable<S, E>;
  readonly notes: readonly string[];
}

// ---------------------------------------------------------------------------------------------
// morel-2018: Pierre Morel's refactoring proposal, April 2018, not merged (its cover letter and
// the mid-series vfio_ccw_fsm.c, "the snapshot").

/**
 * States in cover-letter order; the numeric values 0..4 are [inferred] from that order.
 * BOXED is still present in the snapshot and is removed by patch 9 ("Suppressing the BOXED
 * state"). Its value in the snapshot is not known; it is put last (5) so that the cover-letter
 * values stay as the spec gives them. That matters: fsm_quiescing returns the raw result of
 * cio_cancel_halt_clear as the next state, and 0 must read as NOT_OPER (observation).
 */
export const STATES_MOREL_2018 = ['NOT_OPER', 'STANDBY', 'IDLE', 'BUSY', 'QUIESCING', 'BOXED'] as const;
/**
 * Events in cover-letter order (values [inferred]). The cover letter's SCH_EVENT is called
 * SCHIB_CHANGED in the snapshot; the snapshot's name is used.
 */
export const EVENTS_MOREL_2018 = ['INIT', 'NOT_OPER', 'SSCH_REQ', 'INTERRUPT', 'SCHIB_CHANGED', 'ONLINE', 'OFFLINE'] as const;
export type StateMorel2018 = (typeof STATES_MOREL_2018)[number];
export type EventMorel2018 = (typeof EVENTS_MOREL_2018)[number];

/** The snapshot's vfio_ccw_jumptable. It lists the columns INIT, ONLINE, OFFLINE, NOT_OPER, … */
export const JUMPTABLE_MOREL_2018 = {
  NOT_OPER: {
    INIT: 'fsm_init',
    ONLINE: 'nop',
    OFFLINE: 'nop',
    NOT_OPER: 'nop',
    SSCH_REQ: 'nop',
    INTERRUPT: 'nop',
    SCHIB_CHANGED: 'nop',
  },
  STANDBY: {
    INIT: 'nop',
    ONLINE: 'fsm_online',
    OFFLINE: 'fsm_offline',
    NOT_OPER: 'fsm_notoper',
    SSCH_REQ: 'fsm_io_error',
    INTERRUPT: 'fsm_disabled_irq',
    SCHIB_CHANGED: 'fsm_sch_event',
  },
  IDLE: {
    INIT: 'nop',
    ONLINE: 'nop',
    OFFLINE: 'fsm_offline',
    NOT_OPER: 'fsm_notoper',
    SSCH_REQ: 'fsm_io_request',
    INTERRUPT: 'fsm_irq',
    SCHIB_CHANGED: 'fsm_sch_event',
  },
  BOXED: {
    INIT: 'nop',
    ONLINE: 'nop',
    OFFLINE: 'fsm_quiescing',
    NOT_OPER: 'fsm_notoper',
    SSCH_REQ: 'fsm_io_busy',
    INTERRUPT: 'fsm_irq',
    SCHIB_CHANGED: 'fsm_sch_event',
  },
  BUSY: {
    INIT: 'nop',
    ONLINE: 'nop',
    OFFLINE: 'fsm_quiescing',
    NOT_OPER: 'fsm_notoper',
    SSCH_REQ: 'fsm_io_busy',
    INTERRUPT: 'fsm_irq',
    SCHIB_CHANGED: 'fsm_sch_event',
  },
  QUIESCING: {
    INIT: 'nop',
    ONLINE: 'nop',
    OFFLINE: 'nop',
    NOT_OPER: 'fsm_notoper',
    SSCH_REQ: 'fsm_io_busy',
    INTERRUPT: 'fsm_quiescing_done',
    SCHIB_CHANGED: 'fsm_sch_event',
  },
} as const satisfies JumpTable<StateMorel2018, EventMorel2018>;

// ---------------------------------------------------------------------------------------------
// v4.12 … v5.1 (vfio_ccw_fsm.c). v4.12 and v4.18 share enums and table; v5.0 drops BOXED.

export const STATES_V4_12 = ['NOT_OPER', 'STANDBY', 'IDLE', 'BOXED', 'BUSY'] as const;
export const STATES_V5_0 = ['NOT_OPER', 'STANDBY', 'IDLE', 'BUSY'] as const;
export const EVENTS_V4_12 = ['NOT_OPER', 'IO_REQ', 'INTERRUPT'] as const;
export type StateV4_12 = (typeof STATES_V4_12)[number];
export type StateV5_0 = (typeof STATES_V5_0)[number];
export type EventV4_12 = (typeof EVENTS_V4_12)[number];

/** v4.12 vfio_ccw_jumptable. INTERRUPT in STANDBY runs fsm_irq (not fsm_disabled_irq) in v4.12 … v5.19. */
export const JUMPTABLE_V4_12 = {
  NOT_OPER: { NOT_OPER: 'fsm_nop', IO_REQ: 'fsm_io_error', INTERRUPT: 'fsm_disabled_irq' },
  STANDBY: { NOT_OPER: 'fsm_notoper', IO_REQ: 'fsm_io_error', INTERRUPT: 'fsm_irq' },
  IDLE: { NOT_OPER: 'fsm_notoper', IO_REQ: 'fsm_io_request', INTERRUPT: 'fsm_irq' },
  BOXED: { NOT_OPER: 'fsm_notoper', IO_REQ: 'fsm_io_busy', INTERRUPT: 'fsm_irq' },
  BUSY: { NOT_OPER: 'fsm_notoper', IO_REQ: 'fsm_io_busy', INTERRUPT: 'fsm_irq' },
} as const satisfies JumpTable<StateV4_12, EventV4_12>;

/** v5.0 vfio_ccw_jumptable: v4.12's without the BOXED row ("Merge BUSY and BOXED states", v5.0). */
export const JUMPTABLE_V5_0 = {
  NOT_OPER: { NOT_OPER: 'fsm_nop', IO_REQ: 'fsm_io_error', INTERRUPT: 'fsm_disabled_irq' },
  STANDBY: { NOT_OPER: 'fsm_notoper', IO_REQ: 'fsm_io_error', INTERRUPT: 'fsm_irq' },
  IDLE: { NOT_OPER: 'fsm_notoper', IO_REQ: 'fsm_io_request', INTERRUPT: 'fsm_irq' },
  BUSY: { NOT_OPER: 'fsm_notoper', IO_REQ: 'fsm_io_busy', INTERRUPT: 'fsm_irq' },
} as const satisfies JumpTable<StateV5_0, EventV4_12>;

// ---------------------------------------------------------------------------------------------
// v5.2 … v5.19 (vfio_ccw_fsm.c; v5.13 changes handlers, not the table).

export const STATES_V5_2 = ['NOT_OPER', 'STANDBY', 'IDLE', 'CP_PROCESSING', 'CP_PENDING'] as const;
export const EVENTS_V5_2 = ['NOT_OPER', 'IO_REQ', 'INTERRUPT', 'ASYNC_REQ'] as const;
export type StateV5_2 = (typeof STATES_V5_2)[number];
export type EventV5_2 = (typeof EVENTS_V5_2)[number];

export const JUMPTABLE_V5_2 = {
  NOT_OPER: { NOT_OPER: 'fsm_nop', IO_REQ: 'fsm_io_error', INTERRUPT: 'fsm_disabled_irq', ASYNC_REQ: 'fsm_async_error' },
  STANDBY: { NOT_OPER: 'fsm_notoper', IO_REQ: 'fsm_io_error', INTERRUPT: 'fsm_irq', ASYNC_REQ: 'fsm_async_error' },
  IDLE: { NOT_OPER: 'fsm_notoper', IO_REQ: 'fsm_io_request', INTERRUPT: 'fsm_irq', ASYNC_REQ: 'fsm_async_request' },
  CP_PROCESSING: { NOT_OPER: 'fsm_notoper', IO_REQ: 'fsm_io_retry', INTERRUPT: 'fsm_irq', ASYNC_REQ: 'fsm_async_retry' },
  CP_PENDING: { NOT_OPER: 'fsm_notoper', IO_REQ: 'fsm_io_busy', INTERRUPT: 'fsm_irq', ASYNC_REQ: 'fsm_async_request' },
} as const satisfies JumpTable<StateV5_2, EventV5_2>;

// ---------------------------------------------------------------------------------------------
// gunthorpe-2021: Jason Gunthorpe's 2021 proposal, not merged (its v3 diff of vfio_ccw_fsm.c).

export const STATES_GUNTHORPE_2021 = ['BROKEN', 'CLOSED', 'IDLE', 'CP_PROCESSING', 'CP_PENDING'] as const;
export const EVENTS_GUNTHORPE_2021 = ['BROKEN', 'IO_REQ', 'INTERRUPT', 'ASYNC_REQ', 'OPEN', 'CLOSE'] as const;
export type StateGunthorpe2021 = (typeof STATES_GUNTHORPE_2021)[number];
export type EventGunthorpe2021 = (typeof EVENTS_GUNTHORPE_2021)[number];

/** The v3 diff's table. Its "nop" is fsm_nop: the diff keeps the v5.2 … v5.19 actions it does not touch. */
export const JUMPTABLE_GUNTHORPE_2021 = {
  BROKEN: {
    BROKEN: 'fsm_nop',
    IO_REQ: 'fsm_io_error',
    INTERRUPT: 'fsm_disabled_irq',
    ASYNC_REQ: 'fsm_async_error',
    OPEN: 'fsm_nop',
    CLOSE: 'fsm_nop',
  },
  CLOSED: {
    BROKEN: 'fsm_broken',
    IO_REQ: 'fsm_io_error',
    INTERRUPT: 'fsm_disabled_irq',
    ASYNC_REQ: 'fsm_async_error',
    OPEN: 'fsm_open',
    CLOSE: 'fsm_broken',
  },
  IDLE: {
    BROKEN: 'fsm_broken',
    IO_REQ: 'fsm_io_request',
    INTERRUPT: 'fsm_irq',
    ASYNC_REQ: 'fsm_async_request',
    OPEN: 'fsm_broken',
    CLOSE: 'fsm_close',
  },
  CP_PROCESSING: {
    BROKEN: 'fsm_broken',
    IO_REQ: 'fsm_io_retry',
    INTERRUPT: 'fsm_irq',
    ASYNC_REQ: 'fsm_async_retry',
    OPEN: 'fsm_broken',
    CLOSE: 'fsm_close',
  },
  CP_PENDING: {
    BROKEN: 'fsm_broken',
    IO_REQ: 'fsm_io_busy',
    INTERRUPT: 'fsm_irq',
    ASYNC_REQ: 'fsm_async_request',
    OPEN: 'fsm_broken',
    CLOSE: 'fsm_close',
  },
} as const satisfies JumpTable<StateGunthorpe2021, EventGunthorpe2021>;

// ---------------------------------------------------------------------------------------------
// v6.0 … current (v6.0, v6.1, v6.2, v6.3 and mainline share it; vfio_ccw_fsm.c).

export const STATES_V6_0 = ['NOT_OPER', 'STANDBY', 'IDLE', 'CP_PROCESSING', 'CP_PENDING'] as const;
export const EVENTS_V6_0 = ['NOT_OPER', 'IO_REQ', 'INTERRUPT', 'ASYNC_REQ', 'OPEN', 'CLOSE'] as const;
export type StateV6_0 = (typeof STATES_V6_0)[number];
export type EventV6_0 = (typeof EVENTS_V6_0)[number];

/** v6.0 vfio_ccw_jumptable; its no-op cells are fsm_nop. */
export const JUMPTABLE_V6_0 = {
  NOT_OPER: {
    NOT_OPER: 'fsm_nop',
    IO_REQ: 'fsm_io_error',
    INTERRUPT: 'fsm_disabled_irq',
    ASYNC_REQ: 'fsm_async_error',
    OPEN: 'fsm_nop',
    CLOSE: 'fsm_nop',
  },
  STANDBY: {
    NOT_OPER: 'fsm_notoper',
    IO_REQ: 'fsm_io_error',
    INTERRUPT: 'fsm_disabled_irq',
    ASYNC_REQ: 'fsm_async_error',
    OPEN: 'fsm_open',
    CLOSE: 'fsm_notoper',
  },
  IDLE: {
    NOT_OPER: 'fsm_notoper',
    IO_REQ: 'fsm_io_request',
    INTERRUPT: 'fsm_irq',
    ASYNC_REQ: 'fsm_async_request',
    OPEN: 'fsm_notoper',
    CLOSE: 'fsm_close',
  },
  CP_PROCESSING: {
    NOT_OPER: 'fsm_notoper',
    IO_REQ: 'fsm_io_retry',
    INTERRUPT: 'fsm_irq',
    ASYNC_REQ: 'fsm_async_retry',
    OPEN: 'fsm_notoper',
    CLOSE: 'fsm_close',
  },
  CP_PENDING: {
    NOT_OPER: 'fsm_notoper',
    IO_REQ: 'fsm_io_busy',
    INTERRUPT: 'fsm_irq',
    ASYNC_REQ: 'fsm_async_request',
    OPEN: 'fsm_notoper',
    CLOSE: 'fsm_close',
  },
} as const satisfies JumpTable<StateV6_0, EventV6_0>;

// ---------------------------------------------------------------------------------------------

export const FSM_MOREL_2018 = {
  name: 'morel-2018',
  source: 'cover letter (enum order) and the mid-series vfio_ccw_fsm.c (vfio_ccw_jumptable)',
  states: STATES_MOREL_2018,
  events: EVENTS_MOREL_2018,
  table: JUMPTABLE_MOREL_2018,
  notes: [
    'Numeric values of states and events are [inferred] from the cover-letter order.',
    'BOXED is the snapshot\'s row; patch 9 "Suppressing the BOXED state" removes it. Its value (5) is our choice.',
    'Actions return the next state and the dispatcher assigns it (vfio_ccw_fsm_event of the snapshot); fsm_quiescing can return a raw errno.',
    'The INTERRUPT event runs in the io_todo work item, not in IRQ context [inferred from patch 1].',
  ],
} as const satisfies FsmShape<StateMorel2018, EventMorel2018>;

export const FSM_V4_12 = {
  name: 'v4.12',
  source: 'v4.12 vfio_ccw_private.h (enums), vfio_ccw_fsm.c (vfio_ccw_jumptable)',
  states: STATES_V4_12,
  events: EVENTS_V4_12,
  table: JUMPTABLE_V4_12,
  notes: ['Same enums and table as v4.18; the two differ in fsm_io_helper (vfio_ccw_fsm.c).'],
} as const satisfies FsmShape<StateV4_12, EventV4_12>;

export const FSM_V4_18 = {
  name: 'v4.18',
  source: 'v4.18 vfio_ccw_private.h (enums), vfio_ccw_fsm.c (vfio_ccw_jumptable)',
  states: STATES_V4_12,
  events: EVENTS_V4_12,
  table: JUMPTABLE_V4_12,
  notes: ['Same enums and table as v4.12; the two differ in fsm_io_helper (vfio_ccw_fsm.c).'],
} as const satisfies FsmShape<StateV4_12, EventV4_12>;

export const FSM_V5_0 = {
  name: 'v5.0',
  source: 'v5.0 vfio_ccw_private.h (enums), vfio_ccw_fsm.c (vfio_ccw_jumptable)',
  states: STATES_V5_0,
  events: EVENTS_V4_12,
  table: JUMPTABLE_V5_0,
  notes: ['BOXED merged into BUSY (v5.0): BUSY has the value 3.'],
} as const satisfies FsmShape<StateV5_0, EventV4_12>;

export const FSM_V5_2 = {
  name: 'v5.2',
  source: 'v5.2 vfio_ccw_private.h (enums), vfio_ccw_fsm.c (vfio_ccw_jumptable)',
  states: STATES_V5_2,
  events: EVENTS_V5_2,
  table: JUMPTABLE_V5_2,
  notes: ['Shared by v5.2 … v5.19 (v5.2, the v5.3 line, and v5.13); the versions differ in handlers only.'],
} as const satisfies FsmShape<StateV5_2, EventV5_2>;

export const FSM_GUNTHORPE_2021 = {
  name: 'gunthorpe-2021',
  source: 'v3 diff of 1 Oct 2021 (vfio_ccw_private.h, vfio_ccw_fsm.c)',
  states: STATES_GUNTHORPE_2021,
  events: EVENTS_GUNTHORPE_2021,
  table: JUMPTABLE_GUNTHORPE_2021,
  notes: ['NOT_OPER renamed BROKEN, STANDBY renamed CLOSED; fsm_notoper renamed fsm_broken (v3 diff of vfio_ccw_fsm.c).'],
} as const satisfies FsmShape<StateGunthorpe2021, EventGunthorpe2021>;

export const FSM_V6_0 = {
  name: 'v6.0',
  source: 'v6.0 vfio_ccw_private.h (enums), vfio_ccw_fsm.c (vfio_ccw_jumptable)',
  states: STATES_V6_0,
  events: EVENTS_V6_0,
  table: JUMPTABLE_V6_0,
  notes: ['Shared by v6.0, v6.1, v6.2, v6.3 and current mainline.'],
} as const satisfies FsmShape<StateV6_0, EventV6_0>;

/** Every FSM table by the name of the first variant that runs it. Each entry keeps its own literal state and event types. */
export const FSM_TABLES = {
  'morel-2018': FSM_MOREL_2018,
  'v4.12': FSM_V4_12,
  'v4.18': FSM_V4_18,
  'v5.0': FSM_V5_0,
  'v5.2': FSM_V5_2,
  'gunthorpe-2021': FSM_GUNTHORPE_2021,
  'v6.0': FSM_V6_0,
} as const satisfies { readonly [L in FsmName]: FsmShape & { readonly name: L } };

export type FsmTables = typeof FSM_TABLES;
export type StateOf<L extends FsmName> = FsmTables[L]['states'][number];
export type EventOf<L extends FsmName> = FsmTables[L]['events'][number];
