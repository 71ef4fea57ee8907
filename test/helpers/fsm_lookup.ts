// Lookups over an FSM shape by enum value, as vfio_ccw_fsm_event() indexes its jumptable; only
// the tests use them (the driver binds its states and events once, in src/driver/variant.ts).
// Names are checked against the shape's own literal types where the shape is typed.
import type { ActionName, FsmShape } from '../../src/driver/fsm_tables.ts';


/** The enum value of a state (its index in `shape.states`). Throws on an unknown name. */
export function state_value<S extends string, E extends string>(shape: FsmShape<S, E>, name: NoInfer<S>): number {
  const v = shape.states.indexOf(name);
  if (v < 0) throw new Error(`FSM ${shape.name}: no state ${name}`);
  return v;
}

/** The enum value of an event (its index in `shape.events`). Throws on an unknown name. */
export function event_value<S extends string, E extends string>(shape: FsmShape<S, E>, name: NoInfer<E>): number {
  const v = shape.events.indexOf(name);
  if (v < 0) throw new Error(`FSM ${shape.name}: no event ${name}`);
  return v;
}

/**
 * The name of state value `n`, or undefined when `n` is out of range. Out-of-range values are
 * reachable in A, where fsm_quiescing can return a negative errno as the next state.
 */
export function state_name<S extends string, E extends string>(shape: FsmShape<S, E>, n: number): S | undefined {
  return Number.isInteger(n) && n >= 0 ? shape.states[n] : undefined;
}

/** The name of event value `n`, or undefined when `n` is out of range. */
export function event_name<S extends string, E extends string>(shape: FsmShape<S, E>, n: number): E | undefined {
  return Number.isInteger(n) && n >= 0 ? shape.events[n] : undefined;
}

/**
 * `jumptable[state][event]` by enum values, as vfio_ccw_fsm_event() indexes it. Undefined when
 * either value is out of range (the kernel would index out of bounds).
 */
export function fsm_jump<S extends string, E extends string>(shape: FsmShape<S, E>, state: number, event: number): ActionName | undefined {
  const s = state_name(shape, state);
  const e = event_name(shape, event);
  if (s === undefined || e === undefined) return undefined;
  return shape.table[s][e];
}

/** `{ NAME: value }` for a name array, e.g. enum_values(STATES_V6_0).IDLE === 2. */
export function enum_values<N extends string>(names: readonly N[]): Readonly<Record<N, number>> {
  const out = {} as Record<N, number>;
  names.forEach((n, i) => {
    out[n] = i;
  });
  return Object.freeze(out);
}
