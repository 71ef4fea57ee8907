// VFIO_DEVICE_RESET takes no lock in the current tree (vfio_ccw_ops.c @ 008a011d:
// vfio_ccw_mdev_reset runs vfio_ccw_fsm_event(CLOSE) then (OPEN) and reads private->state),
// fsm_close calls cp_free after spin_unlock_irq, and the jumptable's STANDBY/CLOSE cell is
// fsm_notoper. These are the 1,000,000-call fuzz run's findings kept on mainline's known list,
// each played as one schedule on the test's thread: CPU 2's RESET runs in full from a hook at the
// point of CPU 1 where the kernel allows it (the hook runs before the access it announces).
import { afterEach, describe, expect, it } from 'vitest';
import { alloc_race, race_report, start_race_detector, type RaceFinding } from '../src/detect/race.ts';
import { ActorKind, H, register_hook, set_current } from '../src/kernel/index.ts';
import { SCH_TODO_UNREG, css_sch_device_unregister } from '../src/cio/index.ts';
import { vfio_ccw_sch_event } from '../src/driver/drv.ts';
import { EINVAL, EIO } from '../src/uapi/errno.ts';
import { VFIO_DEVICE_RESET } from '../src/uapi/vfio_ccw.ts';
import { OFF_IO, OFF_SCHIB, OTHER_ACTOR, TEST_ACTOR, end_rig, g_rig, io_region, type GRig } from './helpers/g_rig.ts';

afterEach(() => {
  end_rig();
});

const reset = (r: GRig): number => r.ioctl(VFIO_DEVICE_RESET, null);

/** Run `cpu1` with the race detector on; CPU 2's RESET runs in full at the first event `at` matches. */
function with_reset_at(r: GRig, at: (kind: number, obj: number, site: string) => boolean, cpu1: () => number): { rc1: number; rc2: number; races: RaceFinding[] } {
  const buf = alloc_race();
  const stop = start_race_detector(buf, TEST_ACTOR);
  let rc2 = NaN;
  let rc1: number;
  const off = register_hook((k, o, s) => {
    if (!Number.isNaN(rc2) || !at(k, o, s)) return;
    rc2 = 0;
    set_current(r.g, OTHER_ACTOR, ActorKind.user, 'qemu2');
    try {
      rc2 = reset(r);
    } finally {
      set_current(r.g, TEST_ACTOR, ActorKind.test, 't');
    }
  });
  try {
    rc1 = cpu1();
  } finally {
    off();
    stop();
  }
  expect(Number.isNaN(rc2)).toBe(false);
  return { rc1, rc2, races: race_report(buf) };
}

const pair = (f: RaceFinding): string => `${f.field} ${[f.first.site, f.second.site].sort().join(' / ')}`;

