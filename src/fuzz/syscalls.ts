// The device's user interface as data (issue 14): every call a user program can make, its
// arguments, which variants have it, and the answers vfio_ccw_ops.c allows for it. The
// generator (gen.ts) and the executor (exec.ts) read this table and nothing else.
import { EACCES, EAGAIN, EBADF, EBUSY, EEXIST, EFAULT, EINVAL, EIO, ENODEV, ENOENT, ENOMEM, ENOTTY, EOPNOTSUPP, EPERM } from '../uapi/errno.ts';
import { CMD_REGION_SIZE, CRW_REGION_SIZE, IO_REGION_SIZE, SCHIB_AREA_SIZE, VFIO_CCW_ASYNC_CMD_CSCH, VFIO_CCW_ASYNC_CMD_HSCH } from '../uapi/vfio_ccw.ts';
import type { VariantFeatures } from '../variants/index.ts';
import type { Rng } from '../hw/prng.ts';

/** One step of a user program: a call by name, its numeric arguments, and the device it names. */
export interface Call {
  op: string;
  a: number[];
  /** the device index (fuzz --devices N): absent is device 0, the one device of a 1-device run */
  d?: number;
}

export type ArgMode = 'valid' | 'near' | 'random';

/** What the executor knows when it judges an answer. */
export interface RunView {
  /** some program of the run closes an FD (per-FD release drops every extra region on ≤ v5.14) */
  closes: boolean;
  /** this user's eventfd slot k holds a live eventfd */
  efd_live(slot: number): boolean;
  /** fault injection is on: allocations, registrations and lookups may fail */
  fault: boolean;
  /** some program of the run creates or removes the mdev: an open may find no device */
  lifecycle?: boolean;
}

export interface Arg {
  name: string;
  /** a well-formed value for this variant */
  valid(f: VariantFeatures, r: Rng): number;
  /** values one step outside what is well-formed (near-valid) */
  edge(f: VariantFeatures): readonly number[];
  /** random values: [lo, hi] */
  span: readonly [number, number];
}

export type Group = 'region' | 'ioctl' | 'eventfd' | 'lifecycle' | 'mdev' | 'hw';

export interface CallSpec {
  op: string;
  group: Group;
  args: readonly Arg[];
  /** relative weight in generation */
  weight: number;
  available(f: VariantFeatures): boolean;
  /** the answers the spec allows, or null when the call has no answer to judge */
  expect(a: readonly number[], f: VariantFeatures, v: RunView): readonly number[] | null;
}

// ---- regions (vfio_ccw_mdev_read/write, vfio_ccw_async.c, vfio_ccw_chp.c) ----

/** Extra regions (index 1…) in registration order: async, schib, crw. */
export const REGION_SIZES = [IO_REGION_SIZE, CMD_REGION_SIZE, SCHIB_AREA_SIZE, CRW_REGION_SIZE] as const;
export const REGION_NAMES = ['io', 'async', 'schib', 'crw'] as const;

export function base_regions(f: VariantFeatures): number {
  return f.regions === 'io' ? 0 : f.regions === 'io+async' ? 1 : 3;
}

/** The file offset of (index, pos): B has no index (the offset is the position). */
export function region_offset(f: VariantFeatures, index: number, pos: number): number {
  return f.offset_shift ? index * 1024 + pos : pos;
}

const WRITE_START_ERRNOS = [-EACCES, -EAGAIN, -EBUSY, -EIO, -ENODEV, -EOPNOTSUPP, -EINVAL, -EFAULT, -ENOMEM];

