// hw/vfio/ccw.c: QEMU's vfio-ccw device as a synchronous client of one device fd. It runs in one
// user worker; every guest instruction and every eventfd handler runs to completion on that
// thread, as they do in QEMU under the big lock.
import {
  backend,
  eventfd_close,
  eventfd_create,
  eventfd_file,
  eventfd_read,
  eventfd_try_read,
  type EventfdCtx,
  type SharedBuf,
} from '../kernel/index.ts';
import { EACCES, EAGAIN, EBUSY, EFAULT, ENODEV, errname } from '../uapi/errno.ts';
import {
  make_device_info,
  make_irq_info,
  make_irq_set_eventfd,
  make_region_info,
  read_device_info,
  read_irq_info,
  read_region_caps,
  read_region_info,
} from '../uapi/ioctl.ts';
import { IRB_ECW, IRB_ECW_SIZE, IRB_ESW, IRB_ESW_SIZE, IRB_SIZE } from '../uapi/irb.ts';
import { ORB_PFCH, orb_write, type Orb } from '../uapi/orb.ts';
import { SCSW_STCTL_STATUS_PEND, scsw_is_final, scsw_stctl, scsw_word0 } from '../uapi/scsw.ts';
import {
  CMD_REGION_SIZE,
  CRW_REGION_SIZE,
  IO_IRB,
  IO_ORB,
  IO_REGION_SIZE,
  IO_SCSW,
  SCHIB_AREA_SIZE,
  VFIO_CCW_ASYNC_CMD_CSCH,
  VFIO_CCW_ASYNC_CMD_HSCH,
  VFIO_CCW_CONFIG_REGION_INDEX,
  VFIO_CCW_CRW_IRQ_INDEX,
  VFIO_CCW_INDEX_TO_OFFSET,
  VFIO_CCW_IO_IRQ_INDEX,
  VFIO_CCW_REQ_IRQ_INDEX,
  VFIO_DEVICE_FLAGS_CCW,
  VFIO_DEVICE_FLAGS_RESET,
  VFIO_DEVICE_GET_INFO,
  VFIO_DEVICE_GET_IRQ_INFO,
  VFIO_DEVICE_GET_REGION_INFO,
  VFIO_DEVICE_RESET,
  VFIO_DEVICE_SET_IRQS,
  VFIO_REGION_INFO_FLAG_CAPS,
  VFIO_REGION_INFO_FLAG_READ,
  VFIO_REGION_INFO_FLAG_WRITE,
  VFIO_REGION_SUBTYPE_CCW_ASYNC_CMD,
  VFIO_REGION_SUBTYPE_CCW_CRW,
  VFIO_REGION_SUBTYPE_CCW_SCHIB,
  VFIO_REGION_TYPE_CCW,
} from '../uapi/vfio_ccw.ts';
import {
  copy_path_bits_from_host,
  css_crw_add_to_queue,
  css_do_csch,
  css_do_hsch,
  css_do_msch,
  css_do_ssch,
  css_do_stcrw,
  css_do_stsch,
  css_do_tsch,
  css_do_xsch,
  css_inject_io_interrupt,
  type MschArgs,
  orb_ctrl0,
  sch_gen_unit_exception,
  sch_handle_clear_func,
  sch_handle_halt_func,
  scsw_from_bytes,
  scsw_to_bytes,
  SubchDev,
  type SubchInit,
  type TschResult,
} from './css.ts';
import { type GuestCc, ORB_CTRL0_MASK, PMCW_CHARS_MASK, PMCW_FLAGS_MASK, SCSW_ACTL, SCSW_CSTAT, SCSW_CTRL_MASK, SCSW_DSTAT, SCSW_FLAGS_MASK, SCSW_STCTL } from './ioinst.ts';
import type { Ops } from './ops.ts';

export interface RegionLoc {
  index: number;
  /** file offset of the region (its index << 10 with the current driver) */
  offset: number;
  size: number;
  flags: number;
}

export interface RegionLayout {
  io: RegionLoc;
  async: RegionLoc | null;
  schib: RegionLoc | null;
  crw: RegionLoc | null;
}

const RW = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;

const DEFAULT_ASYNC: RegionLoc = { index: 1, offset: VFIO_CCW_INDEX_TO_OFFSET(1), size: CMD_REGION_SIZE, flags: RW };
const DEFAULT_SCHIB: RegionLoc = { index: 2, offset: VFIO_CCW_INDEX_TO_OFFSET(2), size: SCHIB_AREA_SIZE, flags: VFIO_REGION_INFO_FLAG_READ };
const DEFAULT_CRW: RegionLoc = { index: 3, offset: VFIO_CCW_INDEX_TO_OFFSET(3), size: CRW_REGION_SIZE, flags: VFIO_REGION_INFO_FLAG_READ };

