// A whole system of one variant (mainline, version G, unless a test names another) built on the
// test's own thread: one device, its mdev, guest memory with a one-CCW channel program, and
// helpers that speak to the device as a user would (pread/pwrite/ioctl through src/driver/ops.ts). No engine and no workers run: the
// machine accepts ssch synchronously, and no interrupt is ever delivered unless a test runs a
// driver function itself. Every rig has its own global buffer, so workqueue, eventfds and
// warnings start empty.
import { expect } from 'vitest';
import { ActorKind, H, alloc_global, mutex_trylock, mutex_unlock, read_warnings, register_hook, set_current, spin_is_locked, type HookFn, type SharedBuf } from '../../src/kernel/index.ts';
import type { HwInit } from '../../src/hw/layout.ts';
import { alloc_devices, bind_system, init_driver, init_system, type System } from '../../src/system/device.ts';
import { vfio_ccw_mdev_ioctl, vfio_ccw_mdev_read, vfio_ccw_mdev_write, vfio_device_open } from '../../src/driver/ops.ts';
import type { VfioCcwPrivate } from '../../src/driver/private.ts';
import type { UserPtr } from '../../src/driver/uaccess.ts';
import { make_orb } from '../../src/client/guest.ts';
import { CCW_CMD, CCW_FLAG, ccw, ccw_chain } from '../../src/uapi/ccw.ts';
import { orb_bytes, type Orb } from '../../src/uapi/orb.ts';
import { SCSW_FCTL_START_FUNC } from '../../src/uapi/scsw.ts';
import { CMD_REGION_SIZE, IO_ORB, IO_REGION_SIZE, IO_RET_CODE, IO_SCSW } from '../../src/uapi/vfio_ccw.ts';
import { guest_write, type GuestMemoryView } from '../../src/vfio/guest.ts';

/** The test's actor id; OTHER_ACTOR plays "someone else" holding a lock. */
export const TEST_ACTOR = 0;
export const OTHER_ACTOR = 5;

/** File offsets of the regions after open (VFIO_CCW_INDEX_TO_OFFSET of each region index). */
export const OFF_IO = 0x000;
export const OFF_ASYNC = 0x400;
export const OFF_SCHIB = 0x800;
export const OFF_CRW = 0xc00;

/** The channel program every rig lays out: one WRITE of 16 bytes from 0x4000, at 0x1000. */
export const CPA = 0x1000;
export const DATA = 0x4000;

export interface GRig {
  g: SharedBuf;
  sys: System;
  p: VfioCcwPrivate;
  gm: GuestMemoryView;
  /** the driver's state numbering */
  S: VfioCcwPrivate['drv']['S'];
  E: VfioCcwPrivate['drv']['E'];
  read(ppos: number, count: number, buf?: UserPtr): number;
  write(ppos: number, data: UserPtr, count?: number): number;
  ioctl(cmd: number, arg: UserPtr): number;
  state(): number;
  /** io_region.ret_code as the driver left it */
  ret_code(): number;
  cp_initialized(): number;
  /** ssch the machine accepted so far */
  sschs(): number;
  /** kernel warnings recorded since the last call (lockdep, WARN_ON, might_sleep, ...) */
  take_warnings(): string[];
}

let last: GRig | null = null;
/** For afterEach: the warnings the test's last rig recorded and the test did not take; forgets the rig. */
export function end_rig(): string[] {
  const w = last?.take_warnings() ?? [];
  last = null;
  return w;
}

/**
 * A fresh system with its mdev (G: STANDBY; before v6.0 the mdev create makes it IDLE); `open`
 * also opens the device fd (G: IDLE). `variant` is a registry name, 'mainline' by default.
 */
