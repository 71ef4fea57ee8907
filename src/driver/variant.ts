// The driver at one kernel version: its state/event numbering, jump table (functions) and the
// per-version rules the handlers switch on. Built from the variant registry, which is data.
import { FSM_TABLES, type ActionName, type FsmLabel, type FsmShape } from './fsm_tables.ts';
import type { DriverCode, Variant, VariantFeatures } from '../variants/types.ts';
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
  /**
   * States and events by their role where a version renamed them, so shared code reads one
   * number: F's BROKEN/CLOSED for NOT_OPER/STANDBY (§8.1), A's SSCH_REQ for IO_REQ (§4.2).
   * Elsewhere these are the names themselves.
   */
  readonly R: Readonly<{ NOT_OPER: number; STANDBY: number; EV_NOT_OPER: number; EV_IO_REQ: number }>;
  /** jumptable[state][event] */
  readonly jumptable: readonly (readonly FsmFunc[])[];
  readonly f: DriverFeatures;
  /** functions picked once for this variant: its own replacement, else the shared one */
  readonly code: DriverCode;
}

/** Per FSM label, actions that differ from the shared ones under the same name (A's return the next state). */
export type ActionOverrides = Readonly<Partial<Record<FsmLabel, Readonly<Partial<Record<ActionName, FsmFunc>>>>>>;

function numbering<N extends string>(all: readonly N[], have: readonly string[]): Record<N, number> {
  const out = {} as Record<N, number>;
  for (const n of all) out[n] = have.indexOf(n);
  return out;
}

/**
 * Build a variant's driver: the table's action names resolved to functions, from `overrides`
 * for the variant's FSM label first (a version whose action differs under the same name), then
 * from the shared `actions`. Driver functions the variant replaces are taken from it, the rest
 * from `shared`.
 */
export function make_driver(v: Variant, actions: Readonly<Partial<Record<ActionName, FsmFunc>>>, overrides: ActionOverrides, shared: DriverCode): Driver {
  const shape = FSM_TABLES[v.fsm] as FsmShape;
  const S = numbering(STATE_NAMES, shape.states);
  const E = numbering(EVENT_NAMES, shape.events);
  const own = overrides[v.fsm] ?? {};
  const table = shape.table as Readonly<Record<string, Readonly<Record<string, ActionName>>>>;
  const jumptable = shape.states.map((s) =>
    shape.events.map((e) => {
      const name = table[s]?.[e];
      const fn = name === undefined ? undefined : (own[name] ?? actions[name]);
      if (fn === undefined) throw new Error(`variant ${v.name}: no implementation of ${String(name)} for ${s} x ${e}`);
      return fn;
    }),
  );
  const R = {
    NOT_OPER: S.NOT_OPER >= 0 ? S.NOT_OPER : S.BROKEN,
    STANDBY: S.STANDBY >= 0 ? S.STANDBY : S.CLOSED,
    EV_NOT_OPER: E.NOT_OPER >= 0 ? E.NOT_OPER : E.BROKEN,
    EV_IO_REQ: E.IO_REQ >= 0 ? E.IO_REQ : E.SSCH_REQ,
  };
  return { name: v.name, variant: v, shape, S, E, R, jumptable, f: v.features, code: { ...shared, ...v.code } };
}
