// Call sites the detectors key on: the kernel function an access is made from, named once here so
// the driver passes and the invariants (src/detect/invariants.ts) match the same constant.
// Renaming a site string in the driver alone would silently switch an invariant off (I12 and
// I13 read io_todo's accesses): each is the name of the kernel function the access is made in.
export const SITES = {
  vfio_ccw_sch_io_todo: 'vfio_ccw_sch_io_todo',
  vfio_ccw_sch_probe: 'vfio_ccw_sch_probe',
  fsm_irq: 'fsm_irq',
  fsm_io_request: 'fsm_io_request',
  cp_init: 'cp_init',
  cp_free: 'cp_free',
  vfio_ccw_mdev_write_io_region: 'vfio_ccw_mdev_write_io_region',
  vfio_ccw_mdev_remove: 'vfio_ccw_mdev_remove',
  vfio_ccw_private_init: 'vfio_ccw_private_init',
  css_alloc_subchannel: 'css_alloc_subchannel',
} as const;
