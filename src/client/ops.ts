// hw/vfio/ccw.c (the device fd QEMU holds): the file operations the client calls, bound to one device.
import { vfio_ccw_mdev_ioctl, vfio_ccw_mdev_read, vfio_ccw_mdev_write, vfio_device_open, vfio_device_release } from '../driver/ops.ts';
import type { VfioCcwPrivate } from '../driver/private.ts';
import type { UserPtr } from '../driver/uaccess.ts';
import { ENTRY, entry, ioctl_entry, region_entry } from '../fuzz/entry.ts';
import { EBADF, ENODEV } from '../uapi/errno.ts';

/** One device fd: each call returns bytes (read/write), 0 (ioctl/open) or a negative errno. */
export interface Ops {
  /** pread(fd, buf, count, ppos) */
  read(buf: UserPtr, count: number, ppos: number): number;
  /** pwrite(fd, buf, count, ppos) */
  write(buf: UserPtr, count: number, ppos: number): number;
  ioctl(cmd: number, arg: UserPtr): number;
  /** opening the device fd (the vfio core's open; the driver's OPEN on the first fd) */
  open(): number;
  /** closing the device fd */
  release(): void;
}

export function bind_ops(p: VfioCcwPrivate): Ops {
  return {
    // (entry: a coverage mark around each call; nothing without a hook consumer)
    read: (buf, count, ppos) => entry(region_entry('read', ppos, p.drv.f.offset_shift), () => vfio_ccw_mdev_read(p, buf, count, ppos)),
    write: (buf, count, ppos) => entry(region_entry('write', ppos, p.drv.f.offset_shift), () => vfio_ccw_mdev_write(p, buf, count, ppos)),
    ioctl: (cmd, arg) => entry(ioctl_entry(cmd), () => vfio_ccw_mdev_ioctl(p, cmd, arg)),
    open: () => entry(ENTRY.open, () => vfio_device_open(p)),
    release: () => entry(ENTRY.release, () => vfio_device_release(p)),
  };
}

/**
 * The FD of a device that does not exist (fuzz: a call naming one past the last device). The
 * open is VFIO_GROUP_GET_DEVICE_FD with a name no device of the group has: vfio_device_get_from_name
 * finds none and the ioctl fails with -ENODEV before any driver code runs (drivers/vfio/vfio.c
 * v5.3; vfio/group.c v6.2 the same). No FD was returned, so read, write and ioctl on it fail in
 * fdget with -EBADF, and there is nothing to close.
 */
export const NO_DEVICE_OPS: Ops = {
  read: () => -EBADF,
  write: () => -EBADF,
  ioctl: () => -EBADF,
  open: () => -ENODEV,
  release: () => undefined,
};
