// v6.2: parent rework: struct vfio_ccw_parent, private per mdev, no release completion, NULL-private guards.
// Stated as v6.1 plus the changes below (spec/driver.md).
import { derive } from './derive.ts';
import { M } from './refs.ts';
import './v6.1.ts';

export default derive('v6.1', {
  name: 'v6.2',
  label: 'E2',
  kernel: { from: 'v6.2', to: 'v6.2' },
  merged: true,
  models: 'v6.2',
  description: 'parent rework: struct vfio_ccw_parent, private per mdev, no release completion, NULL-private guards',
  changes: [
    'struct vfio_ccw_parent at css probe; private allocated per mdev by vfio_alloc_device',
    'release completion removed; .release frees the buffers',
    'css callbacks tolerate a NULL private (irq disables, sch_event/chp_event/shutdown/quiesce skip)',
    'NOT_OPER is per mdev: re-creating the mdev gives a fresh STANDBY',
  ],
  mails: [M.E9],
  sources: ['E2-fsm', 'E2-drv', 'E2-ops', 'E2-priv (torvalds/linux @ 008a011d6803)'],
  features: { release_completion: false, parent_split: true },
});
