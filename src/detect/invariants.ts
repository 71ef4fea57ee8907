// Invariant oracles, checked online (each I<n> is described where it is checked below): a hook
// consumer that looks at the shared state at the point where the state an invariant relates
// changes. A violation is recorded as a WARN (code invariant) whose message starts with the id.
import { H, type HookFn, register_hook, WARN, Warn, mutex_owner, peek, poke, spin_owner } from '../kernel/index.ts';
import { scsw_is_final } from '../uapi/scsw.ts';
import { LOG_RECORDS, type VfioCcwPrivate } from '../driver/private.ts';
import { SITES } from '../driver/sites.ts';
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
  return peek(p.v.state);
}
/**
 * Is the channel program live? v5.2+: cp->initialized. Before, the cp code keeps no flag: the
 * cp counts as live while chains hang on its list or pages are pinned there (what cp_free frees).
 */
function cp_init_flag(p: VfioCcwPrivate): boolean {
  const v = p.cp.v;
  if (p.cp.rules.has_initialized_flag) return peek(v.initialized) !== 0;
  return peek(v.list_valid) !== 0 && (peek(v.nchains) > 0 || peek(v.pinned_pages) > 0);
}
const name_of = (p: VfioCcwPrivate, s: number): string => p.drv.shape.states[s] ?? String(s);
/** The states in which the device owns an enabled subchannel (I9), in the version's own names. */
const ACTIVE_STATES = ['IDLE', 'CP_PROCESSING', 'CP_PENDING', 'BUSY', 'BOXED'] as const;

/** The set of invariant ids the oracle checks for a variant. */
export const INVARIANTS = ['I1', 'I2', 'I3', 'I4', 'I5', 'I6', 'I7', 'I8', 'I9', 'I12', 'I13', 'I14', 'I15', 'I16', 'I17', 'I18', 'I19', 'I21', 'I22'] as const;

/** One device set's oracle: its hook consumer, re-armed per run, and the settle its end owes. */
interface Oracle {
  fn: HookFn;
  arm(): void;
  finish(): void;
  active: boolean;
}

// Built once per thread and device set (the actors keep their system across runs), re-armed per
// run: the checks per field are fixed by the variant, and a hook consumer that stays the same
// function keeps its call sites monomorphic (and this builder out of the optimizer's queue).
const oracles = new WeakMap<readonly VfioCcwPrivate[], Oracle>();

export function start_invariants(devs: readonly VfioCcwPrivate[]): () => void {
  let o = oracles.get(devs);
  if (o === undefined || o.active) {
    o = build(devs);
    if (!oracles.has(devs)) oracles.set(devs, o);
  }
  const armed = o;
  armed.arm();
  armed.active = true;
  const off = register_hook(armed.fn);
  return () => {
    armed.finish();
    off();
    armed.active = false;
  };
}

