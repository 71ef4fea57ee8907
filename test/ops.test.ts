// drivers/s390/cio/vfio_ccw_ops.c, _async.c, _chp.c in version G ("mainline"): every region
// handler and ioctl with every bad input it rejects, each answered with the kernel's errno, and the device still doing I/O afterwards (a valid start write returns 124).
// Single-threaded: the whole system lives on the test's thread (test/helpers/g_rig.ts); the
// machine accepts ssch synchronously and no interrupt is delivered.
import { afterEach, describe, expect, it } from 'vitest';
import { vfio_ccw_dma_unmap, vfio_device_open, vfio_device_release } from '../src/driver/ops.ts';
import { CRW_ERC_INIT, CRW_ERC_PERRN, CRW_RSC_CPATH, vfio_ccw_chp_event } from '../src/driver/drv.ts';
import { CHP_OFFLINE, CHP_ONLINE } from '../src/cio/index.ts';
import { atomic_read, eventfd_close, eventfd_create, eventfd_ptr_fd, eventfd_stats, spin_lock_irq, spin_unlock_irq } from '../src/kernel/index.ts';
import { HwInstr } from '../src/hw/layout.ts';
import { EAGAIN, EBADF, EFAULT, EINVAL, ENODEV, ENOTTY } from '../src/uapi/errno.ts';
import {
  make_device_info,
  make_irq_info,
  make_irq_set,
  make_irq_set_eventfd,
  make_region_info,
  read_cap_type,
  read_device_info,
  read_irq_info,
  read_region_caps,
  read_region_info,
} from '../src/uapi/ioctl.ts';
import {
  CMD_REGION_SIZE,
  CMD_RET_CODE,
  CRW_REGION_SIZE,
  IO_REGION_SIZE,
  IO_RET_CODE,
  SCHIB_AREA_SIZE,
  VFIO_CCW_ASYNC_CMD_CSCH,
  VFIO_CCW_ASYNC_CMD_HSCH,
  VFIO_CCW_CRW_IRQ_INDEX,
  VFIO_CCW_IO_IRQ_INDEX,
  VFIO_CCW_REQ_IRQ_INDEX,
  VFIO_DEVICE_GET_INFO,
  VFIO_DEVICE_GET_IRQ_INFO,
  VFIO_DEVICE_GET_REGION_INFO,
  VFIO_DEVICE_RESET,
  VFIO_DEVICE_SET_IRQS,
  VFIO_IRQ_SET_ACTION_MASK,
  VFIO_IRQ_SET_ACTION_TRIGGER,
  VFIO_IRQ_SET_ACTION_UNMASK,
  VFIO_IRQ_SET_DATA_BOOL,
  VFIO_IRQ_SET_DATA_EVENTFD,
  VFIO_IRQ_SET_DATA_NONE,
} from '../src/uapi/vfio_ccw.ts';
import {
  DATA, OFF_ASYNC, OFF_CRW, OFF_IO, OFF_SCHIB, cmd_region, dv, end_rig, expect_start, g_rig, io_region, with_io_mutex_held_elsewhere, type GRig,
} from './helpers/g_rig.ts';

const T = 'test';
const TRIGGER = VFIO_IRQ_SET_ACTION_TRIGGER;
const NONE = VFIO_IRQ_SET_DATA_NONE;
const BOOL = VFIO_IRQ_SET_DATA_BOOL;
const EVENTFD = VFIO_IRQ_SET_DATA_EVENTFD;

// No test may leave a kernel warning (lockdep, WARN_ON, might_sleep) behind.
afterEach(() => {
  expect(end_rig()).toEqual([]);
});

const fd_data = (fd: number): Uint8Array => {
  const b = new Uint8Array(4);
  dv(b).setInt32(0, fd);
  return b;
};
/** A user buffer of `len` bytes: the struct `head`, then 0xEE up to `len` (to see what the driver wrote past it). */
const marked = (head: Uint8Array, len: number): Uint8Array => {
  const b = new Uint8Array(len).fill(0xee);
  b.set(head);
  return b;
};
const signals = (r: GRig, fd: number): number => eventfd_stats(r.g, fd).signals;
const cmd_ret = (r: GRig): number => r.p.v.cmd_region.get_i32(CMD_RET_CODE, T);

/** Open the fd and install it as the trigger of `index`. */
function install(r: GRig, index: number): number {
  const fd = eventfd_create(r.g);
  expect(fd).toBeGreaterThanOrEqual(0);
  expect(r.ioctl(VFIO_DEVICE_SET_IRQS, make_irq_set_eventfd(index, fd))).toBe(0);
  return fd;
}

// ---------------------------------------------------------------------------------------------
// Every bad input on an open, IDLE device. After the errno, the device is still IDLE with
// nothing changed that the next start depends on, and a valid start write returns 124.

type BadInput = readonly [name: string, run: (r: GRig) => number, errno: number];

