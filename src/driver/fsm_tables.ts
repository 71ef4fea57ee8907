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
export const FSM_LABELS = ['A', 'B1', 'B2', 'B3', 'C', 'F', 'E'] as const;
export type FsmLabel = (typeof FSM_LABELS)[number];

export interface FsmShape<S extends string = string, E extends string = string> {
  readonly label: FsmLabel;
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
export const STATES_A = ['NOT_OPER', 'STANDBY', 'IDLE', 'BUSY', 'QUIESCING', 'BOXED'] as const;
/**
 * Events in cover-letter order (values [inferred]). The cover letter's SCH_EVENT is called
 * SCHIB_CHANGED in the snapshot; the snapshot's name is used.
 */
export const EVENTS_A = ['INIT', 'NOT_OPER', 'SSCH_REQ', 'INTERRUPT', 'SCHIB_CHANGED', 'ONLINE', 'OFFLINE'] as const;
export type StateA = (typeof STATES_A)[number];
export type EventA = (typeof EVENTS_A)[number];

/** §4.3 (A-fsm snapshot). The snapshot lists the columns INIT, ONLINE, OFFLINE, NOT_OPER, … */
export const JUMPTABLE_A = {
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
} as const satisfies JumpTable<StateA, EventA>;

// ---------------------------------------------------------------------------------------------
// B: v4.12 … v5.1 (§5). B1 and B2 share enums and table; B3 drops BOXED.

export const STATES_B12 = ['NOT_OPER', 'STANDBY', 'IDLE', 'BOXED', 'BUSY'] as const;
export const STATES_B3 = ['NOT_OPER', 'STANDBY', 'IDLE', 'BUSY'] as const;
export const EVENTS_B = ['NOT_OPER', 'IO_REQ', 'INTERRUPT'] as const;
export type StateB12 = (typeof STATES_B12)[number];
export type StateB3 = (typeof STATES_B3)[number];
export type EventB = (typeof EVENTS_B)[number];

/** §5.2. INTERRUPT in STANDBY runs fsm_irq (not fsm_disabled_irq) in B and C. */
export const JUMPTABLE_B12 = {
  NOT_OPER: { NOT_OPER: 'fsm_nop', IO_REQ: 'fsm_io_error', INTERRUPT: 'fsm_disabled_irq' },
  STANDBY: { NOT_OPER: 'fsm_notoper', IO_REQ: 'fsm_io_error', INTERRUPT: 'fsm_irq' },
  IDLE: { NOT_OPER: 'fsm_notoper', IO_REQ: 'fsm_io_request', INTERRUPT: 'fsm_irq' },
  BOXED: { NOT_OPER: 'fsm_notoper', IO_REQ: 'fsm_io_busy', INTERRUPT: 'fsm_irq' },
  BUSY: { NOT_OPER: 'fsm_notoper', IO_REQ: 'fsm_io_busy', INTERRUPT: 'fsm_irq' },
} as const satisfies JumpTable<StateB12, EventB>;

/** §5.2, "B3 = the same without the BOXED row" ("Merge BUSY and BOXED states", v5.0). */
export const JUMPTABLE_B3 = {
  NOT_OPER: { NOT_OPER: 'fsm_nop', IO_REQ: 'fsm_io_error', INTERRUPT: 'fsm_disabled_irq' },
  STANDBY: { NOT_OPER: 'fsm_notoper', IO_REQ: 'fsm_io_error', INTERRUPT: 'fsm_irq' },
  IDLE: { NOT_OPER: 'fsm_notoper', IO_REQ: 'fsm_io_request', INTERRUPT: 'fsm_irq' },
  BUSY: { NOT_OPER: 'fsm_notoper', IO_REQ: 'fsm_io_busy', INTERRUPT: 'fsm_irq' },
} as const satisfies JumpTable<StateB3, EventB>;

// ---------------------------------------------------------------------------------------------
// C: v5.2 … v5.19 (§6.1, §6.2; v5.13's D changes handlers, not the table).

export const STATES_C = ['NOT_OPER', 'STANDBY', 'IDLE', 'CP_PROCESSING', 'CP_PENDING'] as const;
export const EVENTS_C = ['NOT_OPER', 'IO_REQ', 'INTERRUPT', 'ASYNC_REQ'] as const;
export type StateC = (typeof STATES_C)[number];
export type EventC = (typeof EVENTS_C)[number];

export const JUMPTABLE_C = {
  NOT_OPER: { NOT_OPER: 'fsm_nop', IO_REQ: 'fsm_io_error', INTERRUPT: 'fsm_disabled_irq', ASYNC_REQ: 'fsm_async_error' },
  STANDBY: { NOT_OPER: 'fsm_notoper', IO_REQ: 'fsm_io_error', INTERRUPT: 'fsm_irq', ASYNC_REQ: 'fsm_async_error' },
  IDLE: { NOT_OPER: 'fsm_notoper', IO_REQ: 'fsm_io_request', INTERRUPT: 'fsm_irq', ASYNC_REQ: 'fsm_async_request' },
  CP_PROCESSING: { NOT_OPER: 'fsm_notoper', IO_REQ: 'fsm_io_retry', INTERRUPT: 'fsm_irq', ASYNC_REQ: 'fsm_async_retry' },
  CP_PENDING: { NOT_OPER: 'fsm_notoper', IO_REQ: 'fsm_io_busy', INTERRUPT: 'fsm_irq', ASYNC_REQ: 'fsm_async_request' },
} as const satisfies JumpTable<StateC, EventC>;

// ---------------------------------------------------------------------------------------------
// F: Jason Gunthorpe's 2021 proposal, not merged (§8.2, §8.3).

export const STATES_F = ['BROKEN', 'CLOSED', 'IDLE', 'CP_PROCESSING', 'CP_PENDING'] as const;
export const EVENTS_F = ['BROKEN', 'IO_REQ', 'INTERRUPT', 'ASYNC_REQ', 'OPEN', 'CLOSE'] as const;
export type StateF = (typeof STATES_F)[number];
export type EventF = (typeof EVENTS_F)[number];

/** §8.3. The spec's "nop" is fsm_nop: §8.4 keeps the C/D actions that it does not list. */
export const JUMPTABLE_F = {
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
} as const satisfies JumpTable<StateF, EventF>;

// ---------------------------------------------------------------------------------------------
// E: v6.0 … current (E0, E1, E2, G share it; §9.1, §10.1).

export const STATES_E = ['NOT_OPER', 'STANDBY', 'IDLE', 'CP_PROCESSING', 'CP_PENDING'] as const;
export const EVENTS_E = ['NOT_OPER', 'IO_REQ', 'INTERRUPT', 'ASYNC_REQ', 'OPEN', 'CLOSE'] as const;
export type StateE = (typeof STATES_E)[number];
export type EventE = (typeof EVENTS_E)[number];

/** §9.1. The spec's "nop" is fsm_nop (§10.2 lists the G action as fsm_nop). */
export const JUMPTABLE_E = {
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
} as const satisfies JumpTable<StateE, EventE>;

// ---------------------------------------------------------------------------------------------

export const FSM_A = {
  label: 'A',
  spec: '§4.2, §4.3',
  states: STATES_A,
  events: EVENTS_A,
  table: JUMPTABLE_A,
  notes: [
    'Numeric values of states and events are [inferred] from the cover-letter order.',
    'BOXED is the A-fsm snapshot\'s row; patch 9 "Suppressing the BOXED state" removes it. Its value (5) is our choice.',
    'Actions return the next state and the dispatcher assigns it (§4.4); fsm_quiescing can return a raw errno.',
    'The INTERRUPT event runs in the io_todo work item, not in IRQ context [inferred from patch 1].',
  ],
} as const satisfies FsmShape<StateA, EventA>;

export const FSM_B1 = {
  label: 'B1',
  spec: '§5.1, §5.2',
  states: STATES_B12,
  events: EVENTS_B,
  table: JUMPTABLE_B12,
  notes: ['Same enums and table as B2; the two differ in fsm_io_helper (§5.3.2).'],
} as const satisfies FsmShape<StateB12, EventB>;

export const FSM_B2 = {
  label: 'B2',
  spec: '§5.1, §5.2',
  states: STATES_B12,
  events: EVENTS_B,
  table: JUMPTABLE_B12,
  notes: ['Same enums and table as B1; the two differ in fsm_io_helper (§5.3.2).'],
} as const satisfies FsmShape<StateB12, EventB>;

export const FSM_B3 = {
  label: 'B3',
  spec: '§5.1, §5.2',
  states: STATES_B3,
  events: EVENTS_B,
  table: JUMPTABLE_B3,
  notes: ['BOXED merged into BUSY (v5.0): BUSY has the value 3.'],
} as const satisfies FsmShape<StateB3, EventB>;

export const FSM_C = {
  label: 'C',
  spec: '§6.1, §6.2',
  states: STATES_C,
  events: EVENTS_C,
  table: JUMPTABLE_C,
  notes: ['Shared by v5.2 … v5.19 (C, the v5.3 line, and D); the versions differ in handlers only.'],
} as const satisfies FsmShape<StateC, EventC>;

export const FSM_F = {
  label: 'F',
  spec: '§8.2, §8.3',
  states: STATES_F,
  events: EVENTS_F,
  table: JUMPTABLE_F,
  notes: ['NOT_OPER renamed BROKEN, STANDBY renamed CLOSED; fsm_notoper renamed fsm_broken (§8.1, §8.4).'],
} as const satisfies FsmShape<StateF, EventF>;

export const FSM_E = {
  label: 'E',
  spec: '§9.1, §10.1',
  states: STATES_E,
  events: EVENTS_E,
  table: JUMPTABLE_E,
  notes: ['Shared by v6.0 (E0), v6.1 (E1), v6.2 (E2) and current mainline (G).'],
} as const satisfies FsmShape<StateE, EventE>;

/** Every FSM model by label. Each entry keeps its own literal state and event types. */
export const FSM_TABLES = {
  A: FSM_A,
  B1: FSM_B1,
  B2: FSM_B2,
  B3: FSM_B3,
  C: FSM_C,
  F: FSM_F,
  E: FSM_E,
} as const satisfies { readonly [L in FsmLabel]: FsmShape & { readonly label: L } };

export type FsmTables = typeof FSM_TABLES;
export type StateOf<L extends FsmLabel> = FsmTables[L]['states'][number];
export type EventOf<L extends FsmLabel> = FsmTables[L]['events'][number];
