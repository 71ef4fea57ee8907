// The css layer's scheduled todo (drivers/s390/cio/css.c): NOT_OPER schedules SCH_TODO_UNREG on
// cio_work_q, the css worker runs css_sch_todo, and the unregistration calls the driver's remove
// (vfio_ccw_sch_remove), whose mdev removal waits for QEMU to close the device. S7 is the
// device-gone scenario: QEMU unplugs on the REQ the removal sends, the host settles the slow path.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { H } from '../src/kernel/index.ts';
import { Rig, css_actor } from '../src/system/rig.ts';
import { scenario_by_id_or_slug } from '../src/scenarios/index.ts';

const S7 = scenario_by_id_or_slug('S7')!;
const USERS = S7.users.default;

let rig: Rig;
beforeAll(async () => {
  rig = await Rig.start(USERS, [S7.module]);
});
afterAll(() => rig?.close());

const checks = (o: Awaited<ReturnType<Rig['run']>>): Record<string, boolean> =>
  Object.fromEntries(o.results.flatMap((r) => r.checks).map((k) => [k.id, k.ok]));

describe('css_sch_todo on cio_work_q', () => {
  it('mainline: the css worker runs the todo and the driver remove; the mdev and the subchannel are gone', async () => {
    const o = await rig.run({ variant: 'mainline', scenario: S7, users: USERS, seed: 1, detectors: ['trace'] });
    const css = css_actor(USERS);
    const ran = o.trace.filter((e) => e.kind === H.run && e.actor === css);
    expect(ran.length).toBe(1); // one todo_work, run by the css worker and no other actor
    expect(o.trace.some((e) => e.kind === H.run && e.obj === ran[0]!.obj && e.actor !== css)).toBe(false);
    // the unregistration's steps happen on the css worker
    const sites = new Set(o.trace.filter((e) => e.actor === css).map((e) => e.site));
    for (const s of ['css_sch_todo', 'css_sch_device_unregister', 'vfio_unregister_group_dev']) expect(sites).toContain(s);
    const k = checks(o);
    expect(k['S7.unreg-scheduled']).toBe(true);
    expect(k['S7.req']).toBe(true); // the removal asked QEMU for the device
    expect(k['S7.remove-after-close']).toBe(true);
    expect(k['S7.removed']).toBe(true);
  });

  // Every version whose NOT_OPER schedules SCH_TODO_UNREG is torn down; morel-2018's does not.
  for (const variant of ['v4.12', 'v5.2', 'v5.13', 'gunthorpe-2021', 'v6.0', 'v6.1', 'v6.2', 'v6.3']) {
    it(`${variant}: UNREG after NOT_OPER removes the mdev once QEMU closed the device`, async () => {
      const o = await rig.run({ variant, scenario: S7, users: USERS, seed: 1, detectors: [] });
      const k = checks(o);
      expect(k['S7.unreg-scheduled']).toBe(true);
      expect(k['S7.remove-after-close']).toBe(true);
      expect(k['S7.removed']).toBe(true);
    });
  }

  it('morel-2018: nothing is scheduled, so the subchannel stays registered', async () => {
    const o = await rig.run({ variant: 'morel-2018', scenario: S7, users: USERS, seed: 1, detectors: [] });
    const k = checks(o);
    expect(k['S7.unreg-scheduled']).toBe(false);
    expect(k['S7.removed']).toBe(false);
  });
});

describe('the race the teardown opens (controlled mode, fixed seed)', () => {
  const controlled = (variant: string) =>
    rig.run({ variant, scenario: S7, users: USERS, seed: 1, detectors: ['race'], sched: { strategy: 'pct', seed: 1, depth: 3, expected: 20_000, max_steps: 200_000 } });
  const by_remove = (o: Awaited<ReturnType<Rig['run']>>): string[] =>
    o.report.findings.filter((f) => f.kind === 'data-race' && /vfio_ccw_sch_quiesce|vfio_ccw_sch_remove/.test(f.message)).map((f) => f.message.split(':')[1] ?? '');

  it('v5.13: vfio_ccw_sch_remove quiesces (private->state under sch->lock) while QEMU still drives the FSM under io_mutex', async () => {
    // CPU css (cio_work_q)                       CPU user0 (QEMU)
    // css_sch_todo()
    //   css_sch_device_unregister()
    //     vfio_ccw_sch_remove()
    //       vfio_ccw_sch_quiesce()                 vfio_ccw_mdev_write_io_region()
    //         state = NOT_OPER (sch->lock)           vfio_ccw_fsm_event(IO_REQ): reads state (io_mutex)
    //       vfio_ccw_mdev_unreg(): REQ, waits       ... unplug: close
    const o = await controlled('v5.13');
    expect(o.sched?.abort).toBe('none');
    expect(by_remove(o).length).toBeGreaterThan(0);
    expect(checks(o)['S7.removed']).toBe(true);
  });

  it('v6.0: the remove no longer quiesces (M-E7), so the same schedule has no such race', async () => {
    const o = await controlled('v6.0');
    expect(o.sched?.abort).toBe('none');
    expect(by_remove(o)).toEqual([]);
    expect(checks(o)['S7.removed']).toBe(true);
  });
});
