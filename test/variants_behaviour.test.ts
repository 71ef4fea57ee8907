// Every variant of the registry, as a driver: its jump table as functions, and each per-version
// difference spec/driver.md states, shown by running the driver of both sides of the change on
// the test's own thread (test/helpers/g_rig.ts, no engine, no workers: the machine accepts
// instructions synchronously and an interrupt reaches the driver only when a test delivers it).
// A few real-worker runs through the Rig close the file.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ACTIONS_MOREL_2018, completion_at, driver_for, fsm_async_error, fsm_async_request, fsm_async_retry, fsm_broken, fsm_close, fsm_disabled_irq, fsm_io_busy,
  fsm_io_error, fsm_io_request, fsm_io_retry, fsm_irq, fsm_nop, fsm_notoper, fsm_open, vfio_ccw_fsm_event, type FsmFunc,
} from '../src/driver/fsm.ts';
import { crw_count } from '../src/driver/crw.ts';
import { vfio_ccw_chp_event, vfio_ccw_sch_event, vfio_ccw_sch_io_todo, vfio_ccw_sch_irq } from '../src/driver/drv.ts';
import {
  vfio_ccw_mdev_probe, vfio_ccw_mdev_remove, vfio_ccw_mdev_reset, vfio_device_get, vfio_device_open, vfio_device_release, vfio_put_device,
} from '../src/driver/ops.ts';
import type { StateName } from '../src/driver/variant.ts';
import {
  H, KernelBug, atomic_read, peek, complete, completion_done, eventfd_create, eventfd_stats, set_might_sleep_mode, spin_is_locked, spin_lock_irq,
  spin_unlock_irq, work_pending,
} from '../src/kernel/index.ts';
import { CHP_ONLINE, SCH_TODO_UNREG, css_register_driver, css_sched_sch_todo, css_unregister_driver, do_cio_interrupt } from '../src/cio/index.ts';
import { HwInstr, HwIrq, hw_lock, hw_unlock } from '../src/hw/layout.ts';
import { make_pending } from '../src/hw/status.ts';
import { private_of } from '../src/system/actors.ts';
import { Rig } from '../src/system/rig.ts';
import { bind_ops, VfioCcwClient } from '../src/client/index.ts';
import { irb_make } from '../src/uapi/irb.ts';
import { EACCES, EAGAIN, EBUSY, EINVAL, EIO, ENODEV, EOPNOTSUPP } from '../src/uapi/errno.ts';
import { make_orb } from '../src/client/guest.ts';
import { ORB_PFCH } from '../src/uapi/orb.ts';
import { make_device_info, make_irq_set_eventfd, make_region_info, read_device_info, read_region_caps } from '../src/uapi/ioctl.ts';
import {
  SCSW_ACTL_SCHACT, SCSW_FCTL_HALT_FUNC, SCSW_FCTL_START_FUNC, SCSW_STCTL_ALERT_STATUS, SCSW_STCTL_INTER_STATUS, SCSW_STCTL_PRIM_STATUS,
  SCSW_STCTL_SEC_STATUS, SCSW_STCTL_STATUS_PEND, scsw_word0,
} from '../src/uapi/scsw.ts';
import {
  IO_REGION_SIZE, VFIO_CCW_IO_IRQ_INDEX, VFIO_DEVICE_GET_INFO, VFIO_DEVICE_GET_REGION_INFO, VFIO_DEVICE_SET_IRQS, VFIO_REGION_SUBTYPE_CCW_ASYNC_CMD,
} from '../src/uapi/vfio_ccw.ts';
import { VARIANTS, VARIANT_NAMES, variant_by_name } from '../src/variants/registry.ts';
import { scenario as s2 } from '../src/scenarios/s02-dasd-read-loop.ts';
import { OFF_IO, end_rig, g_rig, io_region, start_accepted as start, with_io_mutex_held_elsewhere, hooked, writes_without_sch_lock, type GRig } from './helpers/g_rig.ts';
import { ORDER, SPEC } from './helpers/spec_tables.ts';

// No test may leave a kernel warning it did not take and check.
afterEach(() => {
  set_might_sleep_mode('bug');
  expect(end_rig()).toEqual([]);
});

const T = 'test';
const rig = (variant: string, opts: { open?: boolean } = {}): GRig => g_rig({ variant, ...opts });
const pinned = (r: GRig): number => atomic_read(r.gm.pages_pinned_total, T);
const unpinned = (r: GRig): number => atomic_read(r.gm.pages_unpinned_total, T);
const cpv = (r: GRig, f: 'nchains' | 'unreachable_chains' | 'unreachable_pinned_pages' | 'generation' | 'pinned_pages'): number => peek(r.p.cp.v[f]);
const raw_state = (r: GRig): number => peek(r.p.v.state);
const FINAL = scsw_word0({ fctl: SCSW_FCTL_START_FUNC, stctl: SCSW_STCTL_PRIM_STATUS | SCSW_STCTL_SEC_STATUS | SCSW_STCTL_STATUS_PEND });
const HALT_FINAL = scsw_word0({ fctl: SCSW_FCTL_HALT_FUNC, stctl: SCSW_STCTL_PRIM_STATUS | SCSW_STCTL_STATUS_PEND });
const UNSOLICITED = scsw_word0({ stctl: SCSW_STCTL_ALERT_STATUS | SCSW_STCTL_STATUS_PEND });
const INTERMEDIATE = scsw_word0({ fctl: SCSW_FCTL_START_FUNC, actl: SCSW_ACTL_SCHACT, stctl: SCSW_STCTL_INTER_STATUS | SCSW_STCTL_STATUS_PEND });
const irb = (w0: number): Uint8Array => irb_make({ w0, cpa: 0, dstat: 0x0c, cstat: 0, count: 0 });