/** Allowed answers of a read (w = 0) or write (w = 1) of `count` at (index, pos). */
function region_expect(f: VariantFeatures, v: RunView, w: boolean, index: number, pos: number, count: number, fault: boolean, payload: number): number[] {
  const n = base_regions(f);
  if (!f.offset_shift) index = 0;
  if (index > n) {
    // ≤ v5.14 registers the regions again on every open: a higher index can be real then.
    if (!f.per_fd_open || n === 0) return [-EINVAL];
    return [-EINVAL, ...region_expect(f, v, w, ((index - 1) % n) + 1, pos, count, fault, payload)];
  }
  const size = REGION_SIZES[index]!;
  const gone = index > 0 && v.closes && f.per_fd_open ? [-EINVAL] : [];
  if (pos + count > size) return [-EINVAL];
  if (index === 0) {
    if (!w) return fault ? [-EFAULT] : [count];
    const pre = [...(f.write_prefilter_eacces ? [-EACCES] : []), ...(f.io_mutex ? [-EAGAIN] : [])];
    if (fault) return [-EFAULT, ...pre];
    // A full write that asks for halt or clear: -EOPNOTSUPP in IDLE, the state's answer elsewhere.
    if (pos === 0 && count === IO_REGION_SIZE && (payload === 1 || payload === 2) && f.halt_clear_on_io_region === '-EOPNOTSUPP') return [-EOPNOTSUPP, -EBUSY, -EIO, -EAGAIN, ...pre];
    return [count, ...WRITE_START_ERRNOS];
  }
  if (index === 1) {
    if (!w) return fault ? [-EFAULT, ...gone] : [count, ...gone];
    if (fault) return [-EFAULT, -EAGAIN, ...gone];
    const known = payload === VFIO_CCW_ASYNC_CMD_HSCH || payload === VFIO_CCW_ASYNC_CMD_CSCH;
    // A write shorter than the command word leaves whatever command the region held.
    if (pos === 0 && count >= 4 && !known) return [-EINVAL, -EAGAIN, -EIO, ...gone];
    return [count, -EBUSY, -ENODEV, -EAGAIN, -EIO, -EINVAL, ...gone];
  }
  // schib and crw are read-only
  if (w) return [-EINVAL];
  // schib: STORE SUBCHANNEL runs before the copy out, so -ENODEV comes first
  if (fault) return index === 2 ? [-EFAULT, -ENODEV, ...gone] : [-EFAULT, ...gone];
  return index === 2 ? [count, -ENODEV, ...gone] : [count, ...gone];
}

// ---- argument helpers ----

const pick = <T>(r: Rng, xs: readonly T[]): T => xs[r.range([0, xs.length - 1])]!;
const arg = (name: string, valid: Arg['valid'], edge: Arg['edge'], span: Arg['span']): Arg => ({ name, valid, edge, span });
const bool = (name: string, p: number): Arg => arg(name, (_f, r) => (r.chance(p) ? 1 : 0), () => [1], [0, 1]);

/** A region index argument for region `k`: one past the registered ones is the near miss. */
const regionIndex = (k: number): Arg => arg('index', () => k, (f) => [base_regions(f) + 1], [0, 15]);
const posArg = (k: number): Arg => arg('pos', (_f, r) => (r.chance(0.8) ? 0 : r.range([0, REGION_SIZES[k]! - 1])), () => [REGION_SIZES[k]!], [0, 1023]);
const countArg = (k: number): Arg => arg('count', () => REGION_SIZES[k]!, () => [REGION_SIZES[k]! + 1], [0, 200]);

function region_call(k: number, w: boolean, payload: readonly Arg[], weight: number): CallSpec {
  const args = [regionIndex(k), posArg(k), countArg(k), bool('fault', 0), ...payload];
  return {
    op: `${w ? 'write' : 'read'}_${REGION_NAMES[k]}`,
    group: 'region',
    args,
    weight,
    available: (f) => k < 1 + base_regions(f),
    expect: (a, f, v) => {
      const [index, pos, count, fault, p] = a as [number, number, number, number, number?];
      return region_expect(f, v, w, index, pos, count, fault !== 0, p ?? 0);
    },
  };
}