export function g_rig(opts: { open?: boolean; hw?: Partial<HwInit>; variant?: string } = {}): GRig {
  const g = alloc_global();
  set_current(g, TEST_ACTOR, ActorKind.test, 't');
  const bufs = alloc_devices(g, 1);
  const sys = bind_system(g, bufs, opts.variant ?? 'mainline');
  init_system(sys, opts.hw ?? {});
  init_driver(sys, { mdev: true });
  const p = sys.devs[0]!;
  const gm = sys.guests[0]!;
  let seen = 0;
  guest_write(gm, CPA, ccw_chain([ccw(CCW_CMD.WRITE, CCW_FLAG.SLI, 16, DATA)], { chain: false }));
  const r: GRig = {
    g,
    sys,
    p,
    gm,
    S: p.drv.S,
    E: p.drv.E,
    read: (ppos, count, buf = new Uint8Array(count)) => vfio_ccw_mdev_read(p, buf, count, ppos),
    write: (ppos, data, count = data?.length ?? 0) => vfio_ccw_mdev_write(p, data, count, ppos),
    ioctl: (cmd, arg) => vfio_ccw_mdev_ioctl(p, cmd, arg),
    state: () => p.v.state.get('test'),
    ret_code: () => p.v.io_region.get_i32(IO_RET_CODE, 'test'),
    cp_initialized: () => p.cp.v.initialized.get('test'),
    sschs: () => p.sch.hw.get('start_seq'),
    take_warnings: () => {
      const w = read_warnings(g, seen);
      seen = w.count;
      return w.records.map((x) => `${x.name}: ${x.msg}`);
    },
  };
  if (opts.open ?? true) expect(vfio_device_open(p)).toBe(0);
  last = r;
  return r;
}

/**
 * Plain writes to the object `obj` made while sch->lock is free, during `body`. The kernel writes
 * sch->schib (cio_enable_subchannel) and sch->todo (css_sched_sch_todo) without the lock on some
 * paths; cio.c asserts nothing there, so no warning comes, but the write is real and I18 and the
 * race detector see it. Returns the sites of those writes.
 */
export function writes_without_sch_lock(r: GRig, obj: number, body: () => void): string[] {
  const sites: string[] = [];
  hooked((k, o, site) => {
    if (k === H.write && o === obj && !spin_is_locked(r.p.sch.v.lock)) sites.push(site);
  }, body);
  return sites;
}

/** Install a hook for the body only. */
export function hooked<R>(fn: HookFn, body: () => R): R {
  const off = register_hook(fn);
  try {
    return body();
  } finally {
    off();
  }
}

/** The 124-byte I/O region a user writes: ORB, SCSW word 0 (fctl), and ret_code. */
export function io_region(f: { orb?: Orb; fctl?: number; scsw_w0?: number; ret_code?: number } = {}): Uint8Array {
  const b = new Uint8Array(IO_REGION_SIZE);
  const d = new DataView(b.buffer);
  b.set(orb_bytes(f.orb ?? make_orb(CPA)), IO_ORB);
  d.setUint32(IO_SCSW, (f.scsw_w0 ?? (f.fctl ?? SCSW_FCTL_START_FUNC) << 12) >>> 0);
  d.setInt32(IO_RET_CODE, f.ret_code ?? 0);
  return b;
}

/** The 8-byte async command region: command, ret_code. */
export function cmd_region(command: number, ret_code = 0): Uint8Array {
  const b = new Uint8Array(CMD_REGION_SIZE);
  const d = new DataView(b.buffer);
  d.setUint32(0, command >>> 0);
  d.setInt32(4, ret_code);
  return b;
}

/** A start through the I/O region that the driver accepts: the write returns 124, ret_code 0. */
export function start_accepted(r: GRig): void {
  expect(r.write(OFF_IO, io_region())).toBe(IO_REGION_SIZE);
  expect(r.ret_code()).toBe(0);
}

/** A valid start: the write returns 124 and the device goes to CP_PENDING with the cp built. */
export function expect_start(r: GRig): void {
  const before = r.sschs();
  start_accepted(r);
  expect(r.state()).toBe(r.S.CP_PENDING);
  expect(r.cp_initialized()).toBe(1);
  expect(r.sschs()).toBe(before + 1);
}

/** Run `body` while another actor holds io_mutex (a user thread in the middle of a write). */
export function with_io_mutex_held_elsewhere<T>(r: GRig, body: () => T): T {
  set_current(r.g, OTHER_ACTOR, ActorKind.user, 'other');
  expect(mutex_trylock(r.p.v.io_mutex, 'other')).toBe(1);
  set_current(r.g, TEST_ACTOR, ActorKind.test, 't');
  try {
    return body();
  } finally {
    set_current(r.g, OTHER_ACTOR, ActorKind.user, 'other');
    mutex_unlock(r.p.v.io_mutex, 'other');
    set_current(r.g, TEST_ACTOR, ActorKind.test, 't');
  }
}

export const dv = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);
