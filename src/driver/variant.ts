// The driver at one kernel version: its state/event numbering, jump table (functions) and the
// per-version rules the handlers switch on. Built from the variant registry, which is data.
import { FSM_TABLES, type ActionName, type FsmName, type FsmShape } from './fsm_tables.ts';
import type { Variant } from '../variants/types.ts';
import { EVENT_NAMES, STATE_NAMES, type Driver, type DriverCode, type FsmFunc } from './private.ts';

export { EVENT_NAMES, STATE_NAMES, type Driver, type DriverFeatures, type EventName, type StateName } from './private.ts';

/** Per FSM label, actions that differ from the shared ones under the same name (A's return the next state). */
export type ActionOverrides = Readonly<Partial<Record<FsmName, Readonly<Partial<Record<ActionName, FsmFunc>>>>>>;

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
  return { name: v.name, shape, S, E, R, jumptable, f: v.features, code: { ...shared, ...v.code } };
}