/** The layout the current driver registers at open (vfio_ccw_mdev_open_device: the I/O region, then the extra regions); raw clients use it until realize. */
export function default_regions(): RegionLayout {
  return {
    io: { index: VFIO_CCW_CONFIG_REGION_INDEX, offset: 0, size: IO_REGION_SIZE, flags: RW },
    async: { ...DEFAULT_ASYNC },
    schib: { ...DEFAULT_SCHIB },
    crw: { ...DEFAULT_CRW },
  };
}

export interface IoctlCounts {
  total: number;
  get_info: number;
  get_region_info: number;
  get_irq_info: number;
  set_irqs: number;
  reset: number;
}

export type RegionOp = 'io_write' | 'cmd_write' | 'io_read' | 'schib_read' | 'crw_read';
export type GuestInstr = 'ssch' | 'hsch' | 'csch' | 'xsch' | 'tsch' | 'stsch' | 'msch';
export type CcKey = 'cc0' | 'cc1' | 'cc2' | 'cc3' | 'pgm';

export interface ClientCounters {
  /** write syscalls on the io and cmd regions, retries included */
  writes: number;
  eagain_retries: number;
  irbs_read: number;
  /** IO eventfd handler runs that found a non-zero count */
  io_wakeups: number;
  /** signals beyond the first that one handler run absorbed */
  signals_collapsed: number;
  crw_wakeups: number;
  crw_reads: number;
  crws: number;
  req_signals: number;
  /** cc0 answers that carried an injected unit-exception interrupt */
  unit_exceptions: number;
  /** per region access: 'ok', 'short', or the errno name ('-EBUSY') */
  results: Record<RegionOp, Record<string, number>>;
  cc: Record<GuestInstr, Record<CcKey, number>>;
}

export interface ClientOptions extends SubchInit {
  /** QEMU's force-orb-pfch=on */
  force_orb_pfch?: boolean;
  /** current QEMU caches region info per index; older QEMU scanned again for every lookup */
  region_info_cache?: boolean;
}

export interface RealizeResult {
  ok: boolean;
  error: string | null;
  open_rc: number;
  flags: number;
  num_regions: number;
  num_irqs: number;
  reset_supported: boolean;
  regions: RegionLayout;
  irq_fds: { io: number | null; crw: number | null; req: number | null };
  warnings: string[];
  ioctls: IoctlCounts;
}

export interface UnrealizeResult {
  /** SET_IRQS fd=-1 results, in issue order: REQ, CRW, IO */
  set_irqs: { index: number; rc: number }[];
  ioctls: IoctlCounts;
}

export interface IoEvent {
  /** the eventfd count this handler run consumed (signals collapsed into one read) */
  count: number;
  /** the io-region read's result */
  rc: number;
  /** the 96-byte IRB read, or null when the read failed */
  irb: Uint8Array | null;
}

interface Irq {
  fd: number;
  ctx: EventfdCtx;
}

const LOG_MAX = 256;
const REGION_INFO_MAX = 1 << 16;
const cc_key = (cc: GuestCc): CcKey => (cc === 'pgm' ? 'pgm' : `cc${cc}`);
const zero_cc = (): Record<CcKey, number> => ({ cc0: 0, cc1: 0, cc2: 0, cc3: 0, pgm: 0 });

/**
 * A profiler's probe (lockstat): ms from a start forwarded to the host (the io region write
 * returned 0) to the IO handler run that read the request's final IRB. Per thread; while it is
 * null a start costs one compare.
 */
let io_latency_hook: ((ms: number) => void) | null = null;
export function set_io_latency_hook(fn: ((ms: number) => void) | null): void {
  io_latency_hook = fn;
}

/** The interrupt QEMU injected itself: no eventfd count consumed, no io region read. */
const INJECTED: IoEvent = Object.freeze({ count: 0, rc: 0, irb: null });