const REGION_BAD: readonly BadInput[] = [
  // vfio_ccw_mdev_read/write dispatch: index = offset >> 10 must be < 1 + num_regions (4 after open)
  ['read, index 4 (offset 0x1000)', (r) => r.read(0x1000, 1), -EINVAL],
  ['write, index 4 (offset 0x1000)', (r) => r.write(0x1000, new Uint8Array(1)), -EINVAL],
  ['read, index 5 (offset 0x1400)', (r) => r.read(0x1400, 4), -EINVAL],
  ['write, index 0x3fff (offset 0xfffc00)', (r) => r.write(0xfffc00, new Uint8Array(4)), -EINVAL],
  // vfio_ccw_mdev_write_io_region / read_io_region: I/O region, 124 bytes
  ['io read, pos 124 count 1', (r) => r.read(OFF_IO + 124, 1), -EINVAL],
  ['io read, pos 0 count 125', (r) => r.read(OFF_IO, 125), -EINVAL],
  ['io read, pos 120 count 5', (r) => r.read(OFF_IO + 120, 5), -EINVAL],
  ['io read, pos 0x3ff count 1', (r) => r.read(OFF_IO + 0x3ff, 1), -EINVAL],
  ['io write, pos 124 count 1', (r) => r.write(OFF_IO + 124, new Uint8Array(1)), -EINVAL],
  ['io write, pos 0 count 125', (r) => r.write(OFF_IO, new Uint8Array(125)), -EINVAL],
  ['io write, pos 1 count 124', (r) => r.write(OFF_IO + 1, io_region()), -EINVAL],
  ['io read, NULL buffer', (r) => r.read(OFF_IO, IO_REGION_SIZE, null), -EFAULT],
  ['io read, buffer shorter than count', (r) => r.read(OFF_IO, IO_REGION_SIZE, new Uint8Array(100)), -EFAULT],
  ['io write, NULL buffer', (r) => r.write(OFF_IO, null, IO_REGION_SIZE), -EFAULT],
  ['io write, buffer shorter than count', (r) => r.write(OFF_IO, io_region().slice(0, 100), IO_REGION_SIZE), -EFAULT],
  // vfio_ccw_async_region_write: async command region, 8 bytes
  ['async read, pos 8 count 1', (r) => r.read(OFF_ASYNC + 8, 1), -EINVAL],
  ['async read, pos 0 count 9', (r) => r.read(OFF_ASYNC, 9), -EINVAL],
  ['async read, pos 4 count 5', (r) => r.read(OFF_ASYNC + 4, 5), -EINVAL],
  ['async write, pos 8 count 1', (r) => r.write(OFF_ASYNC + 8, new Uint8Array(1)), -EINVAL],
  ['async write, pos 0 count 9', (r) => r.write(OFF_ASYNC, new Uint8Array(9)), -EINVAL],
  ['async write, pos 4 count 5', (r) => r.write(OFF_ASYNC + 4, new Uint8Array(5)), -EINVAL],
  ['async read, NULL buffer', (r) => r.read(OFF_ASYNC, CMD_REGION_SIZE, null), -EFAULT],
  ['async write, NULL buffer', (r) => r.write(OFF_ASYNC, null, CMD_REGION_SIZE), -EFAULT],
  ['async write, unknown command 0', (r) => r.write(OFF_ASYNC, cmd_region(0)), -EINVAL],
  ['async write, unknown command 3 (HSCH|CSCH)', (r) => r.write(OFF_ASYNC, cmd_region(3)), -EINVAL],
  ['async write, unknown command 4', (r) => r.write(OFF_ASYNC, cmd_region(4)), -EINVAL],
  // vfio_ccw_schib_region_read: schib region, 52 bytes, read-only
  ['schib read, pos 52 count 1', (r) => r.read(OFF_SCHIB + 52, 1), -EINVAL],
  ['schib read, pos 0 count 53', (r) => r.read(OFF_SCHIB, 53), -EINVAL],
  ['schib read, NULL buffer', (r) => r.read(OFF_SCHIB, SCHIB_AREA_SIZE, null), -EFAULT],
  ['schib write, valid range', (r) => r.write(OFF_SCHIB, new Uint8Array(4)), -EINVAL],
  ['schib write, whole region', (r) => r.write(OFF_SCHIB, new Uint8Array(SCHIB_AREA_SIZE)), -EINVAL],
  ['schib write, pos 0 count 53', (r) => r.write(OFF_SCHIB, new Uint8Array(53)), -EINVAL],
  ['schib write, NULL buffer', (r) => r.write(OFF_SCHIB, null, 4), -EINVAL],
  // vfio_ccw_crw_region_read: CRW region, 8 bytes, read-only
  ['crw read, pos 8 count 1', (r) => r.read(OFF_CRW + 8, 1), -EINVAL],
  ['crw read, pos 0 count 9', (r) => r.read(OFF_CRW, 9), -EINVAL],
  ['crw read, NULL buffer', (r) => r.read(OFF_CRW, CRW_REGION_SIZE, null), -EFAULT],
  ['crw write, valid range', (r) => r.write(OFF_CRW, new Uint8Array(CRW_REGION_SIZE)), -EINVAL],
  ['crw write, pos 0 count 9', (r) => r.write(OFF_CRW, new Uint8Array(9)), -EINVAL],
];