/** write_io's payload: fctl (0 start, 1 halt, 2 clear, 3 none) and the guest program. */
export const IO_PROGRAMS = ['dasd1', 'dasd4', 'dasd16', 'sense', 'nopfch', 'badccw', 'tm', 'pci'] as const;
const ioPayload = arg('fctl', (_f, r) => (r.chance(0.85) ? 0 : r.range([1, 2])), () => [3], [0, 7]);
const ioProgram = arg('prog', (_f, r) => (r.chance(0.8) ? r.range([0, 3]) : r.range([0, IO_PROGRAMS.length - 1])), () => [4, 5, 6], [0, IO_PROGRAMS.length - 1]);
const cmdPayload = arg('cmd', (_f, r) => pick(r, [VFIO_CCW_ASYNC_CMD_HSCH, VFIO_CCW_ASYNC_CMD_CSCH]), () => [0, 3, 4], [0, 7]);

// ---- ioctls (vfio_ccw_mdev_ioctl) ----

const argsz = (min: number): Arg => arg('argsz', (_f, r) => (r.chance(0.8) ? min : min + r.range([0, 32])), () => [min - 1], [0, 96]);
const irqIndex = arg('index', (f, r) => r.range([0, f.irqs - 1]), (f) => [f.irqs], [0, 7]);

const ioctl = (op: string, args: Arg[], weight: number, expect: CallSpec['expect']): CallSpec => ({ op, group: 'ioctl', args, weight, available: () => true, expect });

const faulted = (a: readonly number[], i: number): boolean => a[i] !== 0;

const IOCTLS: CallSpec[] = [
  ioctl('get_info', [argsz(16), bool('fault', 0)], 2, (a) => (faulted(a, 1) ? [-EFAULT] : a[0]! < 16 ? [-EINVAL] : [0])),
  ioctl(
    'get_region_info',
    [argsz(32), arg('index', (f, r) => r.range([0, base_regions(f)]), (f) => [1 + base_regions(f)], [0, 15]), bool('fault', 0)],
    3,
    (a, f, v) => {
      const [sz, index] = a as [number, number];
      if (faulted(a, 2)) return [-EFAULT];
      if (sz < 32) return [-EINVAL];
      if (index === 0) return [0];
      if (!f.offset_shift) return [-EINVAL];
      const n = base_regions(f);
      if (index > n) return f.per_fd_open && n > 0 ? [-EINVAL, 0] : [-EINVAL];
      return v.closes && f.per_fd_open ? [0, -EINVAL] : [0];
    },
  ),
  ioctl('get_irq_info', [argsz(16), irqIndex, bool('fault', 0)], 2, (a, f) => (faulted(a, 2) ? [-EFAULT] : a[0]! < 16 || a[1]! >= f.irqs ? [-EINVAL] : [0])),
  ioctl(
    'set_irqs',
    [
      argsz(24),
      // DATA_EVENTFD | ACTION_TRIGGER; DATA_NONE / DATA_BOOL with TRIGGER
      arg('flags', (_f, r) => pick(r, [0x24, 0x24, 0x24, 0x21, 0x22]), () => [0x04, 0x64, 0x2c], [0, 0x7f]),
      irqIndex,
      arg('start', () => 0, () => [1], [0, 3]),
      arg('count', () => 1, () => [2], [0, 3]),
      // eventfd slot 0..3 of this user, 4 = -1 (unset); near miss 5 = -2
      arg('data', (_f, r) => (r.chance(0.15) ? 4 : r.range([0, 3])), () => [5], [0, 7]),
    ],
    4,
    (a, f, v) => {
      const [sz, flags, index, start, count, data] = a as [number, number, number, number, number, number];
      const type = flags & 7;
      if (sz < 20 || index >= f.irqs || (flags & ~0x3f) !== 0 || start >= 1 || start + count > 1) return [-EINVAL];
      const size = type === 1 ? 0 : type === 2 ? 1 : type === 4 ? 4 : -1;
      if (size < 0 || (size !== 0 && sz - 20 < count * size)) return [-EINVAL];
      if ((flags & 0x20) === 0) return [-EINVAL];
      if (type !== 4) return [0];
      if (data === 4) return [0];
      if (data >= 5) return [-EINVAL];
      // another user's eventfd may sit at a number this user does not hold
      return v.efd_live(data) && !v.fault ? [0] : [0, -EBADF];
    },
  ),
  ioctl('reset', [], 2, (_a, f) => (f.reset === 'close+open' ? [0, -EINVAL] : f.reset === 'offline+online' ? [0, -EIO] : [0, -EBUSY, -ENODEV, -EIO])),
  ioctl('bad_ioctl', [arg('cmd', () => 0x3b70, () => [0x3b6a], [0, 0xffff])], 1, (a) => ([0x3b6b, 0x3b6c, 0x3b6d, 0x3b6e, 0x3b6f].includes(a[0]!) ? null : [-ENOTTY])),
];