export class VfioCcwClient {
  /** the virtual subchannel: realize builds a fresh one, as QEMU does on every (hot-)plug */
  sch: SubchDev;
  regions: RegionLayout = default_regions();
  device_flags = 0;
  num_regions = 0;
  num_irqs = 0;
  realized = false;
  readonly ioctls: IoctlCounts = { total: 0, get_info: 0, get_region_info: 0, get_irq_info: 0, set_irqs: 0, reset: 0 };
  readonly counters: ClientCounters = {
    writes: 0,
    eagain_retries: 0,
    irbs_read: 0,
    io_wakeups: 0,
    signals_collapsed: 0,
    crw_wakeups: 0,
    crw_reads: 0,
    crws: 0,
    req_signals: 0,
    unit_exceptions: 0,
    results: { io_write: {}, cmd_write: {}, io_read: {}, schib_read: {}, crw_read: {} },
    cc: { ssch: zero_cc(), hsch: zero_cc(), csch: zero_cc(), xsch: zero_cc(), tsch: zero_cc(), stsch: zero_cc(), msch: zero_cc() },
  };
  /** error_report / warn_report lines, oldest first (bounded) */
  readonly errors: string[] = [];
  readonly warnings: string[] = [];

  private irq: { io: Irq | null; crw: Irq | null; req: Irq | null } = { io: null, crw: null, req: null };
  private region_info_cache = new Map<number, Uint8Array>();
  private opened = false;
  /** when the start in flight was forwarded (performance.now()), or -1; only with io_latency_hook */
  private start_t = -1;
  /**
   * QEMU injected the unit-exception interrupt itself (a start or clear it could not forward): the
   * guest takes it like any other, with no eventfd signal. TSCH clears it.
   */
  private injected = false;

  constructor(
    readonly ops: Ops,
    readonly g: SharedBuf,
    readonly opts: ClientOptions = {},
  ) {
    this.sch = new SubchDev(opts);
    // Not valid until realize has built the virtual subchannel.
    this.sch.set_not_valid();
  }

  // ---- lifecycle (vfio_ccw_realize / vfio_ccw_reset / vfio_ccw_unrealize) ----

  realize(): RealizeResult {
    this.sch = new SubchDev(this.opts);
    this.sch.set_not_valid();
    const warnings: string[] = [];
    const res = (ok: boolean, error: string | null, open_rc: number): RealizeResult => ({
      ok,
      error,
      open_rc,
      flags: this.device_flags,
      num_regions: this.num_regions,
      num_irqs: this.num_irqs,
      reset_supported: (this.device_flags & VFIO_DEVICE_FLAGS_RESET) !== 0,
      regions: this.regions,
      irq_fds: { io: this.irq.io?.fd ?? null, crw: this.irq.crw?.fd ?? null, req: this.irq.req?.fd ?? null },
      warnings,
      ioctls: { ...this.ioctls },
    });
    if (this.realized || this.opened) return res(false, 'already realized', 0);
    this.region_info_cache.clear();
    const open_rc = this.ops.open();
    if (open_rc < 0) return res(false, `open failed: ${errname(open_rc)}`, open_rc);
    this.opened = true;
    const fail = (msg: string): RealizeResult => {
      this.error(msg);
      this.teardown(false);
      return res(false, msg, open_rc);
    };

    const dinfo = make_device_info();
    const rc = this.ioctl('get_info', VFIO_DEVICE_GET_INFO, dinfo);
    if (rc < 0) return fail(`VFIO_DEVICE_GET_INFO failed: ${errname(rc)}`);
    const di = read_device_info(dinfo);
    this.device_flags = di.flags;
    this.num_regions = di.num_regions;
    this.num_irqs = di.num_irqs;
    if ((di.flags & VFIO_DEVICE_FLAGS_CCW) === 0) return fail('Unexpected device type');
    if (di.num_regions < VFIO_CCW_CONFIG_REGION_INDEX + 1) return fail('Unexpected number of the I/O region');

    const io = this.get_region_info(VFIO_CCW_CONFIG_REGION_INDEX);
    if (typeof io === 'number') return fail(`GET_REGION_INFO(0) failed: ${errname(io)}`);
    const ioi = read_region_info(io);
    if (ioi.size !== IO_REGION_SIZE) return fail(`Unexpected size of the I/O region: ${ioi.size}`);
    const layout: RegionLayout = { io: { index: 0, offset: ioi.offset, size: ioi.size, flags: ioi.flags }, async: null, schib: null, crw: null };

    // Optional regions: absent is fine, a wrong size is not.
    const optional = [
      ['async', VFIO_REGION_SUBTYPE_CCW_ASYNC_CMD, CMD_REGION_SIZE],
      ['schib', VFIO_REGION_SUBTYPE_CCW_SCHIB, SCHIB_AREA_SIZE],
      ['crw', VFIO_REGION_SUBTYPE_CCW_CRW, CRW_REGION_SIZE],
    ] as const;
    for (const [name, subtype, size] of optional) {
      const loc = this.get_region_info_type(VFIO_REGION_TYPE_CCW, subtype);
      if (loc === null) continue;
      if (loc.size !== size) return fail(`Unexpected size of the ${name} region: ${loc.size}`);
      layout[name] = loc;
    }
    this.regions = layout;

    const io_irq = this.register_irq_notifier(VFIO_CCW_IO_IRQ_INDEX);
    if (typeof io_irq === 'string') return fail(io_irq);
    this.irq.io = io_irq;
    if (layout.crw !== null) {
      const crw_irq = this.register_irq_notifier(VFIO_CCW_CRW_IRQ_INDEX);
      if (typeof crw_irq === 'string') return fail(crw_irq);
      this.irq.crw = crw_irq;
    }
    const req_irq = this.register_irq_notifier(VFIO_CCW_REQ_IRQ_INDEX);
    if (typeof req_irq === 'string') {
      // Only a warning: unplug requests then go unnoticed.
      warnings.push(req_irq);
      this.warn(req_irq);
    } else this.irq.req = req_irq;

    this.sch.pmcw.flags |= PMCW_FLAGS_MASK.DNV; // the virtual subchannel exists
    this.realized = true;
    return res(true, null, open_rc);
  }

