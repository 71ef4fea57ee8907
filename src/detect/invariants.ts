// Invariant oracles (spec/driver.md §16.2), checked online: a hook consumer that looks at the
// shared state at the point where the state an invariant relates changes. A violation is
// recorded as a WARN (code invariant) whose message starts with the invariant's id.
import { H, type HookFn, register_hook, WARN, Warn, mutex_owner, spin_owner } from '../kernel/index.ts';
import { scsw_is_final } from '../uapi/scsw.ts';
import type { VfioCcwPrivate } from '../driver/private.ts';
import { CP_HOST_BASE } from '../driver/cp.ts';

type Check = (p: VfioCcwPrivate, kind: number, site: string, actor: number, arg: number) => void;

/** A user's own invariant: checked wherever the device's state changes, on every actor. */
export interface UserInvariant {
  id: string;
  /** null when it holds; otherwise what is wrong */
  check(p: VfioCcwPrivate, site: string): string | null;
}

const user_invariants: UserInvariant[] = [];

/** Register an extra invariant (call it at the top level of your scenario module: every worker loads it). */
export function register_invariant(inv: UserInvariant): void {
  if (!user_invariants.some((u) => u.id === inv.id)) user_invariants.push(inv);
}

const fire = (p: VfioCcwPrivate, id: string, obj: number, msg: string): void => WARN(Warn.invariant, obj, `${id}: ${msg} (dev${p.dev}, ${p.drv.name})`);

function st(p: VfioCcwPrivate): number {
  return Atomics.load(p.v.state.a, p.v.state.i);
}
function cp_init_flag(p: VfioCcwPrivate): boolean {
  return Atomics.load(p.cp.v.initialized.a, p.cp.v.initialized.i) !== 0;
}
const raw = (f: { a: Int32Array; i: number }): number => Atomics.load(f.a, f.i);

/** The set of invariant ids the oracle checks for a variant. */
export const INVARIANTS = ['I1', 'I2', 'I3', 'I4', 'I5', 'I6', 'I7', 'I8', 'I12', 'I13', 'I15', 'I16', 'I17', 'I18', 'I21', 'I22'] as const;