// ---- eventfds, lifecycle, hardware ----

const slot = arg('slot', (_f, r) => r.range([0, 3]), () => [4], [0, 7]);
const unchecked = (op: string, group: Group, args: Arg[], weight: number, available: CallSpec['available'] = () => true): CallSpec => ({ op, group, args, weight, available, expect: () => null });

/** Guest pages the channel programs use (GUEST_MEM_START … END). */
const iova = arg('iova', (_f, r) => r.range([1, 15]) * 0x1000, () => [0x1001, 0x1800], [0, 0x10fff]);
const length = arg('len', (_f, r) => pick(r, [0x1000, 0x2000, 0x4000]), () => [1, 0xfff], [0, 0x20000]);

/**
 * The mdev's lifecycle through sysfs (vfio/mdev_core.ts): write QEMU's UUID to the type's `create`
 * (mdev_device_create, then the driver's probe: vfio_ccw_mdev_create/probe in vfio_ccw_ops.c) and
 * 1 to the mdev's `remove` (mdev_device_remove: the vfio core waits for every FD, then the
 * driver's remove). Generated only when asked for (`--lifecycle`): they change every program.
 */
const MDEV_CALLS: CallSpec[] = [
  {
    op: 'mdev_probe',
    group: 'mdev',
    args: [],
    weight: 0.2,
    available: () => true,
    // -ENOENT: no parent, so no create attribute (the subchannel gone, or back and not yet probed);
    // -EEXIST: the UUID is on mdev_list; the driver: -ENODEV on a NOT_OPER device, -EPERM with no instance left (≤ v6.0)
    expect: (_a, f) => [0, -ENOENT, -EEXIST, -ENODEV, ...(f.avail_accounting ? [-EPERM] : [])],
  },
  // -ENOENT: no mdev, no attribute; -EAGAIN: a create that has not finished (≤ v5.2 also the css
  // worker's removal of the gone device); v5.3+ -ENODEV: that removal holds parent->unreg_sem
  { op: 'mdev_remove', group: 'mdev', args: [], weight: 0.1, available: () => true, expect: (_a, f) => [0, -ENOENT, -EAGAIN, ...(f.mdev_unreg_sem ? [-ENODEV] : [])] },
];

export const CALLS: readonly CallSpec[] = [
  region_call(0, false, [], 4),
  region_call(0, true, [ioPayload, ioProgram], 10),
  region_call(1, false, [], 2),
  region_call(1, true, [cmdPayload], 5),
  region_call(2, false, [], 3),
  region_call(2, true, [], 1),
  region_call(3, false, [], 3),
  region_call(3, true, [], 1),
  ...IOCTLS,
  unchecked('efd_create', 'eventfd', [slot], 2),
  unchecked('efd_close', 'eventfd', [slot], 1),
  unchecked('efd_signal', 'eventfd', [slot], 1),
  unchecked('efd_read', 'eventfd', [slot], 3),
  // VFIO_GROUP_GET_DEVICE_FD: -ENODEV once the device has left its group (an mdev remove)
  { op: 'open_fd', group: 'lifecycle', args: [], weight: 1, available: () => true, expect: (_a, f, v) => [0, ...(f.open_close_fsm_events ? [-EINVAL] : []), ...(v.fault ? [-ENOMEM] : []), ...(v.lifecycle === true ? [-ENODEV] : [])] },
  unchecked('close_fd', 'lifecycle', [], 1),
  { op: 'dma_unmap', group: 'lifecycle', args: [iova, length], weight: 2, available: () => true, expect: (_a, f) => (f.dma_unmap === 'notifier-exact' ? [0, -EBUSY] : [0]) },
  unchecked('hw_unsolicited', 'hw', [arg('dstat', (_f, r) => pick(r, [0x80, 0x0c, 0x02]), () => [0], [0, 255])], 1),
  unchecked('hw_path', 'hw', [arg('event', (_f, r) => r.range([0, 3]), () => [4], [0, 3]), arg('chpid', (_f, r) => r.range([0, 3]), () => [8], [0, 7])], 1, (f) => f.chp_event),
  unchecked('hw_gone', 'hw', [], 0.05),
  // the device attached again (a subchannel CRW): never drawn by weight; gen.ts puts one after an
  // hw_gone of a lifecycle program (HW_BACK), so programs without hw_gone stay as they were
  unchecked('hw_back', 'hw', [], 0),
  ...MDEV_CALLS,
];