  /** VFIO_DEVICE_RESET on a machine reset; QEMU ignores the result. The emulated subchannel resets too. */
  reset(): number {
    const rc = this.ioctl('reset', VFIO_DEVICE_RESET, null);
    const valid = (this.sch.pmcw.flags & PMCW_FLAGS_MASK.DNV) !== 0;
    const fresh = new SubchDev(this.opts);
    this.sch.pmcw = fresh.pmcw;
    if (!valid) this.sch.set_not_valid();
    this.sch.scsw = fresh.scsw;
    this.sch.orb = null;
    this.sch.channel_prog = 0;
    this.sch.esw.fill(0);
    this.sch.sense_data.fill(0);
    this.sch.io_int_pending = 0;
    this.injected = false;
    return rc;
  }

  /** Unplug: tear the eventfds down (REQ, CRW, IO), then close the device fd. */
  unrealize(): UnrealizeResult {
    const set_irqs = this.teardown(true);
    return { set_irqs, ioctls: { ...this.ioctls } };
  }

  private teardown(all: boolean): { index: number; rc: number }[] {
    const out: { index: number; rc: number }[] = [];
    const order = [
      ['req', VFIO_CCW_REQ_IRQ_INDEX],
      ['crw', VFIO_CCW_CRW_IRQ_INDEX],
      ['io', VFIO_CCW_IO_IRQ_INDEX],
    ] as const;
    for (const [name, index] of order) {
      const irq = this.irq[name];
      // QEMU's unrealize tears every index down, registered or not; its realize error path
      // only undoes what it did.
      if (!all && irq === null) continue;
      const rc = this.ioctl('set_irqs', VFIO_DEVICE_SET_IRQS, make_irq_set_eventfd(index, -1));
      if (rc < 0) this.warn(`SET_IRQS(${index}, fd=-1) failed: ${errname(rc)}`);
      out.push({ index, rc });
      if (irq !== null) eventfd_close(this.g, irq.fd);
      this.irq[name] = null;
    }
    if (this.opened) this.ops.release();
    this.opened = false;
    this.realized = false;
    this.sch.set_not_valid();
    return out;
  }

  // ---- ioctl helpers (hw/vfio/device.c) ----

  private ioctl(name: Exclude<keyof IoctlCounts, 'total'>, cmd: number, arg: Uint8Array | null): number {
    this.ioctls.total++;
    this.ioctls[name]++;
    return this.ops.ioctl(cmd, arg);
  }

  /** GET_REGION_INFO, growing the buffer to the argsz the driver asks for (caps follow the struct). */
  private get_region_info(index: number): Uint8Array | number {
    const cache = this.opts.region_info_cache ?? true;
    const hit = cache ? this.region_info_cache.get(index) : undefined;
    if (hit !== undefined) return hit;
    let argsz = 32;
    for (;;) {
      const buf = make_region_info({ argsz, index });
      const rc = this.ioctl('get_region_info', VFIO_DEVICE_GET_REGION_INFO, buf);
      if (rc < 0) return rc;
      const want = read_region_info(buf).argsz;
      if (want > argsz && want <= REGION_INFO_MAX) {
        argsz = want;
        continue;
      }
      if (cache) this.region_info_cache.set(index, buf);
      return buf;
    }
  }

