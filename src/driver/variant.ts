// The driver at one kernel version: its state/event numbering, jump table and the per-version
// rules the handlers switch on. Built from the variant registry (data) plus the action table.
import type { FsmFunc } from './fsm.ts';

/** Every state name any version uses; a version that lacks one maps it to -1. */
export const STATE_NAMES = ['NOT_OPER', 'STANDBY', 'IDLE', 'BOXED', 'BUSY', 'CP_PROCESSING', 'CP_PENDING', 'QUIESCING', 'BROKEN', 'CLOSED'] as const;
export type StateName = (typeof STATE_NAMES)[number];
export const EVENT_NAMES = ['NOT_OPER', 'IO_REQ', 'INTERRUPT', 'ASYNC_REQ', 'OPEN', 'CLOSE', 'INIT', 'SSCH_REQ', 'SCHIB_CHANGED', 'ONLINE', 'OFFLINE', 'BROKEN'] as const;
export type EventName = (typeof EVENT_NAMES)[number];

export type IoTodoRule = 'A' | 'B-unconditional' | 'B3-final' | 'C52' | 'C53' | 'D' | 'E';

/** What the handlers switch on (spec §5–§13). */
export interface DriverFeatures {
  regions: 'io' | 'io+async' | 'io+async+schib+crw';
  irqs: 1 | 2 | 3;
  /** v5.2+: region index = offset >> 10 */
  offset_shift: boolean;
  io_mutex: boolean;
  io_todo: IoTodoRule;
  write_prefilter_eacces: boolean;
  write_resets_idle_on_error: boolean;
  err_out_sets_idle: boolean;
  tm_check: boolean;
  notoper_frees_cp: boolean;
  sch_event_rewrite: boolean;
  uuid_log_by_reference: boolean;
  reset: 'quiesce+enable' | 'close+open';
  open_close_fsm_events: boolean;
  per_fd_open: boolean;
  release_frees_cp: boolean;
  remove_resets: boolean;
  dma_unmap: 'notifier-exact' | 'callback-range';
  parent_split: boolean;
  avail_accounting: boolean;
  mdev_create_sets_idle: boolean;
}

export interface Driver {
  /** variant name, e.g. "mainline" */
  readonly name: string;
  readonly S: Readonly<Record<StateName, number>>;
  readonly E: Readonly<Record<EventName, number>>;
  readonly state_names: readonly string[];
  readonly event_names: readonly string[];
  /** jumptable[state][event] */
  readonly jumptable: readonly (readonly FsmFunc[])[];
  readonly f: DriverFeatures;
}