const IOCTL_BAD: readonly BadInput[] = [
  ['unknown ioctl 0', (r) => r.ioctl(0, new Uint8Array(32)), -ENOTTY],
  ['unknown ioctl 0x3b6a (below GET_INFO)', (r) => r.ioctl(0x3b6a, new Uint8Array(32)), -ENOTTY],
  ['unknown ioctl 0x3b70 (after RESET)', (r) => r.ioctl(0x3b70, new Uint8Array(32)), -ENOTTY],
  // GET_INFO
  ['GET_INFO, NULL arg', (r) => r.ioctl(VFIO_DEVICE_GET_INFO, null), -EFAULT],
  ['GET_INFO, arg shorter than 16 bytes', (r) => r.ioctl(VFIO_DEVICE_GET_INFO, make_device_info().slice(0, 12)), -EFAULT],
  ['GET_INFO, argsz 15', (r) => r.ioctl(VFIO_DEVICE_GET_INFO, make_device_info({ argsz: 15 })), -EINVAL],
  ['GET_INFO, argsz 0', (r) => r.ioctl(VFIO_DEVICE_GET_INFO, make_device_info({ argsz: 0 })), -EINVAL],
  // GET_REGION_INFO
  ['GET_REGION_INFO, NULL arg', (r) => r.ioctl(VFIO_DEVICE_GET_REGION_INFO, null), -EFAULT],
  ['GET_REGION_INFO, arg shorter than 32 bytes', (r) => r.ioctl(VFIO_DEVICE_GET_REGION_INFO, make_region_info({ index: 0 }).slice(0, 24)), -EFAULT],
  ['GET_REGION_INFO, argsz 31', (r) => r.ioctl(VFIO_DEVICE_GET_REGION_INFO, make_region_info({ index: 0, argsz: 31 })), -EINVAL],
  ['GET_REGION_INFO, index 4', (r) => r.ioctl(VFIO_DEVICE_GET_REGION_INFO, make_region_info({ index: 4, argsz: 48 })), -EINVAL],
  ['GET_REGION_INFO, index 0xffffffff', (r) => r.ioctl(VFIO_DEVICE_GET_REGION_INFO, make_region_info({ index: 0xffffffff, argsz: 48 })), -EINVAL],
  ['GET_REGION_INFO, argsz 48 but only 32 bytes mapped', (r) => r.ioctl(VFIO_DEVICE_GET_REGION_INFO, make_region_info({ index: 1, argsz: 48 }).slice(0, 32)), -EFAULT],
  // GET_IRQ_INFO
  ['GET_IRQ_INFO, NULL arg', (r) => r.ioctl(VFIO_DEVICE_GET_IRQ_INFO, null), -EFAULT],
  ['GET_IRQ_INFO, arg shorter than 16 bytes', (r) => r.ioctl(VFIO_DEVICE_GET_IRQ_INFO, make_irq_info({ index: 0 }).slice(0, 8)), -EFAULT],
  ['GET_IRQ_INFO, argsz 15', (r) => r.ioctl(VFIO_DEVICE_GET_IRQ_INFO, make_irq_info({ index: 0, argsz: 15 })), -EINVAL],
  ['GET_IRQ_INFO, index 3', (r) => r.ioctl(VFIO_DEVICE_GET_IRQ_INFO, make_irq_info({ index: 3 })), -EINVAL],
  ['GET_IRQ_INFO, index 0xffffffff', (r) => r.ioctl(VFIO_DEVICE_GET_IRQ_INFO, make_irq_info({ index: 0xffffffff })), -EINVAL],
  // SET_IRQS: the generic validation (steps 1-3)
  ['SET_IRQS, NULL arg', (r) => r.ioctl(VFIO_DEVICE_SET_IRQS, null), -EFAULT],
  ['SET_IRQS, arg shorter than 20 bytes', (r) => r.ioctl(VFIO_DEVICE_SET_IRQS, make_irq_set({ flags: NONE | TRIGGER, index: 0, count: 1 }).slice(0, 16)), -EFAULT],
  ['SET_IRQS, argsz 19', (r) => r.ioctl(VFIO_DEVICE_SET_IRQS, make_irq_set({ argsz: 19, flags: NONE | TRIGGER, index: 0, count: 1 })), -EINVAL],
  ['SET_IRQS, index 3', (r) => r.ioctl(VFIO_DEVICE_SET_IRQS, make_irq_set({ flags: NONE | TRIGGER, index: 3, count: 1 })), -EINVAL],
  ['SET_IRQS, index 0xffffffff', (r) => r.ioctl(VFIO_DEVICE_SET_IRQS, make_irq_set({ flags: NONE | TRIGGER, index: 0xffffffff, count: 1 })), -EINVAL],
  ['SET_IRQS, flag bit 0x40', (r) => r.ioctl(VFIO_DEVICE_SET_IRQS, make_irq_set({ flags: 0x40 | NONE | TRIGGER, index: 0, count: 1 })), -EINVAL],
  ['SET_IRQS, flag bit 0x80000000', (r) => r.ioctl(VFIO_DEVICE_SET_IRQS, make_irq_set({ flags: 0x80000000 | NONE | TRIGGER, index: 0, count: 1 })), -EINVAL],
  ['SET_IRQS, count 0xffffffff (>= U32_MAX - start)', (r) => r.ioctl(VFIO_DEVICE_SET_IRQS, make_irq_set({ flags: NONE | TRIGGER, index: 0, count: 0xffffffff })), -EINVAL],
  ['SET_IRQS, start 1 count 0', (r) => r.ioctl(VFIO_DEVICE_SET_IRQS, make_irq_set({ flags: NONE | TRIGGER, index: 0, start: 1, count: 0 })), -EINVAL],
  ['SET_IRQS, start 1 count 1', (r) => r.ioctl(VFIO_DEVICE_SET_IRQS, make_irq_set({ flags: NONE | TRIGGER, index: 0, start: 1, count: 1 })), -EINVAL],
  ['SET_IRQS, start 0 count 2', (r) => r.ioctl(VFIO_DEVICE_SET_IRQS, make_irq_set({ flags: NONE | TRIGGER, index: 0, count: 2 })), -EINVAL],
  ['SET_IRQS, data type 0', (r) => r.ioctl(VFIO_DEVICE_SET_IRQS, make_irq_set({ flags: TRIGGER, index: 0, count: 1 })), -EINVAL],
  ['SET_IRQS, data type NONE|BOOL', (r) => r.ioctl(VFIO_DEVICE_SET_IRQS, make_irq_set({ flags: NONE | BOOL | TRIGGER, index: 0, count: 1, data: new Uint8Array(4) })), -EINVAL],
  ['SET_IRQS, data type BOOL|EVENTFD', (r) => r.ioctl(VFIO_DEVICE_SET_IRQS, make_irq_set({ flags: BOOL | EVENTFD | TRIGGER, index: 0, count: 1, data: new Uint8Array(4) })), -EINVAL],
  ['SET_IRQS, data type 7', (r) => r.ioctl(VFIO_DEVICE_SET_IRQS, make_irq_set({ flags: 7 | TRIGGER, index: 0, count: 1, data: new Uint8Array(4) })), -EINVAL],
  ['SET_IRQS, EVENTFD count 1 with argsz 20 (no room for the fd)', (r) => r.ioctl(VFIO_DEVICE_SET_IRQS, make_irq_set({ argsz: 20, flags: EVENTFD | TRIGGER, index: 0, count: 1, data: fd_data(0) })), -EINVAL],
  ['SET_IRQS, EVENTFD count 1 with argsz 23', (r) => r.ioctl(VFIO_DEVICE_SET_IRQS, make_irq_set({ argsz: 23, flags: EVENTFD | TRIGGER, index: 0, count: 1, data: fd_data(0) })), -EINVAL],
  ['SET_IRQS, BOOL count 1 with argsz 20', (r) => r.ioctl(VFIO_DEVICE_SET_IRQS, make_irq_set({ argsz: 20, flags: BOOL | TRIGGER, index: 0, count: 1, data: new Uint8Array([1]) })), -EINVAL],
  // SET_IRQS: the vfio-ccw part (steps 4-8)
  ['SET_IRQS, EVENTFD without an action', (r) => r.ioctl(VFIO_DEVICE_SET_IRQS, make_irq_set({ flags: EVENTFD, index: 0, count: 1, data: fd_data(-1) })), -EINVAL],
  ['SET_IRQS, EVENTFD|MASK alone', (r) => r.ioctl(VFIO_DEVICE_SET_IRQS, make_irq_set({ flags: EVENTFD | VFIO_IRQ_SET_ACTION_MASK, index: 0, count: 1, data: fd_data(-1) })), -EINVAL],
  ['SET_IRQS, EVENTFD|UNMASK alone', (r) => r.ioctl(VFIO_DEVICE_SET_IRQS, make_irq_set({ flags: EVENTFD | VFIO_IRQ_SET_ACTION_UNMASK, index: 0, count: 1, data: fd_data(-1) })), -EINVAL],
  ['SET_IRQS, NONE|MASK|UNMASK', (r) => r.ioctl(VFIO_DEVICE_SET_IRQS, make_irq_set({ flags: NONE | VFIO_IRQ_SET_ACTION_MASK | VFIO_IRQ_SET_ACTION_UNMASK, index: 0, count: 1 })), -EINVAL],
  ['SET_IRQS, fd -2', (r) => r.ioctl(VFIO_DEVICE_SET_IRQS, make_irq_set_eventfd(VFIO_CCW_IO_IRQ_INDEX, -2)), -EINVAL],
  ['SET_IRQS, fd -0x80000000', (r) => r.ioctl(VFIO_DEVICE_SET_IRQS, make_irq_set_eventfd(VFIO_CCW_IO_IRQ_INDEX, -0x80000000)), -EINVAL],
  ['SET_IRQS, fd 7 (never opened)', (r) => r.ioctl(VFIO_DEVICE_SET_IRQS, make_irq_set_eventfd(VFIO_CCW_IO_IRQ_INDEX, 7)), -EBADF],
  ['SET_IRQS, fd 100000 (beyond the table)', (r) => r.ioctl(VFIO_DEVICE_SET_IRQS, make_irq_set_eventfd(VFIO_CCW_CRW_IRQ_INDEX, 100000)), -EBADF],
  [
    'SET_IRQS, fd of a closed eventfd',
    (r) => {
      const fd = eventfd_create(r.g);
      eventfd_close(r.g, fd);
      return r.ioctl(VFIO_DEVICE_SET_IRQS, make_irq_set_eventfd(VFIO_CCW_REQ_IRQ_INDEX, fd));
    },
    -EBADF,
  ],
  ['SET_IRQS, BOOL count 0 with no data byte mapped', (r) => r.ioctl(VFIO_DEVICE_SET_IRQS, make_irq_set({ flags: BOOL | TRIGGER, index: 0, count: 0 })), -EFAULT],
  ['SET_IRQS, EVENTFD count 0 with no data word mapped', (r) => r.ioctl(VFIO_DEVICE_SET_IRQS, make_irq_set({ flags: EVENTFD | TRIGGER, index: 0, count: 0 })), -EFAULT],
];

