// mainline: the current tree: the CRW list under private->crw_lock, io_todo under io_mutex, close drains the work items.
// Stated as v6.3 plus the changes below, read in torvalds/linux @ 16b0798024c0 (vfio_ccw_chp.c,
// vfio_ccw_drv.c, vfio_ccw_ops.c, vfio_ccw_private.h). The functions are in src/driver/upstream.ts.
import { derive } from './derive.ts';
import './v6.3.ts';

export default derive('v6.3', {
  name: 'mainline',
  label: 'H',
  kernel: { from: 'v7.0', to: null },
  merged: true,
  models: 'v7.0',
  description: 'the current tree: CRW list under private->crw_lock, io_todo under io_mutex, close cancels the work items',
  changes: [
    'spinlock_t crw_lock: vfio_ccw_queue_crw list_add_tail()s under it (inside the css\'s sch->lock), vfio_ccw_crw_todo tests list_empty and signals under it',
    'vfio_ccw_crw_region_read: io_mutex first, then the region index check (-EINVAL), the first entry unlinked under crw_lock, kfree and the "more CRWs" signal (under crw_lock) still inside io_mutex',
    'vfio_ccw_schib_region_read: the region index check under io_mutex',
    'vfio_ccw_sch_io_todo: io_mutex held from before cp_update_scsw to after the IDLE write; the signal after the unlock',
    'vfio core (v6.5, "vfio: Move vfio_device_group_unregister() to be the first operation in unregister"): the device leaves its group before vfio_unregister_group_dev waits for the FDs',
    'close_device (after CLOSE) and .release: cancel_work_sync(io_work), cancel_work_sync(crw_work), flush_work(notoper_work); .release empties the CRW list under crw_lock',
  ],
  sources: ['torvalds/linux @ 16b0798024c0: drivers/s390/cio/vfio_ccw_chp.c, vfio_ccw_drv.c, vfio_ccw_ops.c, vfio_ccw_private.h'],
  inferred: [
    'Range start v7.0 [not verified]: the stored tree is after the v7.0 merge window (kzalloc_obj); the release that took these changes is not in any stored copy.',
    'notoper_work: vfio_ccw_notoper_todo (io_mutex + cp_free) and its flush_work in close/.release are in the C, but the vfio_ccw_fsm.c that queues it is not stored at that commit; fsm_notoper is kept as v6.3 read it (cp_free in place) and the work item is not modelled.',
    'The region index check in the schib/CRW reads is modelled (chp.ts region_gone); it does not fail in the scenarios: vfio_ccw_mdev_read already rejected the index, and close_device, which empties the regions, runs only after the last FD is closed.',
    'Not modelled (no concurrency): array_index_nospec, kzalloc_obj, get_region_info_caps, the 1-argument eventfd_signal, vfio_ccw_sch_shutdown returning on a NULL private without WARN_ON.',
  ],
  features: { crw_lock: true, io_todo_holds_io_mutex: true, close_cancels_work: true, vfio_unhooks_before_wait: true },
});
