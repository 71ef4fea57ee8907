// drivers/s390/cio/vfio_ccw_private.h (enum vfio_ccw_state/event) and the jumptable of vfio_ccw_fsm.c, every version as data.
//
// One table per FSM model (spec/driver.md §4.3, §5.2, §6.2, §8.3, §9.1). Each table is keyed by
// state name and event name, so the order of columns in the spec does not matter; the numeric
// values come from the order of the `as const` name arrays, which is the kernel's enum order
// (for A: the cover letter's order, see below). `satisfies JumpTable<State, Event>` makes every
// table total: a missing row or cell, an unknown state or event, or a misspelt action does not
// compile.

/** Every action function named in any version's jump table (kernel names). */
export const ACTION_NAMES = [
  // B … G (vfio_ccw_fsm.c of mainline, and F)
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
  // A only (Pierre Morel's 2018 series; A's actions return the next state, §4.4). A's
  // fsm_notoper/fsm_io_error/fsm_io_busy/fsm_disabled_irq/fsm_io_request/fsm_irq share the
  // names above but follow §4.4, so the driver picks the implementation by (FSM label, name).
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

/** FSM model labels (spec §3). C serves v5.2 … v5.19; E serves v6.0 … current (E0, E1, E2, G). */
export const FSM_NAMES = ['morel-2018', 'v4.12', 'v4.18', 'v5.0', 'v5.2', 'gunthorpe-2021', 'v6.0'] as const;
export type FsmName = (typeof FSM_NAMES)[number];

export interface FsmShape<S extends string = string, E extends string = string> {
  /** the first variant that runs this table */
  readonly name: FsmName;
  /** spec section the table is transcribed from */
  readonly spec: string;
  /** state names; the index is the enum value */
  readonly states: readonly S[];
  /** event names; the index is the enum value */
  readonly events: readonly E[];
  readonly table: JumpTable<S, E>;
  readonly notes: readonly string[];
}

// ---------------------------------------------------------------------------------------------
// A: Pierre Morel's refactoring proposal, April 2018, not merged (§4).

/**
 * States in cover-letter order; the numeric values 0..4 are [inferred] from that order (§4.2).
 * BOXED is still present in the A-fsm snapshot and is removed by patch 9 ("Suppressing the BOXED
 * state"). Its value in the snapshot is not known; it is put last (5) so that the cover-letter
 * values stay as the spec gives them. That matters: fsm_quiescing returns the raw result of
 * cio_cancel_halt_clear as the next state, and 0 must read as NOT_OPER (§4.4, observation).
 */
export const STATES_MOREL_2018 = ['NOT_OPER', 'STANDBY', 'IDLE', 'BUSY', 'QUIESCING', 'BOXED'] as const;
/**
 * Events in cover-letter order (values [inferred]). The cover letter's SCH_EVENT is called
 * SCHIB_CHANGED in the snapshot; the snapshot's name is used.
 */
export const EVENTS_MOREL_2018 = ['INIT', 'NOT_OPER', 'SSCH_REQ', 'INTERRUPT', 'SCHIB_CHANGED', 'ONLINE', 'OFFLINE'] as const;
export type StateMorel2018 = (typeof STATES_MOREL_2018)[number];
export type EventMorel2018 = (typeof EVENTS_MOREL_2018)[number];

/** §4.3 (A-fsm snapshot). The snapshot lists the columns INIT, ONLINE, OFFLINE, NOT_OPER, … */
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
// B: v4.12 … v5.1 (§5). B1 and B2 share enums and table; B3 drops BOXED.

export const STATES_V4_12 = ['NOT_OPER', 'STANDBY', 'IDLE', 'BOXED', 'BUSY'] as const;
export const STATES_V5_0 = ['NOT_OPER', 'STANDBY', 'IDLE', 'BUSY'] as const;
export const EVENTS_V4_12 = ['NOT_OPER', 'IO_REQ', 'INTERRUPT'] as const;
export type StateV4_12 = (typeof STATES_V4_12)[number];
export type StateV5_0 = (typeof STATES_V5_0)[number];
export type EventV4_12 = (typeof EVENTS_V4_12)[number];

/** §5.2. INTERRUPT in STANDBY runs fsm_irq (not fsm_disabled_irq) in B and C. */
export const JUMPTABLE_V4_12 = {
  NOT_OPER: { NOT_OPER: 'fsm_nop', IO_REQ: 'fsm_io_error', INTERRUPT: 'fsm_disabled_irq' },
  STANDBY: { NOT_OPER: 'fsm_notoper', IO_REQ: 'fsm_io_error', INTERRUPT: 'fsm_irq' },
  IDLE: { NOT_OPER: 'fsm_notoper', IO_REQ: 'fsm_io_request', INTERRUPT: 'fsm_irq' },
  BOXED: { NOT_OPER: 'fsm_notoper', IO_REQ: 'fsm_io_busy', INTERRUPT: 'fsm_irq' },
  BUSY: { NOT_OPER: 'fsm_notoper', IO_REQ: 'fsm_io_busy', INTERRUPT: 'fsm_irq' },
} as const satisfies JumpTable<StateV4_12, EventV4_12>;

/** §5.2, "B3 = the same without the BOXED row" ("Merge BUSY and BOXED states", v5.0). */
export const JUMPTABLE_V5_0 = {
  NOT_OPER: { NOT_OPER: 'fsm_nop', IO_REQ: 'fsm_io_error', INTERRUPT: 'fsm_disabled_irq' },
  STANDBY: { NOT_OPER: 'fsm_notoper', IO_REQ: 'fsm_io_error', INTERRUPT: 'fsm_irq' },
  IDLE: { NOT_OPER: 'fsm_notoper', IO_REQ: 'fsm_io_request', INTERRUPT: 'fsm_irq' },
  BUSY: { NOT_OPER: 'fsm_notoper', IO_REQ: 'fsm_io_busy', INTERRUPT: 'fsm_irq' },
} as const satisfies JumpTable<StateV5_0, EventV4_12>;

// ---------------------------------------------------------------------------------------------
// C: v5.2 … v5.19 (§6.1, §6.2; v5.13's D changes handlers, not the table).

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
// F: Jason Gunthorpe's 2021 proposal, not merged (§8.2, §8.3).

export const STATES_GUNTHORPE_2021 = ['BROKEN', 'CLOSED', 'IDLE', 'CP_PROCESSING', 'CP_PENDING'] as const;
export const EVENTS_GUNTHORPE_2021 = ['BROKEN', 'IO_REQ', 'INTERRUPT', 'ASYNC_REQ', 'OPEN', 'CLOSE'] as const;
export type StateGunthorpe2021 = (typeof STATES_GUNTHORPE_2021)[number];
export type EventGunthorpe2021 = (typeof EVENTS_GUNTHORPE_2021)[number];

/** §8.3. The spec's "nop" is fsm_nop: §8.4 keeps the C/D actions that it does not list. */
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
// E: v6.0 … current (E0, E1, E2, G share it; §9.1, §10.1).

export const STATES_V6_0 = ['NOT_OPER', 'STANDBY', 'IDLE', 'CP_PROCESSING', 'CP_PENDING'] as const;
export const EVENTS_V6_0 = ['NOT_OPER', 'IO_REQ', 'INTERRUPT', 'ASYNC_REQ', 'OPEN', 'CLOSE'] as const;
export type StateV6_0 = (typeof STATES_V6_0)[number];
export type EventV6_0 = (typeof EVENTS_V6_0)[number];

/** §9.1. The spec's "nop" is fsm_nop (§10.2 lists the G action as fsm_nop). */
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
  spec: '§4.2, §4.3',
  states: STATES_MOREL_2018,
  events: EVENTS_MOREL_2018,
  table: JUMPTABLE_MOREL_2018,
  notes: [
    'Numeric values of states and events are [inferred] from the cover-letter order.',
    'BOXED is the A-fsm snapshot\'s row; patch 9 "Suppressing the BOXED state" removes it. Its value (5) is our choice.',
    'Actions return the next state and the dispatcher assigns it (§4.4); fsm_quiescing can return a raw errno.',
    'The INTERRUPT event runs in the io_todo work item, not in IRQ context [inferred from patch 1].',
  ],
} as const satisfies FsmShape<StateMorel2018, EventMorel2018>;