function build(devs: readonly VfioCcwPrivate[]): Oracle {
  const on = new Map<number, [VfioCcwPrivate, Check]>();
  const io_work_of = new Map<number, VfioCcwPrivate>();
  // The actor running io_todo on this thread (the workqueue runs one item at a time).
  let todo_actor = -1;
  // That run wrote the state (io_todo writes only IDLE) before its signal.
  let todo_set_idle = false;
  const begin_todo = (q: VfioCcwPrivate, actor: number): void => {
    todo_actor = actor;
    todo_set_idle = false;
    poke(q.v.o_todo_freed, 0);
  };
  const pendingParent = new Set<number>();
  const pendingMdevGone = new Set<number>();

  // I3: the channel program is taken away (freed, or re-initialised) while the machine still
  // runs the start that was issued from it. The host address of a translated chain carries the
  // cp generation (cp_host_addr), so the machine's start_cpa names the program it runs.
  const i3_release = (q: VfioCcwPrivate, site: string): void => {
    const hw = q.sch.hw;
    if (hw.get('present') === 0 || hw.get('start_open') === 0) return;
    const running = (hw.get('start_cpa') >>> 16) & 0xff;
    if ((hw.get('start_cpa') >>> 0) >= CP_HOST_BASE && running === (peek(q.cp.v.generation) & 0xff)) {
      fire(q, 'I3', q.cp.v.initialized.id, `the channel program of generation ${peek(q.cp.v.generation)} is released at ${site} while the channel still runs its start`);
    }
  };
  // The previous state value per device, as the oracle last saw it written.
  const last = new Map<number, number>();
  // o_private_inits as this thread last saw it, per device
  const seenInits = new Map<number, number>();

  for (const p of devs) {
    const f = p.drv.f;

    // I2: IDLE with an initialised cp while no IO_REQ handler runs; I8, I22 on every state write.
    const onState: Check = (q, kind, site, actor) => {
      if (kind !== H.write && kind !== H.write_once) return;
      // a new private (kzalloc'd at a css probe after the device came back, or per mdev in v6.2+): tell every thread
      if (site === SITES.vfio_ccw_private_init) Atomics.add(q.sch.d.o_private_inits.a, q.sch.d.o_private_inits.i, 1);
      if (actor === todo_actor && site === SITES.vfio_ccw_sch_io_todo) todo_set_idle = true;
      // The write has not happened yet (hooks run before the access): check right after it, in the next event.
      pendingState.set(q.dev, site);
      recheck.delete(q.dev);
    };
    on.set(p.v.state.id, [p, onState]);

    const onInit: Check = (q, kind, site) => {
      if (kind !== H.write) return;
      pendingInit.add(q.dev);
      if (cp_init_flag(q)) i3_release(q, site);
    };
    on.set(p.cp.v.initialized.id, [p, onInit]);

    // Before v5.2 no flag is written: a cp_free or cp_init emptying a live list is the release
    // (I3), and building the list is what I2 watches.
    if (!p.cp.rules.has_initialized_flag) {
      const onList: Check = (q, kind, site) => {
        if (kind !== H.write) return;
        pendingInit.add(q.dev);
        if ((site === SITES.cp_free || site === SITES.cp_init) && peek(q.cp.v.nchains) > 0) i3_release(q, site);
      };
      on.set(p.cp.v.nchains.id, [p, onList]);
    }

    // cp_free's body ran (it writes pinned_pages = 0 exactly once, in every line): I4, I13.
    const onPinned: Check = (q, kind, site, actor) => {
      if (kind !== H.write) return;
      if (!q.cp.rules.has_initialized_flag) pendingInit.add(q.dev);
      if (site !== SITES.cp_free) return;
      if (actor === todo_actor) poke(q.v.o_todo_freed, 1);
      const s = st(q);
      const handler = peek(q.v.o_io_req_actor) - 1;
      if (s === q.drv.S.CP_PROCESSING) {
        const owner = handler >= 0 ? handler : peek(q.cp.v.owner);
        if (owner !== actor) fire(q, 'I4', q.cp.v.pinned_pages.id, `cp_free by actor ${actor} while the state is CP_PROCESSING and the cp belongs to actor ${owner}`);
      } else if (q.drv.S.CP_PROCESSING < 0 && handler >= 0 && handler !== actor) {
        // Before v5.2 BUSY covers translation and the running start: the owner translates while its IO_REQ runs.
        fire(q, 'I4', q.cp.v.pinned_pages.id, `cp_free by actor ${actor} while actor ${handler} builds the channel program in its IO_REQ handler`);
      }
    };
    on.set(p.cp.v.pinned_pages.id, [p, onPinned]);

    // I5: cp_init's first look at the cp (D+: initialized; before: the list head) finds it live.
    // cp_init reads with its caller's site; fsm_io_request reaches these fields only through it.
    const onInitEntry: Check = (q, kind, site) => {
      if (kind === H.read && site === SITES.fsm_io_request && cp_init_flag(q)) fire(q, 'I5', q.cp.v.initialized.id, `cp_init entered on a live channel program (generation ${peek(q.cp.v.generation)})`);
    };
    const initEntryField = p.cp.rules.init_busy_if_initialized ? p.cp.v.initialized : p.cp.v.list_valid;
    const prevInit = on.get(initEntryField.id);
    on.set(initEntryField.id, [p, prevInit === undefined ? onInitEntry : (q, k, s, a, x) => {
      prevInit[1](q, k, s, a, x);
      onInitEntry(q, k, s, a, x);
    }]);

    // I19: the mdev parent (and with it mdev create) is visible before probe finished the device.
    if (!f.parent_split) {
      const onParent: Check = (q, kind, site) => {
        if (kind === H.write && site === SITES.vfio_ccw_sch_probe) pendingParent.add(q.dev);
      };
      on.set(p.v.parent_registered.id, [p, onParent]);
    }

    // I15 (v5.4 … v5.19 log by reference): mdev remove frees the UUID a log record points at.
    const onMdev: Check = (q, kind, site) => {
      if (kind === H.write && site === SITES.vfio_ccw_mdev_remove) pendingMdevGone.add(q.dev);
    };
    on.set(p.v.mdev.id, [p, onMdev]);

    // I7: chains or pinned pages no longer reachable from the cp.
    const onLeak: Check = (q, kind) => {
      if (kind === H.write || kind === H.write_once) pendingLeak.add(q.dev);
    };
    on.set(p.cp.v.unreachable_pinned_pages.id, [p, onLeak]);
    on.set(p.cp.v.unreachable_chains.id, [p, onLeak]);

    // I1: region buffers modified only by the io_mutex holder (v5.2+).
    if (f.io_mutex) {
      const onRegion: Check = (q, kind, site, actor) => {
        // v6.2+ mdev probe: the .init op fills buffers the kernel has just allocated (the port reuses them)
        if (kind !== H.write || site === SITES.vfio_ccw_private_init) return;
        const owner = mutex_owner(q.v.io_mutex);
        if (owner !== actor) fire(q, 'I1', q.v.io_region.id, `region written at ${site} by actor ${actor} while io_mutex is held by ${owner}`);
      };
      for (const r of [p.v.io_region, p.v.cmd_region, p.v.schib_region, p.v.crw_region]) on.set(r.id, [p, onRegion]);
    } else {
      // Before v5.2 (only the I/O region): the user's copy stays in the region until its IO_REQ
      // has read it; io_todo's IRB copy in between is a second writer.
      const onRegion: Check = (q, kind, site, actor) => {
        if (kind !== H.write) return;
        const w = q.v.o_region_writer;
        const writer = peek(w) - 1;
        if (site === SITES.vfio_ccw_mdev_write_io_region && writer < 0) poke(w, actor + 1);
        else if (writer >= 0 && writer !== actor) fire(q, 'I1', q.v.io_region.id, `io_region written at ${site} by actor ${actor} while actor ${writer}'s request in it is not yet processed`);
      };
      on.set(p.v.io_region.id, [p, onRegion]);
    }

    // I18: the driver's shadow SCSW is updated only under sch->lock.
    const onSchib: Check = (q, kind, site, actor) => {
      // css_alloc_subchannel fills a struct subchannel no other CPU can reach yet (its lock is new too)
      if (kind !== H.write || site === SITES.css_alloc_subchannel) return;
      if (spin_owner(q.sch.v.lock) !== actor) fire(q, 'I18', q.sch.v.schib.id, `sch->schib written at ${site} without sch->lock`);
    };
    on.set(p.sch.v.schib.id, [p, onSchib]);

    // I12: fsm_irq overwrites the IRB slot while it still holds an unprocessed final IRB.
    const onIrb: Check = (q, kind, site, actor, arg) => {
      // io_todo's first look at the slot (scsw word 0) starts a run (direct calls have no H.run).
      if (kind === H.read && site === SITES.vfio_ccw_sch_io_todo && arg === 4) begin_todo(q, actor);
      if (kind === H.write && site === SITES.fsm_irq) {
        if (peek(q.v.o_irb_final_unread) !== 0) {
          fire(q, 'I12', q.v.irb.id, 'a final IRB in the single IRB slot was overwritten before io_todo copied it');
        }
        pendingIrb.add(q.dev);
      } else if (kind === H.read && site === SITES.vfio_ccw_sch_io_todo) {
        poke(q.v.o_irb_final_unread, 0);
      }
    };
    on.set(p.v.irb.id, [p, onIrb]);

    // I16: open-time resources set up once, not per FD.
    const onOnce: Check = (q, kind, site) => {
      if (kind === H.write) pendingOnce.set(q.dev, site);
    };
    on.set(p.v.notifier_registered.id, [p, onOnce]);
    on.set(p.v.region_sets.id, [p, onOnce]);

    // I13: io_trigger signalled for a completed START (this io_todo run freed its cp) while the
    // state is not IDLE. A run that set IDLE before its signal keeps it: by the time the signal is
    // counted another actor may already have left IDLE again, which the invariant allows.
    const onSignal: Check = (q, kind, site) => {
      if (kind === H.write_once && site === SITES.vfio_ccw_sch_io_todo) {
        // io_signals (atomic_inc) is bumped right after the signal.
        if (Atomics.exchange(q.v.o_todo_freed.a, q.v.o_todo_freed.i, 0) !== 0 && !todo_set_idle && st(q) !== q.drv.S.IDLE) {
          fire(q, 'I13', q.v.io_trigger.id, `io_trigger signalled for a completed start before io_todo set IDLE (state ${name_of(q, st(q))})`);
        }
      }
    };
    on.set(p.v.io_signals.id, [p, onSignal]);
    // io_todo begins: it owns whatever cp_free follows, until its signal.
    io_work_of.set(p.v.io_work.id, p);
  }

  const pendingState = new Map<number, string>();
  // Devices whose pending check is an event's end, not a state write. The end rechecks I2 (no
  // IO_REQ runs any more); I9 judges writes only: at another actor's event end the state may sit
  // inside a critical section (fsm_close disables the subchannel, then writes STANDBY, both under
  // sch->lock), which no state write of the kernel's left behind.
  const recheck = new Set<number>();
  const pendingInit = new Set<number>();
  const pendingLeak = new Set<number>();
  const pendingIrb = new Set<number>();
  const pendingOnce = new Map<number, string>();
  const byDev = new Map(devs.map((p) => [p.dev, p]));
  // I9's states in each device's variant, looked up once per run, not by name at every state change
  const activeOf = new Map(devs.map((p) => [p.dev, ACTIVE_STATES.map((n) => p.drv.S[n])]));

  // A settle's own WARNs are hook events too, on the very fields it watches (the state word): they
  // must not start a settle inside it, which would walk the same pending checks again and fire
  // again, without end once two checks fire (the stack ran out in whichever actor settled).
  let settling = false;
  const settle = (actor: number): void => {
    settling = true;
    try {
      settle_pending(actor);
    } finally {
      settling = false;
    }
  };
  const settle_pending = (actor: number): void => {
    // (iterating an empty collection still allocates its iterator: most settles find one or none)
    if (pendingState.size !== 0) for (const [dev, site] of pendingState) {
      const p = byDev.get(dev)!;
      const S = p.drv.S;
      const now = st(p);
      // another thread initialised a new private since this one last saw the state: its memory is of the old one
      const inits = peek(p.sch.d.o_private_inits);
      const fresh = inits !== (seenInits.get(dev) ?? inits);
      seenInits.set(dev, inits);
      const before = fresh ? now : (last.get(dev) ?? now);
      last.set(dev, now);
      if (now === S.IDLE && cp_init_flag(p) && peek(p.v.o_io_req_running) === 0) {
        fire(p, 'I2', p.v.state.id, `state set to IDLE at ${site} while the channel program is initialised (generation ${peek(p.cp.v.generation)})`);
      }
      if (p.drv.f.notoper_absorbing && before === p.drv.R.NOT_OPER && now !== p.drv.R.NOT_OPER && site !== SITES.vfio_ccw_private_init) {
        fire(p, 'I8', p.v.state.id, `NOT_OPER left for ${p.drv.shape.states[now]} at ${site}`);
      }
      if ((before === S.NOT_OPER || before === S.STANDBY) && now === S.IDLE && site === SITES.vfio_ccw_mdev_write_io_region) {
        fire(p, 'I8', p.v.state.id, `a user write moved ${p.drv.shape.states[before]} to IDLE`);
      }
      // I9: a state that owns the subchannel with the subchannel disabled (the machine's pmcw.ena).
      const active = activeOf.get(dev)!.includes(now);
      if (active && !recheck.has(dev) && p.sch.hw.get('present') !== 0 && p.sch.hw.get('enabled') === 0) {
        fire(p, 'I9', p.v.state.id, `state set to ${name_of(p, now)} at ${site} while the subchannel is disabled`);
      }
      if (peek(p.v.mdev) === 0 && now !== S.STANDBY && now !== S.NOT_OPER && now !== S.CLOSED && now !== S.BROKEN) {
        fire(p, 'I22', p.v.state.id, `no mdev but state ${p.drv.shape.states[now]} (set at ${site})`);
      }
      for (const u of user_invariants) {
        const bad = u.check(p, site);
        if (bad !== null) fire(p, u.id, p.v.state.id, bad);
      }
    }
    pendingState.clear();
    if (recheck.size !== 0) recheck.clear();
    if (pendingInit.size !== 0) for (const dev of pendingInit) {
      const p = byDev.get(dev)!;
      if (st(p) === p.drv.S.IDLE && cp_init_flag(p) && peek(p.v.o_io_req_running) === 0) {
        fire(p, 'I2', p.cp.v.initialized.id, 'channel program initialised while the state is IDLE and no IO_REQ runs');
      }
    }
    pendingInit.clear();
    if (pendingLeak.size !== 0) for (const dev of pendingLeak) {
      const p = byDev.get(dev)!;
      const pages = peek(p.cp.v.unreachable_pinned_pages);
      const chains = peek(p.cp.v.unreachable_chains);
      if (pages !== 0 || chains !== 0) fire(p, 'I7', p.cp.v.unreachable_chains.id, `${chains} chain(s) and ${pages} pinned page(s) are no longer reachable from the cp`);
    }
    pendingLeak.clear();
    if (pendingIrb.size !== 0) for (const dev of pendingIrb) {
      const p = byDev.get(dev)!;
      const w0 = p.v.irb.dv.getUint32(0) | 0;
      poke(p.v.o_irb_final_unread, scsw_is_final(w0) ? 1 : 0);
    }
    pendingIrb.clear();
    if (pendingOnce.size !== 0) for (const [dev, site] of pendingOnce) {
      const p = byDev.get(dev)!;
      if (peek(p.v.notifier_registered) > 1 || peek(p.v.region_sets) > 1) {
        fire(p, 'I16', p.v.region_sets.id, `open-time resources set up again at ${site} (notifier ${peek(p.v.notifier_registered)}, region sets ${peek(p.v.region_sets)})`);
      }
    }
    pendingOnce.clear();
    if (pendingParent.size !== 0) for (const dev of pendingParent) {
      const p = byDev.get(dev)!;
      const ready = st(p) === p.drv.R.STANDBY && (!p.drv.f.avail_accounting || peek(p.v.avail) > 0);
      if (!ready) fire(p, 'I19', p.v.parent_registered.id, `the mdev parent is registered while probe has not finished the device (state ${name_of(p, st(p))}, avail ${peek(p.v.avail)})`);
    }
    pendingParent.clear();
    if (pendingMdevGone.size !== 0) for (const dev of pendingMdevGone) {
      const p = byDev.get(dev)!;
      const n = Math.min(peek(p.v.log_count), LOG_RECORDS);
      let byRef = 0;
      for (let k = 0; k < n; k++) if (p.v.log.a[p.v.log.i + 2 * k] === 1) byRef++;
      if (peek(p.v.mdev) === 0 && byRef > 0) fire(p, 'I15', p.v.log.id, `${byRef} debug log record(s) still point at the UUID of the mdev just removed`);
    }
    pendingMdevGone.clear();
    void actor;
  };

  let pending = false;
  const fn: HookFn = (kind, obj, site, actor, arg) => {
    if (settling) return;
    if (pending) {
      pending = false;
      settle(actor);
    }
    if (kind === H.fsm || kind === H.fsm_exit) {
      for (const p of devs) {
        if (obj !== p.v.state.id) continue;
        const ev = arg & 0xff;
        const state = arg >> 8;
        if (ev === p.drv.R.EV_IO_REQ) {
          Atomics.add(p.v.o_io_req_running.a, p.v.o_io_req_running.i, kind === H.fsm ? 1 : -1);
          poke(p.v.o_io_req_actor, kind === H.fsm ? actor + 1 : 0);
          // The request has been read: the region is the user's no longer (I1 before io_mutex).
          if (kind === H.fsm_exit) Atomics.compareExchange(p.v.o_region_writer.a, p.v.o_region_writer.i, actor + 1, 0);
        }
        if (kind === H.fsm && ev === p.drv.E.CLOSE && state === p.drv.S.STANDBY) {
          fire(p, 'I17', obj, 'CLOSE delivered in STANDBY');
        }
        if (kind === H.fsm_exit) {
          if (!pendingState.has(p.dev)) {
            pendingState.set(p.dev, 'vfio_ccw_fsm_event');
            recheck.add(p.dev);
          }
          pending = true;
        }
      }
      return;
    }
    if (kind === H.run || kind === H.run_end) {
      const q = io_work_of.get(obj);
      if (q !== undefined) {
        if (kind === H.run) begin_todo(q, actor);
        else todo_actor = -1;
      }
      return;
    }
    const h = on.get(obj);
    if (h === undefined) return;
    h[1](h[0], kind, site, actor, arg);
    pending = true;
  };
  // A new run: the states as they are now, nothing pending, no io_todo running.
  const arm = (): void => {
    last.clear();
    for (const p of devs) last.set(p.dev, st(p));
    todo_actor = -1;
    todo_set_idle = false;
    pending = false;
    for (const c of [pendingState, recheck, pendingInit, pendingLeak, pendingIrb, pendingOnce, pendingParent, pendingMdevGone]) c.clear();
  };
  const finish = (): void => {
    if (pending) settle(-1);
  };
  return { fn, arm, finish, active: false };
}