const MUTEX_BAD: readonly BadInput[] = [
  ['io write while io_mutex is held elsewhere', (r) => with_io_mutex_held_elsewhere(r, () => r.write(OFF_IO, io_region())), -EAGAIN],
  ['async HSCH write while io_mutex is held elsewhere', (r) => with_io_mutex_held_elsewhere(r, () => r.write(OFF_ASYNC, cmd_region(VFIO_CCW_ASYNC_CMD_HSCH))), -EAGAIN],
  ['async CSCH write while io_mutex is held elsewhere', (r) => with_io_mutex_held_elsewhere(r, () => r.write(OFF_ASYNC, cmd_region(VFIO_CCW_ASYNC_CMD_CSCH))), -EAGAIN],
];

describe.each([
  ['region handlers', REGION_BAD],
  ['ioctls', IOCTL_BAD],
  ['io_mutex contention', MUTEX_BAD],
] as const)('bad input to %s: the errno, then the device still does I/O', (_group, cases) => {
  it.each(cases)('%s', (_name, run, errno) => {
    const r = g_rig();
    expect(run(r)).toBe(errno);
    expect([r.state(), r.sschs(), r.cp_initialized()]).toEqual([r.S.IDLE, 0, 0]);
    expect(r.p.sch.hw.at('n_instr', HwInstr.hsch) + r.p.sch.hw.at('n_instr', HwInstr.csch)).toBe(0);
    expect_start(r);
  });
});