/** io_work on the single IRB slot as fsm_irq left it. */
function io_todo_with(r: GRig, w0: number): void {
  r.p.v.irb.write(0, irb(w0), T);
  vfio_ccw_sch_io_todo(r.p);
}
/** The machine's side of an ending the test delivers itself (no engine runs here). */
function hw_idle(r: GRig): void {
  r.p.sch.hw.set('fctl', 0);
  r.p.sch.hw.set('actl', 0);
}
function force_cc(r: GRig, i: number, cc: number, n = 1): void {
  r.p.sch.hw.set_at('force_cc', i, cc);
  r.p.sch.hw.set_at('force_n', i, n);
}
/** Take the warnings of the rig and return their "name: message" lines. */
const warnings = (r: GRig): string[] => r.take_warnings();

// ---------------------------------------------------------------------------------------------
// 1. Every variant's jump table, as functions, against the spec's tables (test/helpers/spec_tables.ts).

/** The shared actions by kernel name (B … G). A's cells are its own functions under the same names. */
const SHARED: Readonly<Record<string, FsmFunc>> = {
  fsm_nop, fsm_io_error, fsm_disabled_irq, fsm_notoper, fsm_io_request, fsm_irq, fsm_io_busy, fsm_io_retry, fsm_async_error,
  fsm_async_retry, fsm_async_request, fsm_open, fsm_close, fsm_broken,
};

describe.each([...VARIANT_NAMES])('%s: the jump table as functions', (name) => {
  const drv = driver_for(name);
  const v = variant_by_name(name);
  if (v === undefined) throw new Error(`no variant ${name}`);
  const grid = SPEC[v.fsm];
  const order = ORDER[v.fsm];
  if (grid === undefined || order === undefined) throw new Error(`no spec table for ${v.fsm}`);

  it('numbers states and events in the spec enum order', () => {
    expect(order.states.map((s) => drv.S[s as StateName])).toEqual(order.states.map((_, i) => i));
    expect(drv.jumptable).toHaveLength(order.states.length);
    for (const row of drv.jumptable) expect(row).toHaveLength(order.events.length);
  });

  it('every cell is the function the spec names', () => {
    let cells = 0;
    for (const row of grid.rows) {
      grid.cols.forEach((ev, i) => {
        const fn = drv.jumptable[drv.S[row.state as StateName]]?.[order.events.indexOf(ev)];
        const want = row.cells[i] ?? '?';
        expect(fn?.name, `${row.state} x ${ev}`).toBe(want);
        if (v.fsm === 'morel-2018') {
          // A's actions return the next state: its own functions, never the shared ones.
          expect(fn, `${row.state} x ${ev}`).toBe(ACTIONS_MOREL_2018[want as keyof typeof ACTIONS_MOREL_2018]);
          if (SHARED[want] !== undefined) expect(fn).not.toBe(SHARED[want]);
        } else expect(fn, `${row.state} x ${ev}`).toBe(SHARED[want]);
        cells++;
      });
    }
    expect(cells).toBe(order.states.length * order.events.length);
  });
});

describe('what one change does, in one place', () => {
  it('v5.3 -> v5.13 is five switches; in io_todo only the IDLE condition', () => {
    const a = variant_by_name('v5.3')?.features;
    const b = variant_by_name('v5.13')?.features;
    if (a === undefined || b === undefined) throw new Error('registry');
    const changed = Object.keys(a).filter((k) => JSON.stringify(a[k as keyof typeof a]) !== JSON.stringify(b[k as keyof typeof b]));
    expect(changed.sort()).toEqual(['cp_rules', 'err_out_sets_idle', 'io_todo', 'per_fd_open', 'write_resets_idle_on_error']);
    const e = variant_by_name('v6.0')?.features.io_todo;
    expect(a.io_todo).toEqual({ ...b.io_todo, idle: 'mdev+final' });
    expect(b.io_todo).toEqual({ ...e, idle: 'mdev+freed' });
  });
});

// ---------------------------------------------------------------------------------------------
// 2. Regions and IRQs per version (vfio_ccw_mdev_ioctl: GET_INFO, GET_REGION_INFO, GET_IRQ_INFO).

