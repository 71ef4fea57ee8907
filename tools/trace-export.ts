// Chrome trace-event JSON (Perfetto and chrome://tracing open it): one track per actor; slices for
// FSM events, lock holds, lock waits, work items and interrupts; flow arrows for unlock -> acquire,
// complete -> wake, queue_work -> run and eventfd signal -> read.
import { H, HookName } from '../src/kernel/hook.ts';
import { objName } from '../src/kernel/layout.ts';
import type { TraceEvent } from '../src/trace/ring.ts';

export interface ChromeEvent {
  name: string;
  cat?: string;
  ph: 'X' | 'i' | 's' | 'f' | 'M';
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  id?: number;
  bp?: 'e';
  s?: 't';
  args?: Record<string, unknown>;
}

const ACTOR = (a: number): string => (a === 0 ? 'main' : a === 1 ? 'irq (CPU1)' : a === 2 ? 'todo (CPU2)' : `user${a - 3} (CPU${a})`);
const TICK = 0.001; // µs: endpoints of flows are tiny slices, so arrows bind to them

export function export_chrome_trace(events: readonly TraceEvent[]): { traceEvents: ChromeEvent[]; displayTimeUnit: 'ns'; metadata: Record<string, unknown> } {
  const out: ChromeEvent[] = [];
  if (events.length === 0) return { traceEvents: out, displayTimeUnit: 'ns', metadata: { source: 'vfio-ccw-sim' } };
  const t0 = Math.min(...events.map((e) => e.t));
  // Monotonic per actor: trace times come from different threads' clocks (same origin, µs resolution).
  const last = new Map<number, number>();
  const ts = (e: TraceEvent): number => {
    let t = (e.t - t0) * 1000;
    const prev = last.get(e.actor) ?? -1;
    if (t <= prev) t = prev + TICK * 2;
    last.set(e.actor, t);
    return t;
  };
  const actors = [...new Set(events.map((e) => e.actor))].sort((a, b) => a - b);
  for (const a of actors) out.push({ name: 'thread_name', ph: 'M', ts: 0, pid: 1, tid: a, args: { name: ACTOR(a) } });
  out.push({ name: 'process_name', ph: 'M', ts: 0, pid: 1, tid: 0, args: { name: 'vfio-ccw-sim' } });

  const open = new Map<string, { ts: number; name: string; cat: string; args?: Record<string, unknown> }>();
  const begin = (actor: number, key: string, t: number, name: string, cat: string, args?: Record<string, unknown>): void => {
    open.set(`${actor}/${key}`, { ts: t, name, cat, ...(args !== undefined ? { args } : {}) });
  };
  const end = (actor: number, key: string, t: number): void => {
    const o = open.get(`${actor}/${key}`);
    if (o === undefined) return;
    open.delete(`${actor}/${key}`);
    out.push({ name: o.name, cat: o.cat, ph: 'X', ts: o.ts, dur: Math.max(TICK, t - o.ts), pid: 1, tid: actor, ...(o.args !== undefined ? { args: o.args } : {}) });
  };
  let flowId = 1;
  const pendingFlow = new Map<string, number[]>(); // key -> flow ids waiting for their finish
  const flowStart = (key: string, actor: number, t: number, name: string): void => {
    const id = flowId++;
    out.push({ name, cat: 'flow', ph: 'X', ts: t, dur: TICK, pid: 1, tid: actor });
    out.push({ name, cat: 'flow', ph: 's', id, ts: t, pid: 1, tid: actor });
    const q = pendingFlow.get(key) ?? [];
    q.push(id);
    pendingFlow.set(key, q);
  };
  const flowEnd = (key: string, actor: number, t: number, name: string, all = false): void => {
    const q = pendingFlow.get(key);
    if (q === undefined || q.length === 0) return;
    const ids = all ? q.splice(0) : [q.shift()!];
    out.push({ name, cat: 'flow', ph: 'X', ts: t, dur: TICK, pid: 1, tid: actor });
    for (const id of ids) out.push({ name, cat: 'flow', ph: 'f', bp: 'e', id, ts: t, pid: 1, tid: actor });
  };

  for (const e of events) {
    const t = ts(e);
    const obj = objName(e.obj);
    switch (e.kind) {
      case H.fsm:
        begin(e.actor, `fsm${e.obj}`, t, `fsm event ${e.arg & 0xff} in state ${e.arg >> 8}`, 'fsm', { state: e.arg >> 8, event: e.arg & 0xff });
        break;
      case H.fsm_exit:
        end(e.actor, `fsm${e.obj}`, t);
        break;
      case H.contended:
        begin(e.actor, `wait${e.obj}`, t, `wait ${obj}`, 'lock-wait', { site: e.site });
        break;
      case H.acquired:
        end(e.actor, `wait${e.obj}`, t);
        flowEnd(`lock${e.obj}`, e.actor, t, `acquire ${obj}`);
        begin(e.actor, `hold${e.obj}`, t, `hold ${obj}`, 'lock-hold', { site: e.site });
        break;
      case H.release:
        end(e.actor, `hold${e.obj}`, t);
        pendingFlow.delete(`lock${e.obj}`); // only the latest release hands the lock on
        flowStart(`lock${e.obj}`, e.actor, t, `release ${obj}`);
        break;
      case H.complete:
        flowStart(`comp${e.obj}`, e.actor, t, `complete ${obj}`);
        break;
      case H.wait:
        begin(e.actor, `sleep${e.obj}`, t, `sleep on ${obj}`, 'wait', { site: e.site });
        break;
      case H.wake:
        end(e.actor, `sleep${e.obj}`, t);
        flowEnd(`comp${e.obj}`, e.actor, t, `woken ${obj}`, true);
        flowEnd(`efd${e.obj}`, e.actor, t, `read ${obj}`, true);
        break;
      case H.queue:
        if (e.arg === 1) flowStart(`work${e.obj}`, e.actor, t, `queue_work ${obj}`);
        break;
      case H.run:
        flowEnd(`work${e.obj}`, e.actor, t, `run ${obj}`);
        begin(e.actor, `run${e.obj}`, t, `work ${obj}`, 'work');
        break;
      case H.run_end:
        end(e.actor, `run${e.obj}`, t);
        break;
      case H.signal:
        flowStart(`efd${e.obj}`, e.actor, t, `eventfd_signal ${obj}`);
        break;
      case H.irq_enter:
        begin(e.actor, 'irq', t, 'hard IRQ', 'irq');
        break;
      case H.irq_exit:
        end(e.actor, 'irq', t);
        break;
      case H.warn:
        out.push({ name: e.site, cat: 'finding', ph: 'i', s: 't', ts: t, pid: 1, tid: e.actor });
        break;
      default:
        break;
    }
  }
  // Close whatever is still open at the end of the trace.
  const tEnd = Math.max(0, ...out.map((x) => x.ts + (x.dur ?? 0))) + TICK;
  for (const [k, o] of open) out.push({ name: o.name, cat: o.cat, ph: 'X', ts: o.ts, dur: Math.max(TICK, tEnd - o.ts), pid: 1, tid: Number(k.split('/')[0]) });
  return { traceEvents: out, displayTimeUnit: 'ns', metadata: { source: 'vfio-ccw-sim', events: events.length, kinds: Object.values(HookName).length } };
}