// ---------------------------------------------------------------------------------------------
// What the bad inputs must not have done.

describe('bad inputs leave the regions alone', () => {
  it('a rejected io write (bounds, fault, contention) does not reach the region', () => {
    const r = g_rig();
    const before = r.p.v.io_region.read(0, IO_REGION_SIZE, T);
    const junk = io_region({ ret_code: 0x1234 });
    expect(r.write(OFF_IO + 4, junk)).toBe(-EINVAL);
    expect(r.write(OFF_IO, junk.slice(0, 50), IO_REGION_SIZE)).toBe(-EFAULT);
    expect(with_io_mutex_held_elsewhere(r, () => r.write(OFF_IO, junk))).toBe(-EAGAIN);
    expect([...r.p.v.io_region.read(0, IO_REGION_SIZE, T)]).toEqual([...before]);
  });

  it('a rejected async write (bounds, fault, contention) issues nothing and leaves ret_code', () => {
    const r = g_rig();
    expect(r.write(OFF_ASYNC, cmd_region(VFIO_CCW_ASYNC_CMD_HSCH, 0x55), 9)).toBe(-EINVAL);
    expect(r.write(OFF_ASYNC, null, CMD_REGION_SIZE)).toBe(-EFAULT);
    expect(with_io_mutex_held_elsewhere(r, () => r.write(OFF_ASYNC, cmd_region(VFIO_CCW_ASYNC_CMD_HSCH)))).toBe(-EAGAIN);
    expect([r.p.v.cmd_region.get_u32(0, T), cmd_ret(r), r.p.sch.hw.at('n_instr', HwInstr.hsch)]).toEqual([0, 0, 0]);
  });

  it('SET_IRQS with fd < -1 or a bad fd leaves the installed trigger in place', () => {
    const r = g_rig();
    const fd = install(r, VFIO_CCW_IO_IRQ_INDEX);
    expect(r.ioctl(VFIO_DEVICE_SET_IRQS, make_irq_set_eventfd(VFIO_CCW_IO_IRQ_INDEX, -2))).toBe(-EINVAL);
    expect(r.ioctl(VFIO_DEVICE_SET_IRQS, make_irq_set_eventfd(VFIO_CCW_IO_IRQ_INDEX, 9))).toBe(-EBADF);
    expect(eventfd_ptr_fd(r.p.v.io_trigger.get(T))).toBe(fd);
    expect(r.ioctl(VFIO_DEVICE_SET_IRQS, make_irq_set({ flags: NONE | TRIGGER, index: VFIO_CCW_IO_IRQ_INDEX, count: 1 }))).toBe(0);
    expect(signals(r, fd)).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------------
// Before open, and after the last close: only the I/O region exists (the extra regions are registered at open).

describe('region set before open and after close', () => {
  it('before open: GET_INFO says 1 region; indexes 1..3 are -EINVAL for read, write and GET_REGION_INFO', () => {
    const r = g_rig({ open: false });
    const info = make_device_info();
    expect(r.ioctl(VFIO_DEVICE_GET_INFO, info)).toBe(0);
    expect(read_device_info(info)).toEqual({ argsz: 16, flags: 0x11, num_regions: 1, num_irqs: 3 });
    for (const off of [OFF_ASYNC, OFF_SCHIB, OFF_CRW]) {
      expect(r.read(off, 4)).toBe(-EINVAL);
      expect(r.write(off, cmd_region(VFIO_CCW_ASYNC_CMD_HSCH).slice(0, 4))).toBe(-EINVAL);
      expect(r.ioctl(VFIO_DEVICE_GET_REGION_INFO, make_region_info({ index: off >> 10, argsz: 48 }))).toBe(-EINVAL);
    }
    expect(r.p.sch.hw.at('n_instr', HwInstr.hsch)).toBe(0);
    // the I/O region is there (its write answers -EIO in STANDBY, see fsm_g.test.ts)
    expect(r.read(OFF_IO, IO_REGION_SIZE)).toBe(IO_REGION_SIZE);
    const ri = make_region_info({ index: 0 });
    expect(r.ioctl(VFIO_DEVICE_GET_REGION_INFO, ri)).toBe(0);
    expect(read_region_info(ri)).toEqual({ argsz: 32, flags: 0x3, index: 0, cap_offset: 0, size: 124, offset: 0 });
    // then open: 4 regions, and I/O works
    expect(vfio_device_open(r.p)).toBe(0);
    expect(r.ioctl(VFIO_DEVICE_GET_INFO, info)).toBe(0);
    expect(read_device_info(info).num_regions).toBe(4);
    expect_start(r);
  });

  it('after the last close the extra regions are gone again', () => {
    const r = g_rig();
    vfio_device_release(r.p);
    expect(r.state()).toBe(r.S.STANDBY);
    const info = make_device_info();
    expect(r.ioctl(VFIO_DEVICE_GET_INFO, info)).toBe(0);
    expect(read_device_info(info).num_regions).toBe(1);
    expect(r.read(OFF_ASYNC, CMD_REGION_SIZE)).toBe(-EINVAL);
    expect(r.ioctl(VFIO_DEVICE_GET_REGION_INFO, make_region_info({ index: 1, argsz: 48 }))).toBe(-EINVAL);
  });
});

// ---------------------------------------------------------------------------------------------
// Good answers.

describe('region reads', () => {
  it('io: whole region, and a short read of ret_code', () => {
    const r = g_rig();
    expect(r.write(OFF_IO, io_region({ fctl: 0, ret_code: -5 }))).toBe(-5);
    const buf = new Uint8Array(IO_REGION_SIZE);
    expect(r.read(OFF_IO, IO_REGION_SIZE, buf)).toBe(IO_REGION_SIZE);
    expect([...buf]).toEqual([...io_region({ fctl: 0, ret_code: -5 })]);
    const rc = new Uint8Array(4);
    expect(r.read(OFF_IO + IO_RET_CODE, 4, rc)).toBe(4);
    expect(dv(rc).getInt32(0)).toBe(-5);
  });

  it('async: command and ret_code of the last write', () => {
    const r = g_rig();
    expect(r.write(OFF_ASYNC, cmd_region(9))).toBe(-EINVAL);
    const buf = new Uint8Array(CMD_REGION_SIZE);
    expect(r.read(OFF_ASYNC, CMD_REGION_SIZE, buf)).toBe(CMD_REGION_SIZE);
    expect([dv(buf).getUint32(0), dv(buf).getInt32(4)]).toEqual([9, -EINVAL]);
    const half = new Uint8Array(4);
    expect(r.read(OFF_ASYNC + 4, 4, half)).toBe(4);
    expect(dv(half).getInt32(0)).toBe(-EINVAL);
  });

  it('schib: a fresh STORE SUBCHANNEL, 52 bytes', () => {
    const r = g_rig();
    const stores = r.p.sch.hw.at('n_instr', HwInstr.stsch);
    const buf = new Uint8Array(SCHIB_AREA_SIZE);
    expect(r.read(OFF_SCHIB, SCHIB_AREA_SIZE, buf)).toBe(SCHIB_AREA_SIZE);
    expect(r.p.sch.hw.at('n_instr', HwInstr.stsch)).toBe(stores + 1);
    expect([...buf]).toEqual([...r.p.sch.v.schib.read(0, SCHIB_AREA_SIZE, T)]);
    expect(buf.some((b) => b !== 0)).toBe(true);
  });

  it('schib: -ENODEV when STORE SUBCHANNEL fails (device gone); reads and I/O work again once it is back', () => {
    const r = g_rig();
    r.p.sch.hw.set('present', 0);
    expect(r.read(OFF_SCHIB, SCHIB_AREA_SIZE)).toBe(-ENODEV);
    r.p.sch.hw.set('present', 1);
    expect(r.read(OFF_SCHIB, SCHIB_AREA_SIZE)).toBe(SCHIB_AREA_SIZE);
    expect_start(r);
  });

  it('crw: one queued CRW per read, oldest first; the trigger is signalled while more remain; then zeroes', () => {
    const r = g_rig();
    const fd = install(r, VFIO_CCW_CRW_IRQ_INDEX);
    // Unit step: two channel-path events as chsc delivers them (sch->lock held), each queueing a CRW.
    spin_lock_irq(r.p.sch.v.lock, T);
    expect(vfio_ccw_chp_event(r.p, r.p.sch, { chpid: 0x40, mask: 0x80 }, CHP_ONLINE)).toBe(0);
    expect(vfio_ccw_chp_event(r.p, r.p.sch, { chpid: 0x40, mask: 0x80 }, CHP_OFFLINE)).toBe(0);
    spin_unlock_irq(r.p.sch.v.lock, T);
    const crw = (): number => {
      const b = new Uint8Array(CRW_REGION_SIZE).fill(0xee);
      expect(r.read(OFF_CRW, CRW_REGION_SIZE, b)).toBe(CRW_REGION_SIZE);
      expect(dv(b).getUint32(4)).toBe(0); // pad
      return dv(b).getUint32(0);
    };
    expect(crw()).toBe((CRW_RSC_CPATH << 24) | (CRW_ERC_INIT << 16) | 0x40);
    expect(signals(r, fd)).toBe(1); // one more is queued
    expect(crw()).toBe((CRW_RSC_CPATH << 24) | (CRW_ERC_PERRN << 16) | 0x40);
    expect(signals(r, fd)).toBe(1);
    expect(crw()).toBe(0);
    expect(r.p.v.crw_region.get_u32(0, T)).toBe(0); // the region is cleared after each read
  });

  it('crw: zeroes when no CRW is queued', () => {
    const r = g_rig();
    const buf = new Uint8Array(CRW_REGION_SIZE).fill(0xee);
    expect(r.read(OFF_CRW, CRW_REGION_SIZE, buf)).toBe(CRW_REGION_SIZE);
    expect([...buf]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  });
});

describe('VFIO_DEVICE_GET_INFO', () => {
  it('flags CCW|RESET (0x11), 1 + 3 regions, 3 irqs; only 16 bytes are written back', () => {
    const r = g_rig();
    const info = marked(make_device_info({ argsz: 24, flags: 0xff, num_regions: 99, num_irqs: 99 }).slice(0, 16), 24);
    expect(r.ioctl(VFIO_DEVICE_GET_INFO, info)).toBe(0);
    expect(read_device_info(info)).toEqual({ argsz: 24, flags: 0x11, num_regions: 4, num_irqs: 3 });
    expect([...info.slice(16)]).toEqual(Array.from({ length: 8 }, () => 0xee));
  });
});

describe('VFIO_DEVICE_GET_REGION_INFO', () => {
  it('index 0: offset 0, size 124, READ|WRITE, no capability', () => {
    const r = g_rig();
    const ri = marked(make_region_info({ index: 0, argsz: 48 }).slice(0, 32), 48);
    expect(r.ioctl(VFIO_DEVICE_GET_REGION_INFO, ri)).toBe(0);
    expect(read_region_info(ri)).toEqual({ argsz: 48, flags: 0x3, index: 0, cap_offset: 0, size: 124, offset: 0 });
    expect([...ri.slice(32)]).toEqual(Array.from({ length: 16 }, () => 0xee));
  });

  const EXTRA = [
    [1, 'async', 8, 0xb, 1],
    [2, 'schib', 52, 0x9, 2],
    [3, 'crw', 8, 0x9, 3],
  ] as const;

  it.each(EXTRA)('index %i (%s), argsz 32: argsz raised to 48, cap_offset 0, the capability not copied', (index, _n, size, flags) => {
    const r = g_rig();
    const ri = marked(make_region_info({ index, argsz: 32 }), 48);
    expect(r.ioctl(VFIO_DEVICE_GET_REGION_INFO, ri)).toBe(0);
    expect(read_region_info(ri)).toEqual({ argsz: 48, flags, index, cap_offset: 0, size, offset: index << 10 });
    expect([...ri.slice(32)]).toEqual(Array.from({ length: 16 }, () => 0xee));
  });

  it.each(EXTRA)('index %i (%s), argsz 48: the type capability at 32 (id 2, version 1, type 2, subtype)', (index, _n, size, flags, subtype) => {
    const r = g_rig();
    const ri = marked(make_region_info({ index, argsz: 48 }).slice(0, 32), 48);
    expect(r.ioctl(VFIO_DEVICE_GET_REGION_INFO, ri)).toBe(0);
    expect(read_region_info(ri)).toEqual({ argsz: 48, flags, index, cap_offset: 32, size, offset: index << 10 });
    expect(read_cap_type(ri, 32)).toEqual({ header: { id: 2, version: 1, next: 0 }, type: 2, subtype });
    expect(read_region_caps(ri)).toHaveLength(1);
  });

  it.each([33, 40, 47])('argsz %i (room for the header, not the capability): argsz raised to 48, nothing copied past 32', (argsz) => {
    const r = g_rig();
    const ri = marked(make_region_info({ index: 3, argsz }).slice(0, 32), 48);
    expect(r.ioctl(VFIO_DEVICE_GET_REGION_INFO, ri)).toBe(0);
    expect(read_region_info(ri)).toEqual({ argsz: 48, flags: 0x9, index: 3, cap_offset: 0, size: 8, offset: 0xc00 });
    expect([...ri.slice(32)]).toEqual(Array.from({ length: 16 }, () => 0xee));
  });

  it('the two-call protocol: the argsz the first call returns makes the second call succeed', () => {
    const r = g_rig();
    const first = make_region_info({ index: 2 });
    expect(r.ioctl(VFIO_DEVICE_GET_REGION_INFO, first)).toBe(0);
    const want = read_region_info(first).argsz;
    expect(want).toBe(48);
    const second = make_region_info({ index: 2, argsz: want });
    expect(r.ioctl(VFIO_DEVICE_GET_REGION_INFO, second)).toBe(0);
    expect(read_region_caps(second).map((c) => c.subtype)).toEqual([2]);
  });
});

describe('VFIO_DEVICE_GET_IRQ_INFO', () => {
  it.each([VFIO_CCW_IO_IRQ_INDEX, VFIO_CCW_CRW_IRQ_INDEX, VFIO_CCW_REQ_IRQ_INDEX])('index %i: one eventfd irq', (index) => {
    const r = g_rig();
    const ii = make_irq_info({ index, flags: 0xf0, count: 7 });
    expect(r.ioctl(VFIO_DEVICE_GET_IRQ_INFO, ii)).toBe(0);
    expect(read_irq_info(ii)).toEqual({ argsz: 16, flags: 1, index, count: 1 });
  });
});

describe('VFIO_DEVICE_SET_IRQS', () => {
  it('EVENTFD installs a trigger per index; DATA_NONE signals only that index\'s eventfd', () => {
    const r = g_rig();
    const io = install(r, VFIO_CCW_IO_IRQ_INDEX);
    const crw = install(r, VFIO_CCW_CRW_IRQ_INDEX);
    const req = install(r, VFIO_CCW_REQ_IRQ_INDEX);
    expect([r.p.v.io_trigger.get(T), r.p.v.crw_trigger.get(T), r.p.v.req_trigger.get(T)].map(eventfd_ptr_fd)).toEqual([io, crw, req]);
    expect(r.ioctl(VFIO_DEVICE_SET_IRQS, make_irq_set({ flags: NONE | TRIGGER, index: VFIO_CCW_CRW_IRQ_INDEX, count: 1 }))).toBe(0);
    expect([signals(r, io), signals(r, crw), signals(r, req)]).toEqual([0, 1, 0]);
    // count 0 passes validation too, and still signals
    expect(r.ioctl(VFIO_DEVICE_SET_IRQS, make_irq_set({ flags: NONE | TRIGGER, index: VFIO_CCW_REQ_IRQ_INDEX, count: 0 }))).toBe(0);
    expect([signals(r, io), signals(r, crw), signals(r, req)]).toEqual([0, 1, 1]);
    expect_start(r);
  });

  it('DATA_NONE with no trigger installed: 0, nothing signalled', () => {
    const r = g_rig();
    const fd = eventfd_create(r.g);
    expect(r.ioctl(VFIO_DEVICE_SET_IRQS, make_irq_set({ flags: NONE | TRIGGER, index: VFIO_CCW_IO_IRQ_INDEX, count: 1 }))).toBe(0);
    expect(signals(r, fd)).toBe(0);
  });

  it('DATA_BOOL: a non-zero byte signals, zero does not', () => {
    const r = g_rig();
    const fd = install(r, VFIO_CCW_IO_IRQ_INDEX);
    const bool = (v: number): Uint8Array => make_irq_set({ flags: BOOL | TRIGGER, index: VFIO_CCW_IO_IRQ_INDEX, count: 1, data: new Uint8Array([v]) });
    expect(r.ioctl(VFIO_DEVICE_SET_IRQS, bool(0))).toBe(0);
    expect(signals(r, fd)).toBe(0);
    expect(r.ioctl(VFIO_DEVICE_SET_IRQS, bool(1))).toBe(0);
    expect(r.ioctl(VFIO_DEVICE_SET_IRQS, bool(0x80))).toBe(0);
    expect(signals(r, fd)).toBe(2);
  });

  it('fd -1 clears the trigger: DATA_NONE then signals nothing', () => {
    const r = g_rig();
    const fd = install(r, VFIO_CCW_IO_IRQ_INDEX);
    expect(r.ioctl(VFIO_DEVICE_SET_IRQS, make_irq_set_eventfd(VFIO_CCW_IO_IRQ_INDEX, -1))).toBe(0);
    expect(r.p.v.io_trigger.get(T)).toBe(0);
    expect(r.ioctl(VFIO_DEVICE_SET_IRQS, make_irq_set({ flags: NONE | TRIGGER, index: VFIO_CCW_IO_IRQ_INDEX, count: 1 }))).toBe(0);
    expect(signals(r, fd)).toBe(0);
    // clearing an empty slot is fine too
    expect(r.ioctl(VFIO_DEVICE_SET_IRQS, make_irq_set_eventfd(VFIO_CCW_IO_IRQ_INDEX, -1))).toBe(0);
  });

  it('a new fd replaces the old one', () => {
    const r = g_rig();
    const a = install(r, VFIO_CCW_IO_IRQ_INDEX);
    const b = install(r, VFIO_CCW_IO_IRQ_INDEX);
    expect(r.ioctl(VFIO_DEVICE_SET_IRQS, make_irq_set({ flags: NONE | TRIGGER, index: VFIO_CCW_IO_IRQ_INDEX, count: 1 }))).toBe(0);
    expect([signals(r, a), signals(r, b)]).toEqual([0, 1]);
  });

  it('MASK|TRIGGER passes (only TRIGGER is looked at) and installs', () => {
    const r = g_rig();
    const fd = eventfd_create(r.g);
    const set = make_irq_set({ flags: EVENTFD | VFIO_IRQ_SET_ACTION_MASK | TRIGGER, index: VFIO_CCW_IO_IRQ_INDEX, count: 1, data: fd_data(fd) });
    expect(r.ioctl(VFIO_DEVICE_SET_IRQS, set)).toBe(0);
    expect(eventfd_ptr_fd(r.p.v.io_trigger.get(T))).toBe(fd);
  });

  it('EVENTFD with count 0 still reads the data word and installs it', () => {
    const r = g_rig();
    const fd = eventfd_create(r.g);
    const set = make_irq_set({ argsz: 24, flags: EVENTFD | TRIGGER, index: VFIO_CCW_IO_IRQ_INDEX, count: 0, data: fd_data(fd) });
    expect(r.ioctl(VFIO_DEVICE_SET_IRQS, set)).toBe(0);
    expect(eventfd_ptr_fd(r.p.v.io_trigger.get(T))).toBe(fd);
  });
});

describe('VFIO_DEVICE_RESET (E/G: CLOSE then OPEN)', () => {
  it('from IDLE: 0, IDLE, subchannel enabled again', () => {
    const r = g_rig();
    expect(r.ioctl(VFIO_DEVICE_RESET, null)).toBe(0);
    expect([r.state(), r.p.sch.hw.get('enabled')]).toEqual([r.S.IDLE, 1]);
    expect_start(r);
  });

  it('with a start in flight (CP_PENDING, not yet begun by the machine): 0, IDLE, the start cancelled, the cp freed', () => {
    const r = g_rig();
    expect_start(r);
    expect(r.ioctl(VFIO_DEVICE_RESET, null)).toBe(0);
    expect([r.state(), r.cp_initialized(), r.p.sch.hw.get('fctl'), r.p.sch.hw.get('enabled'), r.p.sch.hw.at('n_instr', HwInstr.xsch)]).toEqual([r.S.IDLE, 0, 0, 1, 1]);
    expect(atomic_read(r.gm.pages_unpinned_total, T)).toBe(atomic_read(r.gm.pages_pinned_total, T));
    expect_start(r);
  });

  it('with the device gone: CLOSE fails to disable, NOT_OPER, and OPEN is a nop there: -EINVAL', () => {
    const r = g_rig();
    r.p.sch.hw.set('present', 0);
    expect(r.ioctl(VFIO_DEVICE_RESET, null)).toBe(-EINVAL);
    expect(r.state()).toBe(r.S.NOT_OPER);
    // fsm_close fires NOT_OPER after dropping sch->lock (vfio_ccw_fsm.c), so fsm_notoper runs unlocked; css.c
    // asserts no lock there, so nothing is reported
    expect(r.take_warnings()).toEqual([]);
  });

  it('DMA unmap (E/G .dma_unmap): a range over a pinned page resets (CP_PENDING -> IDLE, cp freed); another range does nothing', () => {
    const r = g_rig();
    expect_start(r);
    expect(vfio_ccw_dma_unmap(r.p, DATA + 0x1000, 0x1000)).toBe(0); // the page after the data
    expect([r.state(), r.cp_initialized()]).toEqual([r.S.CP_PENDING, 1]);
    expect(vfio_ccw_dma_unmap(r.p, DATA - 0x1000, 0x1001)).toBe(0); // ends on the data page's first byte
    expect([r.state(), r.cp_initialized(), r.p.sch.hw.get('fctl')]).toEqual([r.S.IDLE, 0, 0]);
    expect_start(r);
  });

  it.skip('with a halt pending in CP_PENDING: needs the engine (quiesce waits up to 3 s for the halt\'s interrupt, which only the machine thread delivers)', () => {});
});