export function start_invariants(devs: readonly VfioCcwPrivate[]): () => void {
  const on = new Map<number, [VfioCcwPrivate, Check]>();
  // The previous state value per device, as the oracle last saw it written.
  const last = new Map<number, number>();

  for (const p of devs) {
    const S = p.drv.S;
    const f = p.drv.f;
    last.set(p.dev, st(p));

    // I2: IDLE with an initialised cp while no IO_REQ handler runs; I8, I22 on every state write.
    const onState: Check = (q, kind, site) => {
      if (kind !== H.write && kind !== H.write_once) return;
      // The write has not happened yet (hooks run before the access): check right after it, in the next event.
      pendingState.set(q.dev, site);
    };
    on.set(p.v.state.id, [p, onState]);

    const onInit: Check = (q, kind, site) => {
      if (kind !== H.write) return;
      pendingInit.add(q.dev);
      // I3: the channel program is taken away (freed, or re-initialised) while the machine still
      // runs the start that was issued from it. The host address of a translated chain carries
      // the cp generation (cp_host_addr), so the machine's start_cpa names the program it runs.
      const hw = q.sch.hw;
      if (hw.get('present') !== 0 && hw.get('start_open') !== 0 && cp_init_flag(q)) {
        const running = (hw.get('start_cpa') >>> 16) & 0xff;
        if ((hw.get('start_cpa') >>> 0) >= CP_HOST_BASE && running === (raw(q.cp.v.generation) & 0xff)) {
          fire(q, 'I3', q.cp.v.initialized.id, `the channel program of generation ${raw(q.cp.v.generation)} is released at ${site} while the channel still runs its start`);
        }
      }
    };
    on.set(p.cp.v.initialized.id, [p, onInit]);

    // I7: chains or pinned pages no longer reachable from the cp.
    const onLeak: Check = (q, kind) => {
      if (kind === H.write) pendingLeak.add(q.dev);
    };
    on.set(p.cp.v.unreachable_pinned_pages.id, [p, onLeak]);
    on.set(p.cp.v.unreachable_chains.id, [p, onLeak]);

    // I1: region buffers modified only by the io_mutex holder (v5.2+).
    if (f.io_mutex) {
      const onRegion: Check = (q, kind, site, actor) => {
        if (kind !== H.write) return;
        const owner = mutex_owner(q.v.io_mutex);
        if (owner !== actor) fire(q, 'I1', q.v.io_region.id, `region written at ${site} by actor ${actor} while io_mutex is held by ${owner}`);
      };
      for (const r of [p.v.io_region, p.v.cmd_region, p.v.schib_region, p.v.crw_region]) on.set(r.id, [p, onRegion]);
    }

    // I18: the driver's shadow SCSW is updated only under sch->lock.
    const onSchib: Check = (q, kind, site, actor) => {
      if (kind !== H.write) return;
      if (spin_owner(q.sch.v.lock) !== actor) fire(q, 'I18', q.sch.v.schib.id, `sch->schib written at ${site} without sch->lock`);
    };
    on.set(p.sch.v.schib.id, [p, onSchib]);

    // I12: fsm_irq overwrites the IRB slot while it still holds an unprocessed final IRB.
    const onIrb: Check = (q, kind, site) => {
      if (kind === H.write && site === 'fsm_irq') {
        if (Atomics.load(q.v.o_irb_final_unread.a, q.v.o_irb_final_unread.i) !== 0) {
          fire(q, 'I12', q.v.irb.id, 'a final IRB in the single IRB slot was overwritten before io_todo copied it');
        }
        pendingIrb.add(q.dev);
      } else if (kind === H.read && site === 'vfio_ccw_sch_io_todo') {
        Atomics.store(q.v.o_irb_final_unread.a, q.v.o_irb_final_unread.i, 0);
      }
    };
    on.set(p.v.irb.id, [p, onIrb]);

    // I16: open-time resources set up once, not per FD.
    const onOnce: Check = (q, kind, site) => {
      if (kind === H.write) pendingOnce.set(q.dev, site);
    };
    on.set(p.v.notifier_registered.id, [p, onOnce]);
    on.set(p.v.region_sets.id, [p, onOnce]);

    // I13: io_trigger signalled for a completed START while the state is not yet IDLE.
    const onSignal: Check = (q, kind, site) => {
      if (kind === H.write && site === 'vfio_ccw_sch_io_todo') {
        // io_signals is bumped right after the signal: by then the state must be IDLE if this run freed the cp.
        if (Atomics.load(q.v.o_todo_freed.a, q.v.o_todo_freed.i) !== 0 && st(q) !== S.IDLE) {
          fire(q, 'I13', q.v.io_trigger.id, `io_trigger signalled for a completed start while the state is ${q.drv.shape.states[st(q)] ?? st(q)}`);
        }
      }
    };
    on.set(p.v.io_signals.id, [p, onSignal]);
  }

  const pendingState = new Map<number, string>();
  const pendingInit = new Set<number>();
  const pendingLeak = new Set<number>();
  const pendingIrb = new Set<number>();
  const pendingOnce = new Map<number, string>();
  const byDev = new Map(devs.map((p) => [p.dev, p]));

  const settle = (actor: number): void => {
    for (const [dev, site] of pendingState) {
      const p = byDev.get(dev)!;
      const S = p.drv.S;
      const now = st(p);
      const before = last.get(dev) ?? now;
      last.set(dev, now);
      if (now === S.IDLE && cp_init_flag(p) && raw(p.v.o_io_req_running) === 0) {
        fire(p, 'I2', p.v.state.id, `state set to IDLE at ${site} while the channel program is initialised (generation ${raw(p.cp.v.generation)})`);
      }
      if (p.drv.f.notoper_absorbing && before === p.drv.R.NOT_OPER && now !== p.drv.R.NOT_OPER && site !== 'vfio_ccw_private_init') {
        fire(p, 'I8', p.v.state.id, `NOT_OPER left for ${p.drv.shape.states[now]} at ${site}`);
      }
      if ((before === S.NOT_OPER || before === S.STANDBY) && now === S.IDLE && site === 'vfio_ccw_mdev_write_io_region') {
        fire(p, 'I8', p.v.state.id, `a user write moved ${p.drv.shape.states[before]} to IDLE`);
      }
      if (raw(p.v.mdev) === 0 && now !== S.STANDBY && now !== S.NOT_OPER && now !== S.CLOSED && now !== S.BROKEN) {
        fire(p, 'I22', p.v.state.id, `no mdev but state ${p.drv.shape.states[now]} (set at ${site})`);
      }
      for (const u of user_invariants) {
        const bad = u.check(p, site);
        if (bad !== null) fire(p, u.id, p.v.state.id, bad);
      }
    }
    pendingState.clear();
    for (const dev of pendingInit) {
      const p = byDev.get(dev)!;
      if (st(p) === p.drv.S.IDLE && cp_init_flag(p) && raw(p.v.o_io_req_running) === 0) {
        fire(p, 'I2', p.cp.v.initialized.id, 'channel program initialised while the state is IDLE and no IO_REQ runs');
      }
    }
    pendingInit.clear();
    for (const dev of pendingLeak) {
      const p = byDev.get(dev)!;
      const pages = raw(p.cp.v.unreachable_pinned_pages);
      const chains = raw(p.cp.v.unreachable_chains);
      if (pages !== 0 || chains !== 0) fire(p, 'I7', p.cp.v.unreachable_chains.id, `${chains} chain(s) and ${pages} pinned page(s) are no longer reachable from the cp`);
    }
    pendingLeak.clear();
    for (const dev of pendingIrb) {
      const p = byDev.get(dev)!;
      const w0 = p.v.irb.dv.getUint32(0) | 0;
      Atomics.store(p.v.o_irb_final_unread.a, p.v.o_irb_final_unread.i, scsw_is_final(w0) ? 1 : 0);
    }
    pendingIrb.clear();
    for (const [dev, site] of pendingOnce) {
      const p = byDev.get(dev)!;
      if (raw(p.v.notifier_registered) > 1 || raw(p.v.region_sets) > 1) {
        fire(p, 'I16', p.v.region_sets.id, `open-time resources set up again at ${site} (notifier ${raw(p.v.notifier_registered)}, region sets ${raw(p.v.region_sets)})`);
      }
    }
    pendingOnce.clear();
    void actor;
  };

  let pending = false;
  const fn: HookFn = (kind, obj, site, actor, arg) => {
    if (pending) {
      pending = false;
      settle(actor);
    }
    if (kind === H.fsm || kind === H.fsm_exit) {
      for (const p of devs) {
        if (obj !== p.v.state.id) continue;
        const ev = arg & 0xff;
        const state = arg >> 8;
        if (ev === p.drv.R.EV_IO_REQ) Atomics.add(p.v.o_io_req_running.a, p.v.o_io_req_running.i, kind === H.fsm ? 1 : -1);
        if (kind === H.fsm && ev === p.drv.E.CLOSE && state === p.drv.S.STANDBY) {
          fire(p, 'I17', obj, 'CLOSE delivered in STANDBY');
        }
        if (kind === H.fsm_exit) {
          pendingState.set(p.dev, 'vfio_ccw_fsm_event');
          pending = true;
        }
      }
      return;
    }
    const h = on.get(obj);
    if (h === undefined) return;
    h[1](h[0], kind, site, actor, arg);
    pending = true;
  };
  const off = register_hook(fn);
  return () => {
    if (pending) settle(-1);
    off();
  };
}
