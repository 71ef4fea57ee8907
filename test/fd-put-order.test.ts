// A device FD's put is refcount_dec_and_test (drivers/vfio/vfio_main.c: the FD's release drops
// its registration reference): release on every put, acquire on the last. So whatever a user did
// through its FD, its open included, is ordered before an unregister that returns after the last
// put, even when the unregister's own put is the last one. The v6.2+ remove clears the parent's
// drvdata (the port's private->mdev) only after vfio_unregister_group_dev returned, so that store
// races no open (the fuzz run's "vfio_ccw_mdev_remove / vfio_device_open (private->mdev)" was
// the port's FD put without that order).
//
//   CPU 1 (user)                                CPU 2 (css worker, SCH_TODO_UNREG)
//   vfio_device_open: private->mdev is set
//   close: vfio_device_fd_put (2 -> 1)
//                                               vfio_unregister_group_dev: put (1 -> 0), comp
//                                               vfio_ccw_mdev_remove: drvdata = NULL
import { afterEach, describe, expect, it } from 'vitest';
import { vfio_device_open, vfio_device_release } from '../src/driver/ops.ts';
import { alloc_race, race_report, start_race_detector } from '../src/detect/race.ts';
import { ActorKind, set_current } from '../src/kernel/index.ts';
import { vfio_ccw_mdev_unreg } from '../src/vfio/mdev_core.ts';
import { OTHER_ACTOR, TEST_ACTOR, end_rig, g_rig } from './helpers/g_rig.ts';

afterEach(() => {
  end_rig();
});

describe('a device FD put orders the FD before the unregister (refcount_dec_and_test)', () => {
  it('mainline: an open and close, then the css worker removes the mdev: no race on private->mdev', () => {
    const r = g_rig({ variant: 'mainline', open: false });
    const buf = alloc_race();
    const stop = start_race_detector(buf, TEST_ACTOR);
    try {
      expect(vfio_device_open(r.p)).toBe(0);
      vfio_device_release(r.p);
      set_current(r.g, OTHER_ACTOR, ActorKind.todo, 'css');
      try {
        vfio_ccw_mdev_unreg(r.p);
      } finally {
        set_current(r.g, TEST_ACTOR, ActorKind.test, 't');
      }
    } finally {
      stop();
    }
    const found = race_report(buf);
    // the detector ran over both actors: the remove's store is there to be paired
    expect(found.filter((f) => f.field === 'private->mdev')).toEqual([]);
    expect(r.p.v.mdev.get('test')).toBe(0);
  });
});
