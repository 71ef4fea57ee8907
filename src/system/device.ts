// One device's shared buffer and the per-thread handles over it: struct vfio_ccw_private, the
// host's struct subchannel, the machine's subchannel, the channel program and guest memory.
import { INIT_WORK, WORD, allocBuf, name_eventfds, atomic, bind, create_singlethread_workqueue, defineStruct, fault_active, nameRegion, words, type SharedBuf, type WorkStruct, type WorkqueueStruct } from '../kernel/index.ts';
import { HwCss, HwSubchannel, bind_hw_css, hw_css_reset, hw_name_region, hw_reset, type HwCssView, type HwInit } from '../hw/layout.ts';
import { CssSlowPath, Subchannel, SubchannelDev, bind_subchannel, css_init_subchannel, type CssBus } from '../cio/css.ts';
import { ChannelProgram, bind_cp } from '../driver/cp.ts';
import { GuestMemory, bind_guest, type GuestMemoryView } from '../vfio/guest.ts';
import { VfioCcwPrivate as PrivateStruct, type VfioCcwPrivate } from '../driver/private.ts';
import { driver_for } from '../driver/fsm.ts';
import { vfio_ccw_sch_probe } from '../driver/drv.ts';
import { vfio_ccw_mdev_probe, vfio_ccw_private_init } from '../driver/ops.ts';
import { VfioCore, type VfioCoreView } from '../vfio/mdev_core.ts';
import { eventfds_for, type SharedMemory } from './devices.ts';

/** Buffer indexes: 0 global, 1 the system area (css-wide machine words, scenario words), 2.. devices. */
export const SYS_INDEX = 1;
export const dev_index = (dev: number): number => dev + 2;
/** The device a shared buffer belongs to, as reports name it ("dev3"), or null for a shared one. */
export const device_of_buffer = (buf: number): string | null => (buf >= dev_index(0) ? `dev${buf - dev_index(0)}` : null);

export const SysArea = defineStruct('sys', {
  barrier: atomic('user barrier'),
  barrier_gen: atomic(),
  flags: words(15, 'scenario flags'),
  stop: atomic('the run is asked to stop (Ctrl-C, a bound): users end their loops (ScenarioEnv.more)'),
  results: words(64, 'scenario result words'),
});
const SYS_CSS = 0;
const SYS_AREA = HwCss.words;
/** css.c's slow path (slow_subchannel_lock, slow_path_work), last so nothing before moves. */
const SYS_SLOW = SYS_AREA + SysArea.words;
export const SYS_WORDS = SYS_SLOW + CssSlowPath.words;

const PRIV = 0;
const SCH = PRIV + PrivateStruct.words;
const HW = SCH + Subchannel.words;
const CP = HW + HwSubchannel.words;
const GUEST = CP + ChannelProgram.words + (((CP + ChannelProgram.words) & 1) === 0 ? 0 : 1);
/** The mdev core's and vfio core's words for the device's one mdev (vfio/mdev_core.ts), last so nothing before moves. */
const VCORE = GUEST + GuestMemory.words;
// struct subchannel's todo part comes after: the object ids before it stay as they were.
const SCH_DEV = VCORE + VfioCore.words;
export const DEVICE_WORDS = SCH_DEV + SubchannelDev.words;

export const WORK_IO_TODO = 1;
export const WORK_CRW_TODO = 2;
/** css_sch_todo, on the css layer's cio_work_q */
export const WORK_SCH_TODO = 3;
/** css_slow_path_func (slow_path_work), on cio_work_q */
export const WORK_SLOW_PATH = 4;

/** Names for reports: done in every thread (the layouts are code, the names are per thread). */
export function name_system(devices: number): void {
  name_eventfds(eventfds_for(devices));
  nameRegion(SYS_INDEX, SYS_CSS, HwCss, 'css.');
  nameRegion(SYS_INDEX, SYS_AREA, SysArea, 'sys.');
  nameRegion(SYS_INDEX, SYS_SLOW, CssSlowPath, 'css_slow_path.');
  for (let d = 0; d < devices; d++) {
    const b = dev_index(d);
    const pre = devices === 1 ? '' : `dev${d}.`;
    nameRegion(b, PRIV, PrivateStruct, `${pre}private->`);
    nameRegion(b, SCH, Subchannel, `${pre}sch->`);
    hw_name_region(b, null, HW, `${pre}hw.`);
    nameRegion(b, CP, ChannelProgram, `${pre}cp->`);
    nameRegion(b, GUEST, GuestMemory, `${pre}guest.`);
    nameRegion(b, VCORE, VfioCore, `${pre}vfio.`);
    nameRegion(b, SCH_DEV, SubchannelDev, `${pre}sch->`);
  }
}

export interface SystemBufs {
  g: SharedBuf;
  sys: SharedBuf;
  devs: SharedBuf[];
}

/** Main: allocate the system's buffers (zero is every field's initial value). */
export function alloc_devices(g: SharedBuf, devices: number): SystemBufs {
  const sys = allocBuf(SYS_INDEX, SYS_WORDS);
  const devs = Array.from({ length: devices }, (_, d) => allocBuf(dev_index(d), DEVICE_WORDS));
  return { g, sys, devs };
}