  /** vfio_device_get_region_info_type: the first region whose CAP_TYPE (version 1) matches. */
  private get_region_info_type(type: number, subtype: number): RegionLoc | null {
    for (let i = 0; i < this.num_regions; i++) {
      const buf = this.get_region_info(i);
      if (typeof buf === 'number') continue;
      const info = read_region_info(buf);
      if ((info.flags & VFIO_REGION_INFO_FLAG_CAPS) === 0) continue;
      const cap = read_region_caps(buf).find((c) => c.header.version === 1);
      if (cap === undefined || cap.type !== type || cap.subtype !== subtype) continue;
      return { index: i, offset: info.offset, size: info.size, flags: info.flags };
    }
    return null;
  }

  /** vfio_ccw_register_irq_notifier: GET_IRQ_INFO, an eventfd, SET_IRQS trigger. A string is the error. */
  private register_irq_notifier(index: number): Irq | string {
    if (this.num_irqs < index + 1) return `IRQ ${index} not available (number of irqs ${this.num_irqs})`;
    const info = make_irq_info({ index });
    const rc = this.ioctl('get_irq_info', VFIO_DEVICE_GET_IRQ_INFO, info);
    if (rc < 0) return `Error getting irq info (${index}): ${errname(rc)}`;
    if (read_irq_info(info).count < 1) return `Error getting irq info (${index}): count 0`;
    const fd = eventfd_create(this.g);
    if (fd < 0) return `eventfd for irq ${index}: ${errname(fd)}`;
    const ctx = eventfd_file(this.g, fd);
    if (typeof ctx === 'number') {
      eventfd_close(this.g, fd);
      return `eventfd for irq ${index}: ${errname(ctx)}`;
    }
    const set = this.ioctl('set_irqs', VFIO_DEVICE_SET_IRQS, make_irq_set_eventfd(index, fd));
    if (set < 0) {
      eventfd_close(this.g, fd);
      return `SET_IRQS(${index}) failed: ${errname(set)}`;
    }
    return { fd, ctx };
  }

  // ---- guest instructions (hw/s390x/css.c, forwarding in hw/vfio/ccw.c) ----

  ssch(orb: Orb): GuestCc {
    return this.count_cc('ssch', css_do_ssch(this.sch, orb, (sch) => this.handle_request(sch)));
  }

  hsch(): GuestCc {
    return this.count_cc('hsch', css_do_hsch(this.sch, (sch) => this.handle_halt(sch)));
  }

  csch(): GuestCc {
    return this.count_cc('csch', css_do_csch(this.sch, (sch) => this.handle_clear(sch)));
  }

  xsch(): GuestCc {
    return this.count_cc('xsch', css_do_xsch(this.sch));
  }

  tsch(): TschResult {
    const r = css_do_tsch(this.sch);
    if (r.cc === 0) this.injected = false;
    this.count_cc('tsch', r.cc);
    return r;
  }

  msch(m: MschArgs): GuestCc {
    return this.count_cc('msch', css_do_msch(this.sch, m));
  }

  /** STSCH: the schib region is read every time (if present); only path bits are taken over. */
  stsch(): { cc: GuestCc; schib: Uint8Array | null } {
    const r = css_do_stsch(this.sch, () => {
      if (this.regions.schib !== null && this.realized) this.stsch_forward();
    });
    this.count_cc('stsch', r.cc);
    return r;
  }

  /** STCRW from the guest's CRW queue (filled by the CRW handler). */
  stcrw(): { cc: 0 | 1; crw: number } {
    return css_do_stcrw(this.sch);
  }

  /** The guest takes one pending I/O interrupt (false if none is pending). */
  take_io_interrupt(): boolean {
    if (this.sch.io_int_pending === 0) return false;
    this.sch.io_int_pending--;
    return true;
  }

  /** vfio_ccw_handle_store: read the schib region; errors are logged and the guest still gets cc0. */
  stsch_forward(): number {
    const loc = this.regions.schib;
    if (loc === null) return 0;
    const buf = new Uint8Array(SCHIB_AREA_SIZE);
    const rc = this.ops.read(buf, SCHIB_AREA_SIZE, loc.offset);
    this.result('schib_read', rc, SCHIB_AREA_SIZE);
    if (rc < 0) {
      this.error(`vfio-ccw: could not read SCHIB region: ${errname(rc)}`);
      return rc;
    }
    copy_path_bits_from_host(this.sch, buf);
    return rc;
  }