export const FSM_V4_12 = {
  name: 'v4.12',
  spec: '§5.1, §5.2',
  states: STATES_V4_12,
  events: EVENTS_V4_12,
  table: JUMPTABLE_V4_12,
  notes: ['Same enums and table as B2; the two differ in fsm_io_helper (§5.3.2).'],
} as const satisfies FsmShape<StateV4_12, EventV4_12>;

export const FSM_V4_18 = {
  name: 'v4.18',
  spec: '§5.1, §5.2',
  states: STATES_V4_12,
  events: EVENTS_V4_12,
  table: JUMPTABLE_V4_12,
  notes: ['Same enums and table as B1; the two differ in fsm_io_helper (§5.3.2).'],
} as const satisfies FsmShape<StateV4_12, EventV4_12>;

export const FSM_V5_0 = {
  name: 'v5.0',
  spec: '§5.1, §5.2',
  states: STATES_V5_0,
  events: EVENTS_V4_12,
  table: JUMPTABLE_V5_0,
  notes: ['BOXED merged into BUSY (v5.0): BUSY has the value 3.'],
} as const satisfies FsmShape<StateV5_0, EventV4_12>;

export const FSM_V5_2 = {
  name: 'v5.2',
  spec: '§6.1, §6.2',
  states: STATES_V5_2,
  events: EVENTS_V5_2,
  table: JUMPTABLE_V5_2,
  notes: ['Shared by v5.2 … v5.19 (C, the v5.3 line, and D); the versions differ in handlers only.'],
} as const satisfies FsmShape<StateV5_2, EventV5_2>;

export const FSM_GUNTHORPE_2021 = {
  name: 'gunthorpe-2021',
  spec: '§8.2, §8.3',
  states: STATES_GUNTHORPE_2021,
  events: EVENTS_GUNTHORPE_2021,
  table: JUMPTABLE_GUNTHORPE_2021,
  notes: ['NOT_OPER renamed BROKEN, STANDBY renamed CLOSED; fsm_notoper renamed fsm_broken (§8.1, §8.4).'],
} as const satisfies FsmShape<StateGunthorpe2021, EventGunthorpe2021>;

export const FSM_V6_0 = {
  name: 'v6.0',
  spec: '§9.1, §10.1',
  states: STATES_V6_0,
  events: EVENTS_V6_0,
  table: JUMPTABLE_V6_0,
  notes: ['Shared by v6.0 (E0), v6.1 (E1), v6.2 (E2) and current mainline (G).'],
} as const satisfies FsmShape<StateV6_0, EventV6_0>;

/** Every FSM model by label. Each entry keeps its own literal state and event types. */
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