describe('regions and IRQs a variant offers after open', () => {
  const expected: Record<string, [number, number]> = {
    'morel-2018': [1, 1], 'v4.12': [1, 1], 'v4.18': [1, 1], 'v5.0': [1, 1], 'v5.2': [2, 1], 'v5.3': [4, 3], 'v5.13': [4, 3],
    'gunthorpe-2021': [4, 3], 'v6.0': [4, 3], 'v6.1': [4, 3], 'v6.2': [4, 3], mainline: [4, 3],
  };
  it.each(Object.entries(expected))('%s: GET_INFO says %j (regions, irqs)', (name, [regions, irqs]) => {
    const r = rig(name);
    const info = make_device_info();
    expect(r.ioctl(VFIO_DEVICE_GET_INFO, info)).toBe(0);
    const d = read_device_info(info);
    expect([d.num_regions, d.num_irqs]).toEqual([regions, irqs]);
    const ri = make_region_info({ argsz: 48, index: 1 });
    if (regions === 1) {
      // No capability chain before v5.2: index 1 does not exist, and an offset is a position in the I/O region.
      expect(r.ioctl(VFIO_DEVICE_GET_REGION_INFO, ri)).toBe(-EINVAL);
      expect(r.read(0x400, 8)).toBe(-EINVAL);
      expect(r.read(4, 8)).toBe(8);
    } else {
      expect(r.ioctl(VFIO_DEVICE_GET_REGION_INFO, ri)).toBe(0);
      expect(read_region_caps(ri)[0]?.subtype).toBe(VFIO_REGION_SUBTYPE_CCW_ASYNC_CMD);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// 3. The request path: entry state, where ssch runs, the write pre-filter, the write's IDLE reset.

describe('fsm_io_request and fsm_io_helper per version', () => {
  const cases: [string, StateName, StateName, boolean][] = [
    // variant, state when cp_init runs, state when ssch is issued, sch->lock held at ssch
    ['v4.12', 'BOXED', 'BUSY', false],
    ['v4.18', 'BOXED', 'BUSY', true],
    ['v5.0', 'BUSY', 'BUSY', true],
    ['v5.2', 'CP_PROCESSING', 'CP_PROCESSING', true],
    ['mainline', 'CP_PROCESSING', 'CP_PROCESSING', true],
  ];
  it.each(cases)('%s: %s at cp_init, %s at ssch, sch->lock held at ssch: %s', (name, at_init, at_ssch, locked) => {
    const r = rig(name);
    const seen: { init?: number; ssch?: number; locked?: boolean } = {};
    hooked(
      (_k, _o, site) => {
        if (site === 'ccwchain_calc_length' && seen.init === undefined) seen.init = raw_state(r);
        if (site === 'ssch' && seen.ssch === undefined) {
          seen.ssch = raw_state(r);
          seen.locked = spin_is_locked(r.p.sch.v.lock);
        }
      },
      () => start(r),
    );
    expect(seen).toEqual({ init: r.S[at_init], ssch: r.S[at_ssch], locked });
    expect(r.state()).toBe(name === 'v5.2' || name === 'mainline' ? r.S.CP_PENDING : r.S.BUSY);
    // v4.12 issues ssch and updates the shadow SCSW outside sch->lock (seen.locked above). ioasm.c
    // and cio.c assert no lock, so no version warns: the unlocked shadow write is I18's to report.
    expect(warnings(r)).toEqual([]);
  });

  it('v4.12 … v5.1: a write while not IDLE is -EACCES before the copy (unlocked pre-check); v5.2: the FSM answers -EBUSY', () => {
    const b = rig('v5.0');
    start(b);
    const before = b.p.v.io_region.read(0, IO_REGION_SIZE, T);
    expect(b.write(OFF_IO, io_region({ ret_code: 7 }))).toBe(-EACCES);
    expect([...b.p.v.io_region.read(0, IO_REGION_SIZE, T)]).toEqual([...before]); // nothing copied in
    expect(b.state()).toBe(b.S.BUSY);
    const c = rig('v5.2');
    start(c);
    expect(c.write(OFF_IO, io_region())).toBe(-EBUSY);
  });

  it('v4.12 … v5.1 take no io_mutex: a write goes through while another actor holds it; v5.2+: -EAGAIN', () => {
    const b = rig('v5.0');
    expect(with_io_mutex_held_elsewhere(b, () => b.write(OFF_IO, io_region()))).toBe(IO_REGION_SIZE);
    const c = rig('v5.2');
    expect(with_io_mutex_held_elsewhere(c, () => c.write(OFF_IO, io_region()))).toBe(-EAGAIN);
  });

  it.each([
    ['v5.2', 'IDLE'],
    ['v5.3', 'IDLE'],
    ['v5.13', 'CP_PENDING'],
    ['mainline', 'CP_PENDING'],
  ] as const)('%s: a write in CP_PENDING is -EBUSY and leaves %s (the writer\'s IDLE reset, v5.2 … v5.12)', (name, after) => {
    const r = rig(name);
    start(r);
    expect(r.write(OFF_IO, io_region())).toBe(-EBUSY);
    expect(r.state()).toBe(r.S[after]);
    expect(r.cp_initialized()).toBe(1); // the running program stays: v5.3 now has IDLE with a live cp (I2)
  });

  it.each([
    ['v5.0', -EOPNOTSUPP],
    ['v5.2', -EOPNOTSUPP],
    ['v5.3', IO_REGION_SIZE],
    ['mainline', IO_REGION_SIZE],
  ] as const)('%s: an ORB without pfch answers %i (rejected until the ≈v5.7 relaxation; v5.3 models v5.12)', (name, rc) => {
    const r = rig(name);
    const orb = make_orb(0x1000);
    expect(r.write(OFF_IO, io_region({ orb: { ...orb, flags: orb.flags & ~ORB_PFCH } }))).toBe(rc);
  });

  it('v5.2 … v5.12: a failed request stays CP_PROCESSING inside the FSM; the writer resets IDLE afterwards', () => {
    const r = rig('v5.3');
    const during: number[] = [];
    hooked(
      (k, obj) => {
        if (k === H.fsm_exit && obj === r.p.v.state.id) during.push(raw_state(r));
      },
      () => expect(r.write(OFF_IO, io_region({ orb: { intparm: 0, flags: 0x0080ff00, cpa: 0x7ff000 } }))).toBeLessThan(0),
    );
    expect(during).toEqual([r.S.CP_PROCESSING]);
    expect(r.state()).toBe(r.S.IDLE);
  });
});

// ---------------------------------------------------------------------------------------------
// 4. vfio_ccw_sch_io_todo per version.

describe('io_todo: freeing the cp and resetting IDLE', () => {
  it('B (v4.18): an intermediate solicited interrupt frees the running program and sets IDLE; v5.0 waits for the final one', () => {
    const b = rig('v4.18');
    start(b);
    expect([cpv(b, 'nchains'), pinned(b)]).toEqual([1, 1]);
    io_todo_with(b, INTERMEDIATE);
    // The channel still runs the program whose pages were just unpinned.
    expect([cpv(b, 'nchains'), unpinned(b), b.state(), b.p.sch.hw.get('fctl')]).toEqual([0, 1, b.S.IDLE, SCSW_FCTL_START_FUNC]);
    const b3 = rig('v5.0');
    start(b3);
    io_todo_with(b3, INTERMEDIATE);
    expect([cpv(b3, 'nchains'), unpinned(b3), b3.state()]).toEqual([1, 0, b3.S.BUSY]);
    io_todo_with(b3, FINAL);
    expect([cpv(b3, 'nchains'), unpinned(b3), b3.state()]).toEqual([0, 1, b3.S.IDLE]);
  });

  it.each([
    ['v5.3', 'IDLE'],
    ['v5.13', 'CP_PROCESSING'],
    ['mainline', 'CP_PROCESSING'],
  ] as const)('%s: a final halt interrupt while a new request is in CP_PROCESSING leaves %s', (name, after) => {
    const r = rig(name);
    start(r);
    r.p.v.state.set(r.S.CP_PROCESSING, T); // the next request is being translated (io_mutex holder)
    io_todo_with(r, HALT_FINAL);
    expect([r.state(), r.cp_initialized()]).toEqual([r.S[after], 1]);
  });

  it.each([
    ['v5.3', 'IDLE'],
    ['v5.13', 'CP_PENDING'],
  ] as const)('%s: an unsolicited (final) interrupt in CP_PENDING leaves %s; the cp is not freed', (name, after) => {
    const r = rig(name);
    start(r);
    io_todo_with(r, UNSOLICITED);
    expect([r.state(), r.cp_initialized(), unpinned(r)]).toEqual([r.S[after], 1, 0]);
  });

  it('v5.2 signals the eventfd before IDLE; v5.3 (M-C4) sets IDLE first (I13)', () => {
    for (const [name, at_signal] of [['v5.2', 'CP_PENDING'], ['v5.3', 'IDLE']] as const) {
      const r = rig(name);
      const fd = eventfd_create(r.g);
      expect(r.ioctl(VFIO_DEVICE_SET_IRQS, make_irq_set_eventfd(VFIO_CCW_IO_IRQ_INDEX, fd))).toBe(0);
      start(r);
      let seen = -1;
      hooked(
        (k) => {
          if (k === H.signal) seen = raw_state(r);
        },
        () => io_todo_with(r, FINAL),
      );
      expect([name, seen, r.state()]).toEqual([name, r.S[at_signal], r.S.IDLE]);
      expect(eventfd_stats(r.g, fd).signals).toBe(1);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// 5. cp_init on an initialised channel program (I5, I7).

describe('cp_init on an initialised cp', () => {
  it('v5.3: an unsolicited final leaves IDLE with the cp initialised; the next start cuts the old chain off (I7)', () => {
    const r = rig('v5.3');
    start(r);
    const gen = cpv(r, 'generation');
    io_todo_with(r, UNSOLICITED); // C53: IDLE on any final, nothing freed
    hw_idle(r);
    start(r);
    expect([cpv(r, 'generation'), cpv(r, 'unreachable_chains'), cpv(r, 'unreachable_pinned_pages')]).toEqual([gen + 1, 1, 1]);
    expect(pinned(r) - unpinned(r)).toBe(2); // the old page stays pinned with nothing pointing at it
  });

  it('B (v4.18): an unsolicited interrupt sets IDLE too, and the next cp_init re-initialises the list (I7)', () => {
    const r = rig('v4.18');
    start(r);
    io_todo_with(r, UNSOLICITED);
    expect([r.state(), cpv(r, 'nchains')]).toEqual([r.S.IDLE, 1]);
    hw_idle(r);
    start(r);
    expect([cpv(r, 'unreachable_chains'), cpv(r, 'unreachable_pinned_pages')]).toEqual([1, 1]);
  });

  it('v5.13: cp_init answers -EBUSY; err_out sets IDLE and nothing leaks', () => {
    const r = rig('v5.13');
    start(r);
    const gen = cpv(r, 'generation');
    r.p.v.state.set(r.S.IDLE, T); // the window D closes: IDLE while the cp is still initialised
    expect(r.write(OFF_IO, io_region())).toBe(-EBUSY);
    expect([r.state(), r.cp_initialized(), cpv(r, 'generation'), cpv(r, 'unreachable_chains'), cpv(r, 'unreachable_pinned_pages')]).toEqual([r.S.IDLE, 1, gen, 0, 0]);
  });
});

// ---------------------------------------------------------------------------------------------
// 6. NOT_OPER: rewritten by sch_event up to v5.19, a dead end from v6.0 (vfio_ccw_sch_event, fsm_notoper; I8).

describe('NOT_OPER', () => {
  it('v5.13: a reset of a gone device leaves NOT_OPER; when it answers again, sch_event rewrites IDLE', () => {
    const r = rig('v5.13');
    r.p.sch.hw.set('present', 0);
    expect(vfio_ccw_mdev_reset(r.p)).toBe(-ENODEV); // quiesce: the disable fails, NOT_OPER
    expect(r.state()).toBe(r.S.NOT_OPER);
    r.p.sch.hw.set('present', 1);
    expect(vfio_ccw_sch_event(r.p, r.p.sch)).toBe(0);
    expect(r.state()).toBe(r.S.IDLE);
  });

  it.each(['v6.0', 'mainline'])('%s: NOT_OPER absorbs: sch_event, RESET, open and a write do not leave it', (name) => {
    const r = rig(name, { open: false });
    r.p.v.state.set(r.S.NOT_OPER, T);
    expect(vfio_ccw_sch_event(r.p, r.p.sch)).toBe(0);
    expect(r.state()).toBe(r.S.NOT_OPER);
    expect(vfio_device_open(r.p)).toBe(-EINVAL);
    expect(vfio_ccw_mdev_reset(r.p)).toBe(-EINVAL);
    expect(r.write(OFF_IO, io_region())).toBe(-EIO);
    expect(r.state()).toBe(r.S.NOT_OPER);
  });

  it('v5.13 rewrites NOT_OPER to STANDBY without an mdev; before v5.2 a busy sch_event answers 0, later -EAGAIN', () => {
    const r = rig('v5.13', { open: false });
    vfio_ccw_mdev_remove(r.p);
    r.p.v.state.set(r.S.NOT_OPER, T);
    expect(vfio_ccw_sch_event(r.p, r.p.sch)).toBe(0);
    expect(r.state()).toBe(r.S.STANDBY);
    // busy: the unregistration is queued on cio_work_q (work_pending(&sch->todo_work))
    const sched_unreg = (sch: typeof r.p.sch): void => {
      spin_lock_irq(sch.v.lock, T);
      css_sched_sch_todo(sch, SCH_TODO_UNREG);
      spin_unlock_irq(sch.v.lock, T);
    };
    sched_unreg(r.p.sch);
    expect(vfio_ccw_sch_event(r.p, r.p.sch)).toBe(-EAGAIN);
    const b = rig('v4.12');
    sched_unreg(b.p.sch);
    expect(vfio_ccw_sch_event(b.p, b.p.sch)).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------
// 7. Open and close: per FD before v5.15, first/last from v5.15 (I16).

describe('open per FD (≤ v5.14) and open_device (v5.15+)', () => {
  it.each([
    ['v4.12', 2, 0, 0],
    ['v5.3', 2, 2, 6],
    ['v5.13', 1, 1, 3],
    ['gunthorpe-2021', 1, 1, 3],
    ['mainline', 0, 1, 3],
  ] as const)('%s: two opens register the notifier %i time(s), the regions %i time(s) (%i regions)', (name, notifier, sets, regions) => {
    const r = rig(name); // the first open
    expect(vfio_device_open(r.p)).toBe(0);
    expect([r.p.v.notifier_registered.get(T), r.p.v.region_sets.get(T), r.p.v.num_regions.get(T)]).toEqual([notifier, sets, regions]);
    const unlocked = writes_without_sch_lock(r, r.p.sch.v.schib.id, () => {
      vfio_device_release(r.p);
      vfio_device_release(r.p);
    });
    expect([r.p.v.notifier_registered.get(T), r.p.v.num_regions.get(T)]).toEqual([0, 0]);
    // v5.2 … v5.19 reset an active device at release (v5.3 at the first, which leaves STANDBY
    // under the other FD; v5.13 at the last) and enable without sch->lock: a real unlocked
    // write to sch->schib, and no lockdep warning (cio.c asserts nothing).
    const resets = name === 'v5.3' || name === 'v5.13' ? 1 : 0;
    expect(unlocked.includes('cio_enable_subchannel')).toBe(resets > 0);
    expect(warnings(r)).toEqual([]);
  });

  it('v5.3: closing one of two FDs frees the program the other FD started and leaves STANDBY under it', () => {
    const r = rig('v5.3');
    expect(vfio_device_open(r.p)).toBe(0);
    start(r);
    expect(writes_without_sch_lock(r, r.p.sch.v.schib.id, () => vfio_device_release(r.p))).toContain('cio_enable_subchannel');
    expect([r.cp_initialized(), r.state(), r.p.v.open_count.get(T)]).toEqual([0, r.S.STANDBY, 1]);
    expect(r.write(OFF_IO, io_region())).toBe(-EIO); // the FD still open cannot start any more
    expect(warnings(r)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// 8. Quiesce: vfio_ccw_sch_quiesce: B's flush_workqueue under sch->lock (M-B2), C's outside it.

describe('quiesce', () => {
  /** A reset with a start the channel has begun: cancel is not applicable, halt is accepted, the halt's interrupt arrives. */
  function reset_with_halt(r: GRig): number {
    start(r);
    force_cc(r, HwInstr.xsch, 2); // the start has begun: xsch not applicable
    const comp = r.p.v.completion;
    return hooked(
      (k, obj) => {
        const c = Atomics.load(comp.a, comp.i);
        if (k !== H.wait || c === 0 || obj !== c) return;
        // The halt's interrupt: the machine is idle again, and fsm_irq completes the waiter (its
        // io_work is left out: no worker runs here, and the flush would wait for it for ever).
        hw_idle(r);
        force_cc(r, HwInstr.xsch, 0);
        complete(completion_at(r.p, c), T);
      },
      () => vfio_ccw_mdev_reset(r.p),
    );
  }

  // v4.18 vfio_ccw_drv.c, vfio_ccw_sch_quiesce: `spin_lock_irq(sch->lock); private->completion = NULL;
  // flush_workqueue(vfio_ccw_work_q);` inside `while (ret == -EBUSY)`: the one spinlock held is
  // sch->lock, taken by the quiesce itself (every v4.18 fuzz run reports it; on the known list).
  it.each(['v4.12', 'v4.18', 'v5.0'])('B (%s): the reset quiesces with flush_workqueue under sch->lock: a sleep in atomic context, then IDLE', (variant) => {
    set_might_sleep_mode('warn');
    const r = rig(variant);
    expect(reset_with_halt(r)).toBe(0);
    expect(r.state()).toBe(r.S.IDLE);
    expect(r.p.sch.hw.at('n_instr', HwInstr.hsch)).toBe(1);
    const w = warnings(r);
    expect(w.filter((x) => x.startsWith('sleep_in_atomic:'))).toEqual([
      'sleep_in_atomic: BUG: sleeping function called from invalid context at vfio_ccw_sch_quiesce (vfio-ccw.lock) with 1 spinlock(s) held',
    ]);
    expect(w.filter((x) => !x.startsWith('sleep_in_atomic:'))).toEqual([]);
    expect(cpv(r, 'nchains')).toBe(1); // vfio_ccw_mdev_reset does not free the cp
  });

  // M-B3 ("vfio-ccw: Prevent quiesce function going into an infinite loop", v5.2): after each
  // wait the v4.12 … v5.1 loop calls cio_cancel_halt_clear again, which starts over with cancel
  // (not applicable once the halt is done, so *iretry = 3 again) and halts the idle subchannel
  // again: a device that answers every halt keeps it going. v5.2 tries the disable after the wait.
  // The fault-rate sweep's free-run hang on v4.12 was this loop (its known 'hang livelock').
  //   CPU 1 (reset -> quiesce)                  the halt's interrupt (at each wait)
  //   hsch cc 0; wait                           idle; fsm_irq: complete()
  //   flush; xsch cc 2; hsch cc 0; wait         idle; complete()   ... (until the test stops it)
  it.each([['v4.12', 20], ['v4.18', 20], ['v5.2', 1]] as const)('%s: a device that answers every halt: the reset\'s quiesce halts %i time(s)', (variant, halts) => {
    set_might_sleep_mode('warn');
    const r = rig(variant);
    start(r);
    force_cc(r, HwInstr.xsch, 2); // the start has begun: xsch not applicable
    const comp = r.p.v.completion;
    let waits = 0;
    const ret = hooked(
      (k, obj) => {
        const c = Atomics.load(comp.a, comp.i);
        if (k !== H.wait || c === 0 || obj !== c) return;
        hw_idle(r);
        // the 20th round: the test ends the loop (xsch finds a start to withdraw: cancel returns 0)
        if (++waits === 20) force_cc(r, HwInstr.xsch, 0);
        complete(completion_at(r.p, c), T);
      },
      () => vfio_ccw_mdev_reset(r.p),
    );
    expect(ret).toBe(0);
    expect(r.p.sch.hw.at('n_instr', HwInstr.hsch)).toBe(halts);
    warnings(r);
  });

  it('C (v5.2): the same reset flushes outside sch->lock: no sleep in atomic context', () => {
    const r = rig('v5.2');
    expect(reset_with_halt(r)).toBe(0);
    expect(r.state()).toBe(r.S.IDLE);
    expect(warnings(r)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// 9. The lifecycle of E: release completion (v6.1), per-mdev private (v6.2).

describe('v6.1 release completion and v6.2 parent split', () => {
  it('v6.1: mdev remove waits on release_comp until the last other reference to the vfio_device is put', () => {
    const r = rig('v6.1', { open: false });
    vfio_device_get(r.p); // e.g. a sysfs reader still holds the device
    const log: string[] = [];
    hooked(
      (k, obj) => {
        if (obj !== r.p.v.release_comp.id) return;
        if (k === H.wait) {
          log.push(`wait done=${String(completion_done(r.p.v.release_comp))} refs=${atomic_read(r.p.v.vdev_refs, T)}`);
          vfio_put_device(r.p); // the other holder lets go while remove waits
        } else if (k === H.complete) log.push('complete');
        else if (k === H.wake) log.push('woken');
      },
      () => vfio_ccw_mdev_remove(r.p),
    );
    expect(log).toEqual(['wait done=false refs=1', 'complete', 'woken']);
    expect([atomic_read(r.p.v.vdev_refs, T), r.p.v.mdev.get(T)]).toEqual([0, 0]);
  });

  it('v6.0 and v6.2 do not wait: remove returns with the other reference still held', () => {
    for (const name of ['v6.0', 'v6.2']) {
      const r = rig(name, { open: false });
      vfio_device_get(r.p);
      let waited = false;
      hooked(
        (k) => {
          if (k === H.wait) waited = true;
        },
        () => vfio_ccw_mdev_remove(r.p),
      );
      expect([name, waited, atomic_read(r.p.v.vdev_refs, T)]).toEqual([name, false, 1]);
    }
  });

  it('v6.1: private outlives the mdev (a dead device stays dead); v6.2: a new mdev gets a fresh STANDBY private', () => {
    for (const [name, rc, state] of [['v6.1', -ENODEV, 'NOT_OPER'], ['v6.2', 0, 'STANDBY']] as const) {
      const r = rig(name, { open: false });
      r.p.v.state.set(r.S.NOT_OPER, T);
      vfio_ccw_mdev_remove(r.p);
      expect([name, vfio_ccw_mdev_probe(r.p), r.state()]).toEqual([name, rc, r.S[state]]);
    }
  });

  it('v6.2: an interrupt with no mdev finds no private: the subchannel is disabled, no FSM event; v6.1 still runs the FSM', () => {
    for (const [name, has_private, irqs] of [['v6.2', false, 0], ['v6.1', true, 1]] as const) {
      const r = rig(name, { open: false });
      vfio_ccw_mdev_remove(r.p);
      const p = private_of(r.sys, r.p.sch);
      expect(p !== null).toBe(has_private);
      css_register_driver({ irq: (sch) => vfio_ccw_sch_irq(p, sch), sch_event: () => 0, chp_event: () => 0 });
      try {
        // An unsolicited status on a subchannel left enabled.
        r.p.sch.hw.set('enabled', 1);
        hw_lock(r.p.sch.hw);
        make_pending(r.p.sch.hw, HwIrq.unsolicited, { stctl: SCSW_STCTL_ALERT_STATUS, cpa: 0, dstat: 0, cstat: 0, count: 0 });
        hw_unlock(r.p.sch.hw);
        const events: number[] = [];
        hooked(
          (k, _o, _s, _a, arg) => {
            if (k === H.fsm) events.push(arg & 0xff);
          },
          () => do_cio_interrupt(r.p.sch),
        );
        expect([name, r.p.sch.hw.get('enabled'), events, atomic_read(r.p.v.irqs, T)]).toEqual([name, 0, has_private ? [r.E.INTERRUPT] : [], irqs]);
      } finally {
        css_unregister_driver();
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------
// 10. F: BROKEN/CLOSED (Jason Gunthorpe's 2021 series).

describe('gunthorpe-2021 (F)', () => {
  it('probe leaves CLOSED with the subchannel disabled; open enables (IDLE), close disables (CLOSED) and frees the cp', () => {
    const r = rig('gunthorpe-2021', { open: false });
    expect([r.state(), r.p.sch.hw.get('enabled')]).toEqual([r.S.CLOSED, 0]);
    expect(vfio_device_open(r.p)).toBe(0);
    expect([r.state(), r.p.sch.hw.get('enabled'), r.p.v.notifier_registered.get(T)]).toEqual([r.S.IDLE, 1, 1]);
    start(r);
    vfio_device_release(r.p);
    expect([r.state(), r.p.sch.hw.get('enabled'), r.cp_initialized(), r.p.v.notifier_registered.get(T)]).toEqual([r.S.CLOSED, 0, 0, 0]);
  });

  it('an enable failing in fsm_open writes BROKEN under sch->lock (no unregistration); E goes through fsm_notoper', () => {
    const f = rig('gunthorpe-2021', { open: false });
    f.p.sch.hw.set('present', 0);
    expect(vfio_device_open(f.p)).toBe(-EINVAL);
    expect([f.state(), f.p.sch.v.todo.get(T), f.p.v.notifier_registered.get(T)]).toEqual([f.S.BROKEN, 0, 0]);
    const e = rig('mainline', { open: false });
    e.p.sch.hw.set('present', 0);
    expect(vfio_device_open(e.p)).toBe(-EINVAL);
    expect([e.state(), e.p.sch.v.todo.get(T)]).toEqual([e.S.NOT_OPER, SCH_TODO_UNREG]);
    expect(warnings(e)).toEqual([]);
  });

  it('mdev probe does not refuse a BROKEN device (v6.0 refuses NOT_OPER with -ENODEV)', () => {
    const f = rig('gunthorpe-2021', { open: false });
    vfio_ccw_mdev_remove(f.p);
    f.p.v.state.set(f.S.BROKEN, T);
    expect(vfio_ccw_mdev_probe(f.p)).toBe(0);
    const e = rig('v6.0', { open: false });
    vfio_ccw_mdev_remove(e.p);
    e.p.v.state.set(e.S.NOT_OPER, T);
    expect(vfio_ccw_mdev_probe(e.p)).toBe(-ENODEV);
  });

  it('INTERRUPT in CLOSED disables again (C ran fsm_irq in STANDBY)', () => {
    const f = rig('gunthorpe-2021', { open: false });
    const c = rig('v5.13', { open: false });
    vfio_ccw_mdev_remove(c.p); // STANDBY
    for (const r of [f, c]) {
      spin_lock_irq(r.p.sch.v.lock, T);
      vfio_ccw_fsm_event(r.p, r.E.INTERRUPT);
      spin_unlock_irq(r.p.sch.v.lock, T);
    }
    expect([work_pending(f.p.v.io_work), work_pending(c.p.v.io_work)]).toEqual([false, true]);
  });
});

// ---------------------------------------------------------------------------------------------
// 11. A: Pierre Morel's 2018 proposal.

describe('morel-2018 (A)', () => {
  it('probe fires INIT (ISC, STANDBY); mdev create fires ONLINE (IDLE); the dispatcher runs under fsm_mutex', () => {
    const r = rig('morel-2018', { open: false });
    expect([r.state(), r.p.sch.v.isc.get(T), r.p.sch.hw.get('enabled')]).toEqual([r.S.IDLE, 6, 1]);
    let taken = 0;
    hooked(
      (k, obj) => {
        if (k === H.acquired && obj === r.p.v.fsm_mutex.id) taken++;
      },
      () => vfio_ccw_fsm_event(r.p, r.E.SCHIB_CHANGED),
    );
    expect(taken).toBe(1);
  });

  it('a start: BOXED at entry, BUSY returned; the interrupt is processed from the work item (fsm_irq returns IDLE)', () => {
    const r = rig('morel-2018');
    start(r);
    expect(r.state()).toBe(r.S.BUSY);
    expect(warnings(r)).toEqual([]); // A issues ssch without sch->lock; ioasm.c asserts nothing
    r.p.sch.v.irb.write(0, irb(FINAL), T);
    spin_lock_irq(r.p.sch.v.lock, T);
    vfio_ccw_sch_irq(r.p, r.p.sch); // IRQ context: no FSM event, only the IRB and io_work
    spin_unlock_irq(r.p.sch.v.lock, T);
    expect([r.state(), work_pending(r.p.v.io_work)]).toEqual([r.S.BUSY, true]);
    vfio_ccw_sch_io_todo(r.p);
    expect([r.state(), cpv(r, 'nchains'), unpinned(r)]).toEqual([r.S.IDLE, 0, 1]);
  });

  it('reset while BUSY: OFFLINE quiesces (QUIESCING), waits for the INTERRUPT there (fsm_quiescing_done), then ONLINE', () => {
    const r = rig('morel-2018');
    start(r);
    warnings(r);
    force_cc(r, HwInstr.xsch, 2);
    const states: number[] = [];
    const rc = hooked(
      (k, obj) => {
        if (k !== H.wait || obj !== Atomics.load(r.p.v.completion.a, r.p.v.completion.i)) return;
        states.push(raw_state(r));
        hw_idle(r);
        r.p.sch.v.irb.write(0, irb(HALT_FINAL), T);
        vfio_ccw_sch_io_todo(r.p); // the work item fires INTERRUPT in QUIESCING
        states.push(raw_state(r));
      },
      () => vfio_ccw_mdev_reset(r.p),
    );
    expect([rc, states, r.state()]).toEqual([0, [r.S.QUIESCING, r.S.STANDBY], r.S.IDLE]);
  });

  it('fsm_quiescing returns cio_cancel_halt_clear\'s result as the state: 0 is NOT_OPER, -ENODEV is outside the table', () => {
    const r = rig('morel-2018');
    start(r); // not yet begun: xsch cancels it, the helper answers 0
    warnings(r);
    vfio_ccw_fsm_event(r.p, r.E.OFFLINE);
    expect(r.state()).toBe(r.S.NOT_OPER);
    expect(r.p.sch.hw.get('enabled')).toBe(1); // NOT_OPER with the subchannel still enabled

    const g = rig('morel-2018');
    start(g);
    warnings(g);
    g.p.sch.hw.set('present', 0);
    vfio_ccw_fsm_event(g.p, g.E.OFFLINE);
    expect(g.state()).toBe(-ENODEV);
    expect(() => vfio_ccw_fsm_event(g.p, g.E.INTERRUPT)).toThrow(KernelBug);
    expect(warnings(g)).toEqual([`driver: vfio_ccw_fsm_event: state ${-ENODEV} event ${g.E.INTERRUPT} outside the jump table`]);
  });
});

// ---------------------------------------------------------------------------------------------
// 12. chp_event (v5.8+) and the client on a variant without the async region.

describe('channel-path events and the client', () => {
  it('before v5.8 there is no .chp_event: nothing is queued; v5.3 (the v5.11 state) queues a CRW', () => {
    for (const [name, crws] of [['v5.2', 0], ['v5.3', 1]] as const) {
      const r = rig(name);
      spin_lock_irq(r.p.sch.v.lock, T);
      expect(vfio_ccw_chp_event(r.p, r.p.sch, { chpid: 0x40, mask: 0x80 }, CHP_ONLINE)).toBe(0);
      spin_unlock_irq(r.p.sch.v.lock, T);
      expect([name, crw_count(r.p)]).toEqual([name, crws]);
    }
  });

  it('QEMU on v5.0: realize finds only the I/O region and IRQ; hsch and csch are emulated, the host sees neither', () => {
    const r = rig('v5.0', { open: false });
    const c = new VfioCcwClient(bind_ops(r.p), r.g);
    const rz = c.realize();
    expect([rz.ok, rz.num_regions, rz.num_irqs, rz.regions.async, rz.regions.schib, rz.regions.crw]).toEqual([true, 1, 1, null, null, null]);
    expect(rz.irq_fds.io).not.toBeNull();
    expect(rz.warnings).toHaveLength(1); // no REQ irq: unplug requests go unnoticed
    expect(c.hsch()).toBe(0);
    expect(c.take_io_interrupt()).toBe(true);
    expect(c.tsch().cc).toBe(0);
    expect(c.csch()).toBe(0);
    expect(c.take_io_interrupt()).toBe(true);
    expect([r.p.sch.hw.at('n_instr', HwInstr.hsch), r.p.sch.hw.at('n_instr', HwInstr.csch)]).toEqual([0, 0]);
    c.unrealize();
    expect([r.p.v.open_count.get(T), r.p.v.notifier_registered.get(T)]).toEqual([0, 0]);
  });
});

// ---------------------------------------------------------------------------------------------
// 13. Real workers: S2 on every variant, a few I/O cycles each.

describe('S2 on real workers, every variant', () => {
  let r: Rig;
  beforeAll(async () => {
    r = await Rig.start(2, [s2.module]);
  });
  afterAll(() => r.close());

  it.each(VARIANTS.map((v) => v.name))('%s: the loop runs to its end and no actor fails', async (name) => {
    const out = await r.run({ variant: name, scenario: s2, users: 2, seed: 11, iterations: 40, hw: { start_latency_us: [1, 30] }, detectors: ['invariants', 'lockdep'] });
    const s = out.report.stats;
    expect(s['user.cycles']).toBe(40);
    const broken = out.report.findings.filter((f) => f.kind === 'hang' || /-failed$/.test(f.id));
    expect(broken).toEqual([]);
    expect(s['hw.presented']).toBe(s['driver.irqs']);
    // The start answers before v5.2: -EACCES (cc 3) when the user's next start beats io_todo's IDLE.
    const eacces = s['user.client.io_write.-EACCES'] ?? 0;
    if (variant_by_name(name)?.features.write_prefilter_eacces !== true) expect(eacces).toBe(0);
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------
// 14. The stress tool as a user runs it, on two old variants.

describe('npm run stress on old variants', () => {
  const BIN = new URL('../bin/vfio-ccw-sim.mjs', import.meta.url).pathname;
  it.each(['v4.12', 'morel-2018'])('stress --variant %s --duration 1: runs S2, reports, exits 0 or 1', (name) => {
    const report = join(mkdtempSync(join(tmpdir(), 'vfio-ccw-variant-')), 'r.json');
    const r = spawnSync(process.execPath, [BIN, 'stress', '--variant', name, '--duration', '1', '--json', '--report', report], { encoding: 'utf8', timeout: 120_000 });
    expect([0, 1]).toContain(r.status);
    const o = JSON.parse(r.stdout) as { variant: string; scenario: string; findings: { kind: string; id: string }[]; stats: Record<string, number> };
    expect([o.variant, o.scenario]).toEqual([name, 'S2']);
    expect(o.stats['user.cycles']).toBeGreaterThan(0);
    expect(o.findings.filter((f) => f.kind === 'hang' || /-failed$/.test(f.id))).toEqual([]);
    expect(JSON.parse(readFileSync(report, 'utf8'))).toMatchObject({ variant: name });
  }, 130_000);
});
