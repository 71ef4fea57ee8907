// The driver at one kernel version: its state/event numbering, jump table (functions) and the
// per-version rules the handlers switch on. Built from the variant registry, which is data.
import { FSM_TABLES, type ActionName, type FsmShape } from './fsm_tables.ts';
import type { Variant, VariantFeatures } from '../variants/registry.ts';
import type { FsmFunc } from './fsm.ts';

/** Every state name any version uses; a version that lacks one maps it to -1. */
export const STATE_NAMES = ['NOT_OPER', 'STANDBY', 'IDLE', 'BOXED', 'BUSY', 'CP_PROCESSING', 'CP_PENDING', 'QUIESCING', 'BROKEN', 'CLOSED'] as const;
export type StateName = (typeof STATE_NAMES)[number];
export const EVENT_NAMES = ['NOT_OPER', 'IO_REQ', 'INTERRUPT', 'ASYNC_REQ', 'OPEN', 'CLOSE', 'INIT', 'SSCH_REQ', 'SCHIB_CHANGED', 'ONLINE', 'OFFLINE', 'BROKEN'] as const;
export type EventName = (typeof EVENT_NAMES)[number];

export type DriverFeatures = VariantFeatures;

export interface Driver {
  /** variant name, e.g. "mainline" */
  readonly name: string;
  readonly variant: Variant;
  readonly shape: FsmShape;
  readonly S: Readonly<Record<StateName, number>>;
  readonly E: Readonly<Record<EventName, number>>;
  /** jumptable[state][event] */
  readonly jumptable: readonly (readonly FsmFunc[])[];
  readonly f: DriverFeatures;
}

function numbering<N extends string>(all: readonly N[], have: readonly string[]): Record<N, number> {
  const out = {} as Record<N, number>;
  for (const n of all) out[n] = have.indexOf(n);
  return out;
}

/**
 * Build a variant's driver: the table's action names resolved to functions. `actions` may hold
 * per-variant overrides (a version whose action differs under the same name).
 */
export function make_driver(v: Variant, actions: Readonly<Partial<Record<ActionName, FsmFunc>>>): Driver {
  const shape = FSM_TABLES[v.fsm] as FsmShape;
  const S = numbering(STATE_NAMES, shape.states);
  const E = numbering(EVENT_NAMES, shape.events);
  const table = shape.table as Readonly<Record<string, Readonly<Record<string, ActionName>>>>;
  const jumptable = shape.states.map((s) =>
    shape.events.map((e) => {
      const name = table[s]?.[e];
      const fn = name === undefined ? undefined : actions[name];
      if (fn === undefined) throw new Error(`variant ${v.name}: no implementation of ${String(name)} for ${s} x ${e}`);
      return fn;
    }),
  );
  return { name: v.name, variant: v, shape, S, E, jumptable, f: v.features };
}
