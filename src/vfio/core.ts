// drivers/vfio (vfio.c; vfio_main.c from v6.0): what unregistering a vfio device waits for. The
// registration holds one reference to the device and every open device FD another; the put that
// drops the last one completes device->comp. Unregistering drops the registration's reference and
// then waits, calling the driver's .request every 10 s, until the users have closed their FDs
// (vfio_del_group_dev before v5.14, vfio_unregister_group_dev after; the older one waits on
// vfio.release_q with the same loop).
import { HZ, atomic, completion, complete, defineStruct, init_completion, try_wait_for_completion, wait_for_completion_timeout, type LayoutView } from '../kernel/index.ts';

export const VfioDeviceCore = defineStruct('vfio_device', {
  refcount: atomic('device->refcount: the registration one, each open device FD one (refcount_t: no hook event)'),
  comp: completion('device->comp: completed by the put that drops the last reference'),
});

export type VfioDeviceCoreView = LayoutView<typeof VfioDeviceCore>;

/** vfio_register_group_dev: the registration's reference; the completion is fresh. */
export function vfio_device_registered(core: VfioDeviceCoreView): void {
  Atomics.store(core.refcount.a, core.refcount.i, 1);
  init_completion(core.comp);
}

/** A user's open device FD holds the device (vfio_device_try_get_registration). */
export function vfio_device_get_registration(core: VfioDeviceCoreView): void {
  Atomics.add(core.refcount.a, core.refcount.i, 1);
}

/** vfio_device_put_registration: the last reference completes device->comp. */
export function vfio_device_put_registration(core: VfioDeviceCoreView, site: string): void {
  if (Atomics.sub(core.refcount.a, core.refcount.i, 1) === 1) complete(core.comp, site);
}

/**
 * vfio_unregister_group_dev: drop the registration's reference, then wait for the users, asking
 * the driver (its .request, if it has one) before every wait of 10 s. Sleeps.
 */
export function vfio_unregister_group_dev(core: VfioDeviceCoreView, request: ((count: number) => void) | null, site: string): void {
  vfio_device_put_registration(core, site);
  let i = 0;
  let done = try_wait_for_completion(core.comp);
  while (!done) {
    if (request !== null) request(i++);
    done = wait_for_completion_timeout(core.comp, HZ * 10, site) > 0;
  }
}