/** What the buffers alloc_devices makes weigh, in bytes (the same for every device). */
export function shared_memory(bufs: SystemBufs): SharedMemory {
  const device_bytes = DEVICE_WORDS * WORD;
  const global_bytes = bufs.g.sab.byteLength;
  const system_bytes = bufs.sys.sab.byteLength;
  return { device_bytes, global_bytes, system_bytes, total_bytes: global_bytes + system_bytes + bufs.devs.reduce((n, d) => n + d.sab.byteLength, 0) };
}

/** The per-thread view of the whole system. */
export interface System {
  readonly g: SharedBuf;
  readonly css: HwCssView;
  readonly sys: ReturnType<typeof bind_sys>;
  readonly devs: readonly VfioCcwPrivate[];
  readonly guests: readonly GuestMemoryView[];
  readonly wq: WorkqueueStruct;
  /** the css layer's cio_work_q (css.c), run by the css worker */
  readonly cio_wq: WorkqueueStruct;
  /** the css bus the slow path walks: slow_subchannel_set and every subchannel */
  readonly bus: CssBus;
}

const bind_sys = (b: SharedBuf) => bind(SysArea, b, SYS_AREA);

/** Main: ask the users to end their loops; the run ends and still reports. */
export function request_stop(sys: SharedBuf): void {
  const i = SYS_AREA + SysArea.fields.stop.off;
  Atomics.store(sys.i32, i, 1);
  Atomics.notify(sys.i32, i);
}

/** Build this thread's handles over the buffers (any thread, any time after main initialised them). */
export function bind_system(g: SharedBuf, bufs: ReadonlyMap<number, SharedBuf> | SystemBufs, variant: string): System {
  const get = (i: number): SharedBuf => {
    const b = bufs instanceof Map ? bufs.get(i) : i === SYS_INDEX ? (bufs as SystemBufs).sys : (bufs as SystemBufs).devs[i - 2];
    if (b === undefined) throw new Error(`no shared buffer ${i}`);
    return b;
  };
  const n = bufs instanceof Map ? [...bufs.keys()].filter((k) => k >= 2).length : (bufs as SystemBufs).devs.length;
  name_system(n);
  const sysb = get(SYS_INDEX);
  const css = bind_hw_css(sysb, SYS_CSS);
  const drv = driver_for(variant);
  const works = new Map<number, WorkStruct>();
  const wq = create_singlethread_workqueue(g, 'vfio-ccw', (id) => works.get(id));
  const cio_works = new Map<number, WorkStruct>();
  const cio_wq = create_singlethread_workqueue(g, 'cio', (id) => cio_works.get(id));
  const slow = bind(CssSlowPath, sysb, SYS_SLOW);
  cio_works.set(slow.work.id, slow.work);
  const devs: VfioCcwPrivate[] = [];
  const guests: GuestMemoryView[] = [];
  for (let d = 0; d < n; d++) {
    const buf = get(dev_index(d));
    const gm = bind_guest(buf, GUEST);
    const v = bind(PrivateStruct, buf, PRIV);
    const p: VfioCcwPrivate = { dev: d, buf, g, v, sch: bind_subchannel(buf, SCH, HW, d, css, SCH_DEV, cio_wq), cp: bind_cp(buf, CP, gm, drv.f.cp_rules), drv, wq, core: bind(VfioCore, buf, VCORE) };
    works.set(v.io_work.id, v.io_work);
    works.set(v.crw_work.id, v.crw_work);
    cio_works.set(p.sch.d.todo_work.id, p.sch.d.todo_work);
    devs.push(p);
    guests.push(gm);
  }
  return { g, css, sys: bind_sys(sysb), devs, guests, wq, cio_wq, bus: { slow, subs: devs.map((p) => p.sch) } };
}

/** This thread's view of a device's mdev core and vfio core words. */
export function vfio_core_of(p: VfioCcwPrivate): VfioCoreView {
  return p.core;
}

/** Main, before any worker sees the buffers: machine reset, css probe of each subchannel. */
export function init_system(s: System, hw: Partial<HwInit> = {}): void {
  hw_css_reset(s.css);
  INIT_WORK(s.bus.slow.work, WORK_SLOW_PATH, 0);
  for (const p of s.devs) {
    hw_reset(p.sch.hw, hw);
    css_init_subchannel(p.sch, 0x100 + p.dev);
    INIT_WORK(p.sch.d.todo_work, WORK_SCH_TODO, p.dev);
  }
}

/** Main: driver-side set-up of each device: INIT_WORK, css probe, and (optionally) the mdev. */
export function init_driver(s: System, opts: { mdev: boolean }): void {
  for (const p of s.devs) {
    INIT_WORK(p.v.io_work, WORK_IO_TODO, p.dev);
    INIT_WORK(p.v.crw_work, WORK_CRW_TODO, p.dev);
    vfio_ccw_private_init(p, p.drv.R.STANDBY);
    // css_probe: sch->driver is set before the driver's probe and cleared again if it fails
    Atomics.store(p.sch.d.driver.a, p.sch.d.driver.i, 1);
    const rc = vfio_ccw_sch_probe(p);
    if (rc !== 0) Atomics.store(p.sch.d.driver.a, p.sch.d.driver.i, 0);
    // an injected failure leaves the subchannel without the driver: no mdev, no device FD
    if (rc !== 0 && !fault_active()) throw new Error(`vfio_ccw_sch_probe: ${rc}`);
    if (opts.mdev && rc === 0) {
      const m = vfio_ccw_mdev_probe(p);
      if (m !== 0) throw new Error(`vfio_ccw_mdev_probe: ${m}`);
    }
  }
}