  /** vfio_ccw_handle_request: the whole io region, zeroed, with ORB and the emulated SCSW. */
  private handle_request(sch: SubchDev): 0 | 1 | 2 | 3 {
    const orb = sch.orb;
    if (orb === null) return 3;
    if ((orb_ctrl0(orb) & ORB_CTRL0_MASK.PFCH) === 0 && this.opts.force_orb_pfch === true) {
      orb.flags = (orb.flags | ORB_PFCH) >>> 0;
      this.warn('PFCH flag forced');
    }
    const region = new Uint8Array(IO_REGION_SIZE);
    const dv = new DataView(region.buffer);
    orb_write(dv, IO_ORB, orb);
    scsw_to_bytes(sch.scsw, region, IO_SCSW);
    const ret = this.write_full('io_write', region, this.regions.io.offset);
    if (ret === 0 && io_latency_hook !== null) this.start_t = performance.now();
    return this.to_cc(ret, sch, true);
  }

  private handle_halt(sch: SubchDev): 0 | 1 | 2 | 3 {
    if (this.regions.async === null) {
      // Older kernels: no async region, QEMU halts the emulated subchannel by itself.
      sch_handle_halt_func(sch);
      css_inject_io_interrupt(sch);
      return 0;
    }
    return this.to_cc(this.write_cmd_full(VFIO_CCW_ASYNC_CMD_HSCH), sch, true);
  }

  private handle_clear(sch: SubchDev): 0 | 1 | 2 | 3 {
    if (this.regions.async === null) {
      sch_handle_clear_func(sch);
      css_inject_io_interrupt(sch);
      return 0;
    }
    // clear has no busy condition code: -EBUSY is a unit exception there
    return this.to_cc(this.write_cmd_full(VFIO_CCW_ASYNC_CMD_CSCH), sch, false);
  }

  /** QEMU's errno -> condition code for a region write: -EBUSY is cc 2 where the function has one. */
  private to_cc(ret: number, sch: SubchDev, busy_cc: boolean): 0 | 1 | 2 | 3 {
    if (ret === 0) return 0;
    if (ret === -EBUSY && busy_cc) return 2;
    if (ret === -ENODEV || ret === -EACCES) return 3;
    return this.unit_exception(sch);
  }

  private unit_exception(sch: SubchDev): 0 {
    sch_gen_unit_exception(sch);
    css_inject_io_interrupt(sch);
    this.injected = true;
    this.counters.unit_exceptions++;
    return 0;
  }

  private write_cmd_full(command: number): number {
    const loc = this.regions.async;
    if (loc === null) return -ENODEV;
    const region = new Uint8Array(CMD_REGION_SIZE);
    new DataView(region.buffer).setUint32(0, command >>> 0);
    return this.write_full('cmd_write', region, loc.offset);
  }

  /** pwrite of a whole region: -EAGAIN retried at once and forever; 0 or the error (short write: -EFAULT). */
  private write_full(op: 'io_write' | 'cmd_write', buf: Uint8Array, offset: number): number {
    for (;;) {
      this.counters.writes++;
      const ret = this.ops.write(buf, buf.length, offset);
      this.result(op, ret, buf.length);
      if (ret === buf.length) return 0;
      if (ret === -EAGAIN) {
        this.counters.eagain_retries++;
        // A scheduling point for controlled mode; nothing in free mode.
        backend.relax(0);
        continue;
      }
      const err = ret < 0 ? ret : -EFAULT;
      this.error(`vfio-ccw: write ${op === 'io_write' ? 'I/O' : 'cmd'} region failed with errno=${-err}`);
      return err;
    }
  }

  // ---- eventfd handlers ----

  /**
   * The guest's next I/O interrupt: the one QEMU injected itself, if the guest has not taken it
   * yet, at once; else the IO eventfd handler, blocking up to timeoutMs. null when nothing came.
   */
  wait_io(timeoutMs: number): IoEvent | null {
    if (this.injected) return INJECTED;
    const irq = this.irq.io;
    if (irq === null) return null;
    const n = eventfd_read(irq.ctx, timeoutMs, 'vfio_ccw_io_notifier_handler');
    return n === 0 ? null : this.io_notifier_handler(n);
  }

