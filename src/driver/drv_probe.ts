// drivers/s390/cio/vfio_ccw_drv.c: vfio_ccw_sch_probe as the css bus calls it (css_probe, from
// device_add): the private it kzallocs, then the version's own steps (drv.ts). Apart from drv.ts
// because the private's initialisation lives in ops.ts, which itself calls into drv.ts.
import { vfio_ccw_sch_probe } from './drv.ts';
import { vfio_ccw_private_init } from './ops.ts';
import type { VfioCcwPrivate } from './private.ts';

/**
 * The css probe of a subchannel that came back (the css worker's slow path, sch->reg_mutex held;
 * set-up does the same steps on main, on every version). The private is the device's buffer
 * again: kzalloc is vfio_ccw_private_init; INIT_WORK of io_work and crw_work would store what
 * set-up stored, so it is not repeated (a work still pending there is the old private's).
 */
export function vfio_ccw_sch_probe_new(p: VfioCcwPrivate): number {
  // v6.2+: the probe allocates only the parent; the private comes with each mdev (vfio_ccw_mdev_probe)
  if (!p.drv.f.parent_split) vfio_ccw_private_init(p, p.drv.R.STANDBY);
  return vfio_ccw_sch_probe(p);
}