describe('VFIO_DEVICE_RESET with no lock (mainline)', () => {
  //   CPU 1 (write to the I/O region, io_mutex)   CPU 2 (ioctl RESET, no lock)
  //   fsm_io_request: CP_PROCESSING, cp_init,
  //     cp_prefetch (pages pinned)
  //                                               vfio_ccw_mdev_reset: CLOSE in CP_PROCESSING
  //                                               fsm_close: disable, STANDBY, unlock
  //                                               cp_free (no lock): chains freed, pages unpinned
  //                                               OPEN: fsm_open, IDLE
  //   fsm_io_helper: sch->lock, cp_get_orb: the
  //     cp is no longer initialised: -EIO
  it('a reset while a region write builds the cp: the state and the cp race, the write answers -EIO', () => {
    const r = g_rig({ variant: 'mainline' });
    const at_io_helper = (k: number, o: number, s: string): boolean => k === H.acquire && o === r.p.sch.v.lock.id && s === 'fsm_io_helper';
    const { rc1, rc2, races } = with_reset_at(r, at_io_helper, () => r.write(OFF_IO, io_region()));
    expect([rc1, rc2]).toEqual([-EIO, 0]);
    const pairs = races.map(pair);
    expect(pairs).toEqual(expect.arrayContaining(['cp->initialized cp_free / cp_prefetch', 'cp->nchains ccwchain_handle_ccw / cp_free', 'private->state fsm_io_request / vfio_ccw_mdev_reset', 'private->state fsm_close / fsm_io_request']));
    expect(r.sschs()).toBe(0);
    expect(r.state()).toBe(r.S.IDLE);
  });

  //   CPU 1 (ioctl RESET, no lock)                CPU 2 (ioctl RESET, no lock)
  //   CLOSE: fsm_close, STANDBY, cp_free
  //                                               CLOSE in STANDBY: fsm_notoper (I17):
  //                                                 css_sched_sch_todo(UNREG) with no sch->lock,
  //                                                 NOT_OPER
  //                                               OPEN in NOT_OPER: fsm_nop: -EINVAL
  //   OPEN in NOT_OPER: fsm_nop: -EINVAL
  it('two resets at once: the second CLOSE is delivered in STANDBY and the device is torn down', () => {
    const r = g_rig({ variant: 'mainline' });
    const dispatched: number[] = [];
    const off = register_hook((k, o, _s, _a, arg) => {
      if (k === H.fsm && o === r.p.v.state.id) dispatched.push(arg);
    });
    // CPU 1's OPEN dispatch: its second read of the state in vfio_ccw_fsm_event
    let reads = 0;
    const at_open = (k: number, o: number, s: string): boolean => k === H.read && o === r.p.v.state.id && s === 'vfio_ccw_fsm_event' && ++reads === 2;
    let out: ReturnType<typeof with_reset_at>;
    try {
      out = with_reset_at(r, at_open, () => reset(r));
    } finally {
      off();
    }
    expect([out.rc1, out.rc2]).toEqual([-EINVAL, -EINVAL]);
    const close_in_standby = (r.S.STANDBY << 8) | r.E.CLOSE;
    expect(dispatched).toContain(close_in_standby);
    expect([r.state(), r.p.sch.v.todo.get('test')]).toEqual([r.S.NOT_OPER, SCH_TODO_UNREG]);
  });

  //   CPU 1 (read of the schib region, io_mutex)  CPU 2 (ioctl RESET, no lock)
  //   cio_update_schib: stsch into sch->schib
  //                                               fsm_close: pmcw.ena, cio_disable_subchannel
  //                                               fsm_open: cio_enable_subchannel (sch->lock)
  it('a reset while the schib region is read: sch->schib is written under io_mutex and under sch->lock', () => {
    const r = g_rig({ variant: 'mainline' });
    const at_update = (k: number, o: number, s: string): boolean => k === H.write && o === r.p.sch.v.schib.id && s === 'cio_update_schib';
    const { rc1, rc2, races } = with_reset_at(r, at_update, () => r.read(OFF_SCHIB, 52));
    expect([rc1, rc2]).toEqual([52, 0]);
    const pairs = races.map(pair);
    expect(pairs).toEqual(expect.arrayContaining(['sch->schib cio_disable_subchannel / cio_update_schib', 'sch->schib cio_update_schib / fsm_close']));
  });
});

describe('the css unregister against a subchannel event (mainline)', () => {
  //   CPU 1 (machine check: vfio_ccw_sch_event)   CPU 2 (css worker: SCH_TODO_UNREG)
  //   sch->lock; device_is_registered
  //                                               reg_mutex; device_unregister: no longer registered
  it('device_is_registered is read under sch->lock and cleared under reg_mutex: a race', () => {
    const r = g_rig({ variant: 'mainline', open: false });
    const buf = alloc_race();
    const stop = start_race_detector(buf, TEST_ACTOR);
    try {
      expect(vfio_ccw_sch_event(r.p, r.p.sch)).toBe(0);
      set_current(r.g, OTHER_ACTOR, ActorKind.todo, 'css');
      try {
        css_sch_device_unregister(r.p.sch);
      } finally {
        set_current(r.g, TEST_ACTOR, ActorKind.test, 't');
      }
    } finally {
      stop();
    }
    expect(race_report(buf).map(pair)).toContain('sch->registered css_sch_device_unregister / vfio_ccw_sch_event');
    expect(r.p.sch.v.registered.get('test')).toBe(0);
  });
});