  /** The IO eventfd handler without blocking (test-and-clear). */
  poll_io(): IoEvent | null {
    if (this.injected) return INJECTED;
    const irq = this.irq.io;
    if (irq === null) return null;
    const n = eventfd_try_read(irq.ctx, 'vfio_ccw_io_notifier_handler');
    return n === 0 ? null : this.io_notifier_handler(n);
  }

  /** One read of the io region; its IRB's SCSW replaces the emulated one verbatim, no filtering. */
  private io_notifier_handler(count: number): IoEvent {
    const sch = this.sch;
    const s = sch.scsw;
    this.counters.io_wakeups++;
    this.counters.signals_collapsed += count - 1;
    const region = new Uint8Array(IO_REGION_SIZE);
    const rc = this.ops.read(region, IO_REGION_SIZE, this.regions.io.offset);
    this.result('io_read', rc, IO_REGION_SIZE);
    let irb: Uint8Array | null = null;
    const ending = SCSW_STCTL.PRIMARY | SCSW_STCTL.SECONDARY | SCSW_STCTL.ALERT | SCSW_STCTL.STATUS_PEND;
    if (rc === -ENODEV) {
      // Deferred cc 3.
      s.flags |= SCSW_FLAGS_MASK.CC;
      s.ctrl = (s.ctrl & ~SCSW_CTRL_MASK.STCTL) | SCSW_STCTL.ALERT | SCSW_STCTL.STATUS_PEND;
    } else if (rc !== IO_REGION_SIZE) {
      s.cstat = rc === -EFAULT ? SCSW_CSTAT.DATA_CHECK : rc >= 0 ? SCSW_CSTAT.CHN_CTRL_CHK : SCSW_CSTAT.PROG_CHECK;
      s.ctrl &= ~SCSW_ACTL.START_PEND;
      s.ctrl = (s.ctrl & ~SCSW_CTRL_MASK.STCTL) | ending;
      this.error(`vfio-ccw: read I/O region failed: ${rc < 0 ? errname(rc) : `short read ${rc}`}`);
    } else {
      irb = region.slice(IO_IRB, IO_IRB + IRB_SIZE);
      sch.scsw = scsw_from_bytes(irb, 0);
      sch.esw = irb.slice(IRB_ESW, IRB_ESW + IRB_ESW_SIZE);
      if ((sch.scsw.dstat & SCSW_DSTAT.UNIT_CHECK) !== 0 && (sch.pmcw.chars & PMCW_CHARS_MASK.CSENSE) !== 0) {
        sch.sense_data = irb.slice(IRB_ECW, IRB_ECW + IRB_ECW_SIZE);
      }
      this.counters.irbs_read++;
      if (this.start_t >= 0 && io_latency_hook !== null) {
        // A final IRB with status pending ends the request (a stale, zeroed one does not).
        const w0 = new DataView(irb.buffer, irb.byteOffset).getUint32(0);
        if ((scsw_stctl(w0) & SCSW_STCTL_STATUS_PEND) !== 0 && scsw_is_final(w0)) {
          io_latency_hook(performance.now() - this.start_t);
          this.start_t = -1;
        }
      }
    }
    css_inject_io_interrupt(sch);
    return { count, rc, irb };
  }

  /** The CRW handler: while the eventfd is set, read the crw region until a zero word or an error. */
  drain_crw(): number[] {
    const out: number[] = [];
    const irq = this.irq.crw;
    if (irq === null) return out;
    while (eventfd_try_read(irq.ctx, 'vfio_ccw_crw_notifier_handler') !== 0) {
      this.counters.crw_wakeups++;
      this.crw_read(out);
    }
    return out;
  }

  /** As drain_crw, but blocks up to timeoutMs for the first signal. */
  wait_crw(timeoutMs: number): number[] {
    const out: number[] = [];
    const irq = this.irq.crw;
    if (irq === null) return out;
    if (eventfd_read(irq.ctx, timeoutMs, 'vfio_ccw_crw_notifier_handler') === 0) return out;
    this.counters.crw_wakeups++;
    this.crw_read(out);
    out.push(...this.drain_crw());
    return out;
  }

  private crw_read(out: number[]): void {
    const loc = this.regions.crw;
    if (loc === null) return;
    for (;;) {
      const buf = new Uint8Array(CRW_REGION_SIZE);
      const rc = this.ops.read(buf, CRW_REGION_SIZE, loc.offset);
      this.result('crw_read', rc, CRW_REGION_SIZE);
      if (rc < 0) {
        this.error(`vfio-ccw: read crw region failed: ${errname(rc)}`);
        return;
      }
      this.counters.crw_reads++;
      const crw = new DataView(buf.buffer).getUint32(0);
      if (crw === 0) return;
      this.counters.crws++;
      out.push(crw);
      css_crw_add_to_queue(this.sch, crw);
    }
  }

