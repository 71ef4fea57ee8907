// v6.1: vfio device life-cycle helpers: .init/.release and the release completion that mdev remove waits for.
// Stated as v6.0 plus the changes below (spec/driver.md).
import { derive } from './derive.ts';
import { M } from './refs.ts';
import './v6.0.ts';

export default derive('v6.0', {
  name: 'v6.1',
  label: 'E1',
  kernel: { from: 'v6.1', to: 'v6.1' },
  merged: true,
  models: 'v6.1',
  description: 'vfio device life-cycle helpers: .init/.release and the release completion that mdev remove waits for',
  changes: [
    '.init initialises release_comp; .release memsets the vdev and completes release_comp',
    'mdev remove: unregister, put, wait for release_comp; private outlives the mdev',
    'available instances counted by the mdev core (max_instances = 1)',
  ],
  mails: [M.E8],
  inferred: [
    'The move of available_instances into the mdev core is v6.1 or v6.2 [not verified]; we model it from v6.1.',
    'The vfio_device references are one counter: mdev probe holds one, any other holder gets and puts; open FDs are waited for by the core\'s unregister before remove runs, not counted.',
  ],
  features: { release_completion: true, avail_accounting: false },
});