// ---- the device a call names (fuzz --devices N) ----

/**
 * What a call's device index names: `fd`, a device FD the user opened (one past the last device
 * is the near miss: no such device, so no FD); `dev`, a device that exists (the machine's events
 * on a subchannel, an unmap in its container, its mdev's create and remove); null, no device (a user's own eventfds).
 */
export type DeviceUse = 'fd' | 'dev' | null;

export function device_use(c: CallSpec): DeviceUse {
  if (c.group === 'eventfd') return null;
  return c.group === 'hw' || c.group === 'mdev' || c.op === 'dma_unmap' ? 'dev' : 'fd';
}

/** The device index argument over `devices`: FD calls may name the device one past the last. */
export const deviceArg = (devices: number, use: Exclude<DeviceUse, null>): Arg => arg('dev', (_f, r) => r.range([0, devices - 1]), () => (use === 'fd' ? [devices] : []), [0, devices - 1]);

/**
 * The answers for a call on device `d` of `devices`, or the call's own (d exists). A device that
 * does not exist has no FD: its open fails as VFIO_GROUP_GET_DEVICE_FD fails for a name no
 * device has (vfio_device_get_from_name: -ENODEV, drivers/vfio/vfio.c v5.3 and group.c v6.2),
 * and a read, write or ioctl on the FD that was never returned fails in fdget (-EBADF).
 */
export function device_expect(c: CallSpec, d: number, devices: number): readonly number[] | null | undefined {
  if (d < devices || device_use(c) !== 'fd') return undefined;
  if (c.op === 'open_fd') return [-ENODEV];
  return c.op === 'close_fd' ? null : [-EBADF];
}

export function call_spec(op: string): CallSpec {
  const c = CALLS.find((x) => x.op === op);
  if (c === undefined) throw new Error(`fuzz: no call '${op}'`);
  return c;
}

/** The calls a variant has (the mdev lifecycle calls only with `lifecycle`). */
export function calls_of(f: VariantFeatures, lifecycle = false): CallSpec[] {
  return CALLS.filter((c) => c.weight > 0 && c.available(f) && (lifecycle || c.group !== 'mdev'));
}

/** Does a program create or remove the mdev? */
export const is_lifecycle_op = (op: string): boolean => call_spec_or_null(op)?.group === 'mdev';
const call_spec_or_null = (op: string): CallSpec | null => CALLS.find((x) => x.op === op) ?? null;

/** Every errno the spec lists for a call on this variant (the denominator of errno coverage). */
export function spec_errnos(c: CallSpec, f: VariantFeatures): number[] {
  const out = new Set<number>();
  const view: RunView = { closes: true, efd_live: () => false, fault: false };
  // The union over every argument edge: valid values, each field's near misses, faults.
  const r = { range: (x: readonly [number, number]) => x[0], chance: () => false, real: () => 0 } as unknown as Rng;
  const base = c.args.map((x) => x.valid(f, r));
  const tries: number[][] = [base];
  c.args.forEach((x, i) => {
    for (const e of [...x.edge(f), x.span[0], x.span[1]]) tries.push(base.map((b, j) => (j === i ? e : b)));
  });
  for (const t of tries) for (const rc of c.expect(t, f, view) ?? []) if (rc < 0) out.add(rc);
  return [...out].sort((a, b) => b - a);
}
