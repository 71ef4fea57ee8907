// Trace events in words: FSM states and events by name, lock and wait operations by the kernel
// call that made them, byte offsets into regions instead of packed numbers.
import { H, HookName } from '../kernel/hook.ts';
import { QUEUE_DISABLED } from '../kernel/workqueue.ts';
import { HwInstr } from '../hw/layout.ts';
import { FSM_TABLES, type FsmShape } from '../driver/fsm_tables.ts';
import { variant_by_name } from '../variants/registry.ts';
import type { TraceEvent } from '../trace/ring.ts';

const INSTR_NAME: Record<number, string> = Object.fromEntries(Object.entries(HwInstr).map(([k, v]) => [v, k]));

export interface FsmNames {
  states: readonly string[];
  events: readonly string[];
  /** action name per [state][event] */
  action(state: number, event: number): string | undefined;
}

/** The names of a variant's FSM states, events and actions (undefined for an unknown variant). */
export function fsm_names(variant: string): FsmNames | undefined {
  const v = variant_by_name(variant);
  if (v === undefined) return undefined;
  const shape = FSM_TABLES[v.fsm] as FsmShape;
  const table = shape.table as Readonly<Record<string, Readonly<Record<string, string>>>>;
  return {
    states: shape.states,
    events: shape.events,
    action: (s, e) => {
      const sn = shape.states[s];
      const en = shape.events[e];
      return sn === undefined || en === undefined ? undefined : table[sn]?.[en];
    },
  };
}

/** "state 2" or its name. */
export function fsm_state_name(n: FsmNames | undefined, s: number): string {
  return n?.states[s] ?? `state ${s}`;
}

/** A plain access's argument is its byte length, or offset << 16 | length inside a region. */
function at(obj: string, arg: number): string {
  const off = arg >>> 16;
  return off !== 0 ? `${obj}+${off}` : obj;
}

/** One trace event as a phrase, without its actor or function (the columns say those). */
export function describe_event(e: TraceEvent, obj: string, fsm: FsmNames | undefined): string {
  switch (e.kind) {
    case H.acquire:
      return `lock ${obj}`;
    case H.contended:
      return `waits for ${obj} (held)`;
    case H.acquired:
      return `holds ${obj}`;
    case H.release:
      return `unlock ${obj}`;
    case H.trylock_fail:
      return `trylock ${obj} failed`;
    case H.wait:
      return `waits on ${obj}`;
    case H.wake:
      return e.arg === 0 ? `wait on ${obj} timed out` : `woken on ${obj}`;
    case H.complete:
      return `complete ${obj}`;
    case H.queue:
      return e.arg === 0 ? `queue_work ${obj} (already pending)` : e.arg === QUEUE_DISABLED ? `queue_work ${obj} (disabled: being cancelled)` : `queue_work ${obj}`;
    case H.run:
      return `runs ${obj}`;
    case H.run_end:
      return `${obj} returns`;
    case H.signal:
      return `eventfd_signal ${obj}`;
    case H.read:
      return `read ${at(obj, e.arg)}`;
    case H.write:
      return `write ${at(obj, e.arg)}`;
    case H.read_once:
      return `READ_ONCE ${at(obj, e.arg)}`;
    case H.write_once:
      return `WRITE_ONCE ${at(obj, e.arg)}`;
    case H.irq_enter:
      return 'interrupt';
    case H.irq_exit:
      return 'interrupt returns';
    case H.flush:
      return `flush ${obj}`;
    case H.cancel:
      return `cancel ${obj}`;
    case H.warn:
      return `WARN ${e.site.split(':')[0] ?? ''} fires`;
    case H.fsm:
    case H.fsm_exit: {
      const s = e.arg >>> 8;
      const ev = e.arg & 0xff;
      const en = fsm?.events[ev] ?? `event ${ev}`;
      if (e.kind === H.fsm_exit) return `${en} handled`;
      const act = fsm?.action(s, ev);
      return `${en} in ${fsm_state_name(fsm, s)}${act !== undefined ? ` -> ${act}` : ''}`;
    }
    case H.mark: {
      const name = INSTR_NAME[e.arg >>> 8];
      return name !== undefined ? `${name} cc ${e.arg & 0xff}` : `mark ${obj}`;
    }
    case H.might_sleep:
      return 'might_sleep';
  }
  return `${HookName[e.kind] ?? e.kind} ${obj}`;
}