  /** The REQ handler: true when the driver asked for the device back (the caller unrealizes). */
  poll_req(): boolean {
    const irq = this.irq.req;
    if (irq === null) return false;
    const n = eventfd_try_read(irq.ctx, 'vfio_ccw_req_notifier_handler');
    this.counters.req_signals += n;
    return n !== 0;
  }

  wait_req(timeoutMs: number): boolean {
    const irq = this.irq.req;
    if (irq === null) return false;
    const n = eventfd_read(irq.ctx, timeoutMs, 'vfio_ccw_req_notifier_handler');
    this.counters.req_signals += n;
    return n !== 0;
  }

  /** The eventfd numbers realize registered (for a harness that signals or inspects them). */
  get irq_fds(): { io: number | null; crw: number | null; req: number | null } {
    return { io: this.irq.io?.fd ?? null, crw: this.irq.crw?.fd ?? null, req: this.irq.req?.fd ?? null };
  }

  // ---- raw access for non-QEMU clients (one attempt each, no emulation, no retry) ----

  /** One pwrite of the whole io region: zeroed, `orb`, SCSW area with FC = fctl (Linux encoding: start 4, halt 2, clear 1). */
  write_io_region(orb: Orb, fctl: number): number {
    const region = new Uint8Array(IO_REGION_SIZE);
    const dv = new DataView(region.buffer);
    orb_write(dv, IO_ORB, orb);
    dv.setUint32(IO_SCSW, scsw_word0({ fctl }) >>> 0);
    this.counters.writes++;
    const rc = this.ops.write(region, IO_REGION_SIZE, this.regions.io.offset);
    this.result('io_write', rc, IO_REGION_SIZE);
    return rc;
  }

  /** One pwrite of the cmd region {command}. */
  write_cmd(cmd: number): number {
    const loc = this.regions.async ?? DEFAULT_ASYNC;
    const region = new Uint8Array(CMD_REGION_SIZE);
    new DataView(region.buffer).setUint32(0, cmd >>> 0);
    this.counters.writes++;
    const rc = this.ops.write(region, CMD_REGION_SIZE, loc.offset);
    this.result('cmd_write', rc, CMD_REGION_SIZE);
    return rc;
  }

  read_io_region(): { rc: number; region: Uint8Array } {
    const region = new Uint8Array(IO_REGION_SIZE);
    const rc = this.ops.read(region, IO_REGION_SIZE, this.regions.io.offset);
    this.result('io_read', rc, IO_REGION_SIZE);
    return { rc, region };
  }

  read_schib(): { rc: number; schib: Uint8Array } {
    const loc = this.regions.schib ?? DEFAULT_SCHIB;
    const schib = new Uint8Array(SCHIB_AREA_SIZE);
    const rc = this.ops.read(schib, SCHIB_AREA_SIZE, loc.offset);
    this.result('schib_read', rc, SCHIB_AREA_SIZE);
    return { rc, schib };
  }

  read_crw(): { rc: number; crw: number } {
    const loc = this.regions.crw ?? DEFAULT_CRW;
    const buf = new Uint8Array(CRW_REGION_SIZE);
    const rc = this.ops.read(buf, CRW_REGION_SIZE, loc.offset);
    this.result('crw_read', rc, CRW_REGION_SIZE);
    return { rc, crw: rc >= 4 ? new DataView(buf.buffer).getUint32(0) : 0 };
  }

  // ---- bookkeeping ----

  private count_cc(instr: GuestInstr, cc: GuestCc): GuestCc {
    this.counters.cc[instr][cc_key(cc)]++;
    return cc;
  }

  private result(op: RegionOp, rc: number, size: number): void {
    const key = rc === size ? 'ok' : rc >= 0 ? 'short' : errname(rc);
    const r = this.counters.results[op];
    r[key] = (r[key] ?? 0) + 1;
  }

  private error(msg: string): void {
    if (this.errors.length >= LOG_MAX) this.errors.shift();
    this.errors.push(msg);
  }

  private warn(msg: string): void {
    if (this.warnings.length >= LOG_MAX) this.warnings.shift();
    this.warnings.push(msg);
  }
}
