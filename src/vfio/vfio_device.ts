// The words the mdev core and the vfio core keep for a subchannel's one mdev (vfio/mdev_core.ts
// runs them), apart from mdev_core.ts so the driver's header can name them with no circle of
// imports; and the vfio core's FD reference when the harness opens an FD through the driver's
// open alone (mdev_core.ts's VFIO_GROUP_GET_DEVICE_FD takes it itself, with its hook events).
// drivers/vfio/vfio.c v5.14 (vfio_device_try_get / vfio_device_put, vfio_register_group_dev).
import { atomic, completion, complete, defineStruct, i32, init_completion, mutex, poke, refcount_add_return, refcount_dec_and_test, spinlock, type LayoutView } from '../kernel/index.ts';

export const VfioCore = defineStruct('vfio_core', {
  list_lock: mutex('mdev_list_lock (one lock for every mdev in the kernel; one mdev per subchannel here)'),
  listed: i32('an mdev with QEMU\'s UUID is on mdev_list (create … mdev_device_release)'),
  active: i32('mdev->active: create finished and no remove has started'),
  remove_attr: atomic('the mdev\'s sysfs "remove" attribute exists (device_add … device_remove_file_self)'),
  refcount: atomic('vfio_device->refcount: the registration plus one per open device FD'),
  ref_order: spinlock('refcount_dec_and_test\'s ordering (release on every put, acquire on the last): a leaf lock standing for the atomic\'s, not a kernel lock'),
  comp: completion('vfio_device->comp: the last put completes it; unregister waits for it'),
  device_lock: mutex('group->device_lock: the group\'s device list (lookup by name, add, del)'),
  unreg_sem: mutex('parent->unreg_sem (v5.3+), an rw_semaphore: create_store\'s and remove_store\'s down_read_trylock against the parent unregistration\'s down_write. One mdev per parent: a remove reaches it only once the create set active, just before its up_read, so two readers meet only there (a mutex: that remove\'s trylock fails, -ENODEV)'),
  unhooked: i32('off the group\'s device list (mainline: before the unregister waits); device_lock'),
});
export type VfioCoreView = LayoutView<typeof VfioCore>;

/**
 * The registration reference a probe's vfio_register_group_dev takes: refcount = 1, comp fresh.
 * refcount_t makes no hook event; a run with lifecycle calls registers again through
 * mdev_core.ts's vfio_register_group_dev (the same words).
 */
export function vfio_device_registered(c: VfioCoreView): void {
  init_completion(c.comp);
  poke(c.refcount, 1);
}

/** This thread's actor is inside mdev_core.ts's get_device_fd or FD release (which count the FD). */
let core_counts = 0;

/** Run the driver's open or release inside the vfio core's, which takes or drops the FD's reference. */
export function counted_by_core<T>(f: () => T): T {
  core_counts++;
  try {
    return f();
  } finally {
    core_counts--;
  }
}

/** A device FD's reference, taken by the vfio core's open (refcount_t: no hook event). */
export function vfio_device_fd_get(c: VfioCoreView): void {
  if (core_counts === 0) refcount_add_return(1, c.refcount);
}

/**
 * The FD's release puts it; the last put completes comp (what an unregister waits for). The put is
 * refcount_dec_and_test (release on every put, acquire on the last), so what the FD did (its
 * open's accesses) is ordered before an unregister that returns after the last put, whoever makes
 * it. The order goes to the race detector without a schedule point, as the kernel's atomic is none.
 */
export function vfio_device_fd_put(c: VfioCoreView, site: string): void {
  if (core_counts !== 0) return;
  if (refcount_dec_and_test(c.refcount)) complete(c.comp, site);
}
