// hw/vfio/ccw.c + hw/s390x/css.c: the QEMU-like client against a fake device fd (single-threaded).
import { beforeAll, describe, expect, it } from 'vitest';
import { ActorKind, alloc_global, eventfd_ctx_fdget, eventfd_signal, reset_global, set_current, type SharedBuf } from '../src/kernel/index.ts';
import { type GuestCc, SCSW_ACTL, SCSW_DSTAT, SCSW_FCTL, SCSW_FLAGS_MASK, SCSW_STCTL } from '../src/client/ioinst.ts';
import { VfioCcwClient, type ClientOptions } from '../src/client/client.ts';
import { scsw_from_bytes } from '../src/client/css.ts';
import type { Ops } from '../src/client/ops.ts';
import { dasd_read, GuestAlloc, type GuestMem, load_program, place, sense_id } from '../src/client/guest.ts';
import type { UserPtr } from '../src/driver/uaccess.ts';
import { CCW_CMD, CCW_FLAG, ccw_decode } from '../src/uapi/ccw.ts';
import { EACCES, EAGAIN, EBUSY, EFAULT, EINVAL, EIO, ENODEV, ENOMEM, EOPNOTSUPP } from '../src/uapi/errno.ts';
import { make_cap_type, read_irq_set, read_irq_set_fds } from '../src/uapi/ioctl.ts';
import { irb_normal_end } from '../src/uapi/irb.ts';
import { ORB_C64, ORB_FMT, ORB_ISIC, ORB_PFCH, ORB_TM_B, orb_lpm, type Orb } from '../src/uapi/orb.ts';
import {
  CAP_TYPE_SIZE,
  IO_IRB,
  IO_REGION_SIZE,
  REGION_INFO_MINSZ,
  VFIO_CCW_ASYNC_CMD_CSCH,
  VFIO_CCW_ASYNC_CMD_HSCH,
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
  VFIO_REGION_TYPE_CCW,
} from '../src/uapi/vfio_ccw.ts';

const dv = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

interface FakeOpts {
  /** extra regions: [subtype, size] in registration order */
  extra?: [number, number][];
  irqs?: number;
  io_size?: number;
  /** SET_IRQS result per index */
  set_irqs_rc?: Record<number, number>;
  /** re-signal the CRW eventfd while more CRWs remain, as the driver does */
  crw_resignal?: boolean;
}

/** A device fd that answers like the current driver, with scripted write results. */
class FakeDevice implements Ops {
  readonly calls: string[] = [];
  readonly io = new Uint8Array(IO_REGION_SIZE);
  readonly schib = new Uint8Array(52);
  readonly crws: number[] = [];
  readonly io_writes: Uint8Array[] = [];
  readonly cmd_writes: number[] = [];
  /** next results of io / cmd writes; empty = success */
  io_script: number[] = [];
  cmd_script: number[] = [];
  schib_rc = 0;
  io_read_rc = 0;
  triggers = new Map<number, number>();
  open_count = 0;
  released = 0;
  resets = 0;
  constructor(
    readonly g: SharedBuf,
    readonly o: FakeOpts = {},
  ) {}

  get extra(): [number, number][] {
    return this.o.extra ?? [
      [1, 8],
      [2, 52],
      [3, 8],
    ];
  }

  open(): number {
    this.calls.push('open');
    this.open_count++;
    return 0;
  }
  release(): void {
    this.calls.push('release');
    this.released++;
  }

  read(buf: UserPtr, count: number, ppos: number): number {
    if (buf === null) return -EFAULT;
    const index = ppos >> 10;
    this.calls.push(`read ${index} ${count}`);
    if (index === 0) {
      if (this.io_read_rc !== 0) return this.io_read_rc;
      buf.set(this.io.subarray(0, count));
      return count;
    }
    const r = this.extra[index - 1];
    if (r === undefined) return -EINVAL;
    if (r[0] === 2) {
      if (this.schib_rc !== 0) return this.schib_rc;
      buf.set(this.schib.subarray(0, count));
      return count;
    }
    if (r[0] === 3) {
      buf.fill(0);
      const crw = this.crws.shift();
      if (crw !== undefined) dv(buf).setUint32(0, crw);
      if (this.crws.length > 0 && this.o.crw_resignal === true) this.signal(1);
      return count;
    }
    return -EINVAL;
  }

  write(buf: UserPtr, count: number, ppos: number): number {
    if (buf === null) return -EFAULT;
    const index = ppos >> 10;
    this.calls.push(`write ${index} ${count}`);
    if (index === 0) {
      expect(count).toBe(IO_REGION_SIZE);
      const rc = this.io_script.shift();
      if (rc === -EAGAIN) return rc;
      this.io_writes.push(buf.slice());
      // The whole buffer lands in the region, zeroed irb_area included.
      this.io.set(buf);
      return rc ?? count;
    }
    const r = this.extra[index - 1];
    if (r?.[0] !== 1) return -EINVAL;
    expect(count).toBe(8);
    const rc = this.cmd_script.shift();
    if (rc === -EAGAIN) return rc;
    this.cmd_writes.push(dv(buf).getUint32(0));
    return rc ?? count;
  }

  ioctl(cmd: number, arg: UserPtr): number {
    switch (cmd) {
      case VFIO_DEVICE_GET_INFO: {
        this.calls.push('GET_INFO');
        if (arg === null) return -EFAULT;
        const d = dv(arg);
        d.setUint32(4, VFIO_DEVICE_FLAGS_CCW | VFIO_DEVICE_FLAGS_RESET);
        d.setUint32(8, 1 + this.extra.length);
        d.setUint32(12, this.o.irqs ?? 3);
        return 0;
      }
      case VFIO_DEVICE_GET_REGION_INFO: {
        if (arg === null) return -EFAULT;
        const d = dv(arg);
        const argsz = d.getUint32(0);
        const index = d.getUint32(8);
        this.calls.push(`GET_REGION_INFO ${index} ${argsz}`);
        if (index === 0) {
          d.setUint32(4, VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE);
          d.setBigUint64(16, BigInt(this.o.io_size ?? IO_REGION_SIZE));
          d.setBigUint64(24, 0n);
          return 0;
        }
        const r = this.extra[index - 1];
        if (r === undefined) return -EINVAL;
        d.setUint32(4, VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_CAPS);
        d.setBigUint64(16, BigInt(r[1]));
        d.setBigUint64(24, BigInt(index << 10));
        if (argsz < REGION_INFO_MINSZ + CAP_TYPE_SIZE) {
          d.setUint32(0, REGION_INFO_MINSZ + CAP_TYPE_SIZE);
          d.setUint32(12, 0);
        } else {
          arg.set(make_cap_type(VFIO_REGION_TYPE_CCW, r[0]), REGION_INFO_MINSZ);
          d.setUint32(12, REGION_INFO_MINSZ);
        }
        return 0;
      }
      case VFIO_DEVICE_GET_IRQ_INFO: {
        if (arg === null) return -EFAULT;
        const d = dv(arg);
        this.calls.push(`GET_IRQ_INFO ${d.getUint32(8)}`);
        if (d.getUint32(8) >= (this.o.irqs ?? 3)) return -EINVAL;
        d.setUint32(12, 1);
        return 0;
      }
      case VFIO_DEVICE_SET_IRQS: {
        if (arg === null) return -EFAULT;
        const s = read_irq_set(arg);
        const fd = read_irq_set_fds(s)[0] ?? -2;
        this.calls.push(`SET_IRQS ${s.index} ${fd}`);
        const rc = this.o.set_irqs_rc?.[s.index] ?? 0;
        if (rc !== 0) return rc;
        if (s.index >= (this.o.irqs ?? 3)) return -EINVAL;
        this.triggers.set(s.index, fd);
        return 0;
      }
      case VFIO_DEVICE_RESET:
        this.calls.push('RESET');
        this.resets++;
        return 0;
      default:
        return -25;
    }
  }

  /** io_todo / crw_todo / request: signal the registered trigger `n` times. */
  signal(index: number, n = 1): void {
    const fd = this.triggers.get(index);
    if (fd === undefined || fd < 0) return;
    const ctx = eventfd_ctx_fdget(this.g, fd);
    if (typeof ctx === 'number') throw new Error(`bad fd ${fd}`);
    for (let i = 0; i < n; i++) eventfd_signal(ctx, 'fake');
  }

  /** io_todo: copy an IRB into irb_area and signal. */
  deliver(irb: Uint8Array, signals = 1): void {
    this.io.set(irb, IO_IRB);
    this.signal(0, signals);
  }
}

let g: SharedBuf;
beforeAll(() => {
  g = alloc_global();
  set_current(g, 0, ActorKind.test, 't');
});

function setup(o: FakeOpts = {}, co: ClientOptions = {}): { dev: FakeDevice; c: VfioCcwClient } {
  reset_global(g);
  const dev = new FakeDevice(g, o);
  const c = new VfioCcwClient(dev, g, co);
  const r = c.realize();
  expect(r.error).toBeNull();
  expect(r.ok).toBe(true);
  return { dev, c };
}

const ORB: Orb = { intparm: 0xcafe, flags: ORB_FMT | ORB_PFCH | (0x80 << 8), cpa: 0x2000 };

/** ssch cc0, so that the emulated SCSW shows a start in progress. */
function started(o: FakeOpts = {}): { dev: FakeDevice; c: VfioCcwClient } {
  const s = setup(o);
  expect(s.c.ssch(ORB)).toBe(0);
  return s;
}

const UE_ERRNOS = [EIO, EOPNOTSUPP, EINVAL, EFAULT, ENOMEM];

function expectUnitException(c: VfioCcwClient, cpa: number): void {
  const s = c.sch.scsw;
  expect(s.ctrl & 0x1f).toBe(SCSW_STCTL.PRIMARY | SCSW_STCTL.SECONDARY | SCSW_STCTL.ALERT | SCSW_STCTL.STATUS_PEND);
  expect(s.dstat).toBe(SCSW_DSTAT.UNIT_EXCEP);
  expect(s.cpa).toBe(cpa + 8);
  expect(s.ctrl & (SCSW_ACTL.SUBCH_ACTIVE | SCSW_ACTL.DEVICE_ACTIVE)).toBe(0);
  expect(c.sch.io_int_pending).toBe(1);
}

describe('realize / reset / unrealize', () => {
  it('open, GET_INFO, region scan with argsz 32 -> 48, three IRQs: 1 + 2x3 region-info calls', () => {
    const { dev, c } = setup();
    expect(dev.calls.slice(0, 10)).toEqual([
      'open',
      'GET_INFO',
      'GET_REGION_INFO 0 32',
      'GET_REGION_INFO 1 32',
      'GET_REGION_INFO 1 48',
      'GET_REGION_INFO 2 32',
      'GET_REGION_INFO 2 48',
      'GET_REGION_INFO 3 32',
      'GET_REGION_INFO 3 48',
      'GET_IRQ_INFO 0',
    ]);
    expect(c.ioctls).toEqual({ total: 14, get_info: 1, get_region_info: 7, get_irq_info: 3, set_irqs: 3, reset: 0 });
    expect(c.regions.io).toMatchObject({ offset: 0, size: 124 });
    expect(c.regions.async).toMatchObject({ index: 1, offset: 0x400, size: 8 });
    expect(c.regions.schib).toMatchObject({ index: 2, offset: 0x800, size: 52 });
    expect(c.regions.crw).toMatchObject({ index: 3, offset: 0xc00, size: 8 });
    expect(c.num_regions).toBe(4);
    expect(c.num_irqs).toBe(3);
    const fds = c.irq_fds;
    expect(new Set([fds.io, fds.crw, fds.req]).size).toBe(3);
    expect(dev.triggers.get(0)).toBe(fds.io);
    expect(dev.triggers.get(1)).toBe(fds.crw);
    expect(dev.triggers.get(2)).toBe(fds.req);
  });

  it('older QEMU without the region-info cache scans again for every lookup', () => {
    const { c } = setup({}, { region_info_cache: false });
    // GET_REGION_INFO(0) once, then async: 0,1 (1+2), schib: 0,1,2 (1+2+2), crw: 0..3 (1+2+2+2).
    expect(c.ioctls.get_region_info).toBe(1 + 3 + 5 + 7);
  });

  it('a region of the wrong size fails realize and closes the device', () => {
    reset_global(g);
    const dev = new FakeDevice(g, { extra: [[1, 8], [2, 48], [3, 8]] });
    const c = new VfioCcwClient(dev, g);
    const r = c.realize();
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/schib/);
    expect(dev.released).toBe(1);
    const dev2 = new FakeDevice(g, { io_size: 120 });
    expect(new VfioCcwClient(dev2, g).realize().ok).toBe(false);
    expect(dev2.released).toBe(1);
  });

  it('IO and CRW irq failures are fatal, REQ only warns', () => {
    reset_global(g);
    const d1 = new FakeDevice(g, { set_irqs_rc: { 0: -EINVAL } });
    expect(new VfioCcwClient(d1, g).realize().ok).toBe(false);
    const d2 = new FakeDevice(g, { set_irqs_rc: { 1: -EINVAL } });
    const r2 = new VfioCcwClient(d2, g).realize();
    expect(r2.ok).toBe(false);
    // The IO trigger registered before the failure was torn down again.
    expect(d2.calls).toContain('SET_IRQS 0 -1');
    expect(d2.released).toBe(1);
    const d3 = new FakeDevice(g, { set_irqs_rc: { 2: -EINVAL } });
    const r3 = new VfioCcwClient(d3, g).realize();
    expect(r3.ok).toBe(true);
    expect(r3.warnings.length).toBe(1);
    expect(r3.irq_fds.req).toBeNull();
  });

  it('an old kernel: only the io region, one irq; halt and clear are emulated locally', () => {
    const { dev, c } = setup({ extra: [], irqs: 1 });
    expect(c.regions.async).toBeNull();
    expect(c.regions.crw).toBeNull();
    expect(c.irq_fds).toEqual({ io: 0, crw: null, req: null });
    expect(dev.calls.filter((x) => x.startsWith('SET_IRQS'))).toEqual(['SET_IRQS 0 0']);
    expect(c.ssch(ORB)).toBe(0);
    expect(c.hsch()).toBe(0);
    expect(dev.cmd_writes).toEqual([]);
    expect(c.sch.scsw.ctrl & SCSW_STCTL.STATUS_PEND).toBe(SCSW_STCTL.STATUS_PEND);
    expect(c.sch.scsw.dstat).toBe(SCSW_DSTAT.DEVICE_END);
    expect(c.sch.io_int_pending).toBe(1);
    expect(c.tsch().cc).toBe(0);
    expect(c.csch()).toBe(0);
    expect(c.sch.scsw.ctrl & 0x7fff).toBe(SCSW_FCTL.CLEAR_FUNC | SCSW_STCTL.STATUS_PEND);
  });

  it('reset issues VFIO_DEVICE_RESET and returns its result', () => {
    const { dev, c } = setup();
    expect(c.reset()).toBe(0);
    expect(dev.resets).toBe(1);
    expect(c.ioctls.reset).toBe(1);
  });

  it('unrealize: SET_IRQS fd=-1 for REQ, CRW, IO, then release; eventfds closed', () => {
    const { dev, c } = setup();
    const fds = c.irq_fds;
    dev.calls.length = 0;
    const r = c.unrealize();
    expect(r.set_irqs.map((x) => x.index)).toEqual([2, 1, 0]);
    expect(dev.calls).toEqual(['SET_IRQS 2 -1', 'SET_IRQS 1 -1', 'SET_IRQS 0 -1', 'release']);
    for (const fd of [fds.io, fds.crw, fds.req]) expect(eventfd_ctx_fdget(g, fd ?? -1)).toBe(-9);
    expect(c.ssch(ORB)).toBe(3);
  });
});

describe('guest instructions: errno -> cc (QEMU vfio_ccw_handle_request)', () => {
  it('ssch: full write cc0, EBUSY cc2, ENODEV/EACCES cc3, SCSW restored on non-cc0', () => {
    for (const [rc, cc] of [
      [undefined, 0],
      [-EBUSY, 2],
      [-ENODEV, 3],
      [-EACCES, 3],
    ] as const) {
      const { dev, c } = setup();
      if (rc !== undefined) dev.io_script = [rc];
      expect(c.ssch(ORB)).toBe(cc);
      if (cc === 0) {
        expect(c.sch.scsw.ctrl).toBe(SCSW_FCTL.START_FUNC | SCSW_ACTL.START_PEND);
        expect(c.sch.pmcw.intparm).toBe(0xcafe);
      } else expect(c.sch.scsw.ctrl).toBe(0);
      expect(c.sch.io_int_pending).toBe(0);
      expect(c.counters.cc.ssch[`cc${cc}`]).toBe(1);
    }
  });

  it('ssch: every other errno and a short write give cc0 plus a unit-exception interrupt', () => {
    for (const rc of [...UE_ERRNOS.map((e) => -e), 100]) {
      const { dev, c } = setup();
      dev.io_script = [rc];
      expect(c.ssch(ORB)).toBe(0);
      expectUnitException(c, ORB.cpa);
      expect(c.counters.unit_exceptions).toBe(1);
      expect(Object.values(c.counters.results.io_write)).toEqual([1]);
    }
  });

  it('the guest takes the injected interrupt at once, with no eventfd signal; TSCH clears it', () => {
    const { dev, c } = setup();
    dev.io_script = [-ENOMEM];
    expect(c.ssch(ORB)).toBe(0);
    // QEMU's css_inject_io_interrupt: the guest's wait ends now, not after a timeout
    expect(c.wait_io(10_000)).toEqual({ count: 0, rc: 0, irb: null });
    expect(c.poll_io()).toEqual({ count: 0, rc: 0, irb: null });
    expect(c.counters.io_wakeups).toBe(0);
    const t = c.tsch();
    expect(t.cc).toBe(0);
    expect(t.irb![8]).toBe(SCSW_DSTAT.UNIT_EXCEP);
    // taken: the next wait is the eventfd's again (nothing signalled)
    expect(c.poll_io()).toBeNull();
  });

  it('the io write is the whole region: zeroed, ORB, emulated SCSW with FC=start', () => {
    const { dev, c } = started();
    const w = dev.io_writes[0]!;
    expect(w.length).toBe(124);
    expect(dv(w).getUint32(0)).toBe(0xcafe);
    expect(dv(w).getUint32(8)).toBe(0x2000);
    expect(dv(w).getUint16(14)).toBe(SCSW_FCTL.START_FUNC | SCSW_ACTL.START_PEND);
    expect(w.subarray(24).every((b) => b === 0)).toBe(true);
    expect(c.counters.writes).toBe(1);
  });

  it('hsch: cc0, EBUSY cc2, ENODEV/EACCES cc3, others cc0 + unit exception', () => {
    const rows: [number | undefined, GuestCc][] = [[undefined, 0], [-EBUSY, 2], [-ENODEV, 3], [-EACCES, 3], ...UE_ERRNOS.map((e): [number, GuestCc] => [-e, 0]), [4, 0]];
    for (const [rc, cc] of rows) {
      const { dev, c } = started();
      const before = c.sch.scsw.ctrl;
      if (rc !== undefined) dev.cmd_script = [rc];
      expect(c.hsch()).toBe(cc);
      expect(dev.cmd_writes).toEqual([VFIO_CCW_ASYNC_CMD_HSCH]);
      if (cc !== 0) expect(c.sch.scsw.ctrl).toBe(before);
      else if (rc === undefined) expect(c.sch.scsw.ctrl).toBe(SCSW_FCTL.HALT_FUNC | SCSW_ACTL.START_PEND | SCSW_ACTL.HALT_PEND);
      else expectUnitException(c, ORB.cpa);
    }
  });

  it('csch: cc0, ENODEV/EACCES cc3, EBUSY and others cc0 + unit exception', () => {
    const rows: [number | undefined, GuestCc][] = [[undefined, 0], [-ENODEV, 3], [-EACCES, 3], [-EBUSY, 0], ...UE_ERRNOS.map((e): [number, GuestCc] => [-e, 0])];
    for (const [rc, cc] of rows) {
      const { dev, c } = started();
      const before = c.sch.scsw.ctrl;
      if (rc !== undefined) dev.cmd_script = [rc];
      expect(c.csch()).toBe(cc);
      expect(dev.cmd_writes).toEqual([VFIO_CCW_ASYNC_CMD_CSCH]);
      if (cc !== 0) expect(c.sch.scsw.ctrl).toBe(before);
      else if (rc === undefined) expect(c.sch.scsw.ctrl).toBe(SCSW_FCTL.CLEAR_FUNC | SCSW_ACTL.CLEAR_PEND);
      else expectUnitException(c, ORB.cpa);
    }
  });

  it('-EAGAIN is retried at once until the write goes through; retries are counted', () => {
    const { dev, c } = setup();
    dev.io_script = [-EAGAIN, -EAGAIN, -EAGAIN, -EAGAIN, -EAGAIN];
    expect(c.ssch(ORB)).toBe(0);
    expect(c.counters.eagain_retries).toBe(5);
    expect(c.counters.writes).toBe(6);
    expect(dev.io_writes.length).toBe(1);
    expect(c.counters.results.io_write).toEqual({ '-EAGAIN': 5, ok: 1 });
    dev.cmd_script = [-EAGAIN, -EAGAIN, -EBUSY];
    expect(c.hsch()).toBe(2);
    expect(c.counters.eagain_retries).toBe(7);
  });

  it('invalid ORB -> program check; not enabled -> cc3', () => {
    const { c, dev } = setup();
    expect(c.ssch({ ...ORB, flags: ORB.flags | ORB_TM_B })).toBe('pgm');
    expect(c.ssch({ ...ORB, cpa: 0x80001000 })).toBe('pgm');
    expect(c.msch({ ena: false })).toBe(0);
    expect(c.ssch(ORB)).toBe(3);
    expect(c.hsch()).toBe(3);
    expect(c.csch()).toBe(3);
    expect(dev.io_writes.length).toBe(0);
  });
});

describe('emulated SCSW (QEMU hw/s390x/css.c answers from its own copy)', () => {
  it('second ssch before the IRB -> cc2; after the IRB before tsch -> cc1; tsch clears', () => {
    const { dev, c } = started();
    expect(c.ssch(ORB)).toBe(2);
    expect(dev.io_writes.length).toBe(1);
    dev.deliver(irb_normal_end({ cpa: 0x2008 }));
    expect(c.poll_io()).not.toBeNull();
    expect(c.ssch(ORB)).toBe(1);
    expect(c.hsch()).toBe(1);
    expect(c.take_io_interrupt()).toBe(true);
    const t = c.tsch();
    expect(t.cc).toBe(0);
    expect(scsw_from_bytes(t.irb!).ctrl).toBe(SCSW_FCTL.START_FUNC | SCSW_STCTL.PRIMARY | SCSW_STCTL.SECONDARY | SCSW_STCTL.STATUS_PEND);
    expect(c.sch.scsw.ctrl).toBe(0);
    expect(c.tsch().cc).toBe(1);
    expect(c.ssch(ORB)).toBe(0);
    expect(dev.io_writes.length).toBe(2);
    expect(c.counters.cc.ssch).toEqual({ cc0: 2, cc1: 1, cc2: 1, cc3: 0, pgm: 0 });
  });

  it('xsch answers cc0 for a forwarded start (never forwarded itself)', () => {
    const { dev, c } = started();
    const writes = dev.calls.filter((x) => x.startsWith('write')).length;
    expect(c.xsch()).toBe(0);
    expect(c.sch.scsw.ctrl).toBe(0);
    expect(dev.calls.filter((x) => x.startsWith('write')).length).toBe(writes);
    expect(c.xsch()).toBe(2);
  });

  it('intermediate status: tsch keeps the start function going', () => {
    const { dev, c } = started();
    const irb = new Uint8Array(96);
    dv(irb).setUint16(0, SCSW_FLAGS_MASK.ZCC);
    dv(irb).setUint16(2, SCSW_FCTL.START_FUNC | SCSW_ACTL.SUBCH_ACTIVE | SCSW_ACTL.DEVICE_ACTIVE | SCSW_STCTL.INTERMEDIATE | SCSW_STCTL.STATUS_PEND);
    dev.deliver(irb);
    c.poll_io();
    expect(c.tsch().cc).toBe(0);
    expect(c.sch.scsw.ctrl).toBe(SCSW_FCTL.START_FUNC | SCSW_ACTL.SUBCH_ACTIVE | SCSW_ACTL.DEVICE_ACTIVE);
    expect(c.sch.scsw.flags & SCSW_FLAGS_MASK.ZCC).toBe(0);
    expect(c.ssch(ORB)).toBe(2);
  });
});

describe('eventfd handlers', () => {
  it('wait_io copies the IRB SCSW verbatim and collapses several signals into one read', () => {
    const { dev, c } = started();
    const irb = irb_normal_end({ cpa: 0x2008, count: 3 });
    irb[12] = 0xab; // ESW byte, kept for tsch
    irb[1] = (irb[1] ?? 0) | 0x40; // odd flag bits are copied as they are
    dev.deliver(irb, 3);
    const reads = dev.calls.filter((x) => x === 'read 0 124').length;
    const ev = c.wait_io(1000);
    expect(ev).not.toBeNull();
    expect(ev!.count).toBe(3);
    expect(ev!.rc).toBe(124);
    expect(ev!.irb).toEqual(irb);
    expect(dev.calls.filter((x) => x === 'read 0 124').length).toBe(reads + 1);
    expect(c.counters.signals_collapsed).toBe(2);
    expect(c.counters.irbs_read).toBe(1);
    expect(c.sch.scsw).toEqual(scsw_from_bytes(irb));
    expect(c.sch.io_int_pending).toBe(1);
    expect(c.tsch().irb![12]).toBe(0xab);
    expect(c.wait_io(5)).toBeNull();
    expect(c.poll_io()).toBeNull();
  });

  it('an all-zero IRB is injected too (no filtering)', () => {
    const { dev, c } = started();
    dev.signal(0);
    const ev = c.poll_io();
    expect(ev!.irb!.every((b) => b === 0)).toBe(true);
    expect(c.sch.scsw.ctrl).toBe(0);
    expect(c.sch.io_int_pending).toBe(1);
    expect(c.tsch().cc).toBe(1);
  });

  it('an io read failing with ENODEV makes a deferred cc 3', () => {
    const { dev, c } = started();
    dev.io_read_rc = -ENODEV;
    dev.signal(0);
    const ev = c.poll_io();
    expect(ev!.irb).toBeNull();
    expect(c.sch.scsw.flags & SCSW_FLAGS_MASK.CC).toBe(SCSW_FLAGS_MASK.CC);
    expect(c.sch.scsw.ctrl & 0x1f).toBe(SCSW_STCTL.ALERT | SCSW_STCTL.STATUS_PEND);
  });

  it('drain_crw reads until the CRW word is zero, in order', () => {
    const { dev, c } = setup();
    dev.crws.push(0x00440001, 0x00460002, 0x00420003);
    dev.signal(1);
    expect(c.drain_crw()).toEqual([0x00440001, 0x00460002, 0x00420003]);
    expect(c.counters.crw_reads).toBe(4);
    expect(c.drain_crw()).toEqual([]);
    expect(c.stcrw()).toEqual({ cc: 0, crw: 0x00440001 });
  });

  it('drain_crw with driver re-signalling: extra wake-ups read zero at once', () => {
    const { dev, c } = setup({ crw_resignal: true });
    dev.crws.push(1, 2, 3);
    dev.signal(1);
    expect(c.drain_crw()).toEqual([1, 2, 3]);
    expect(c.counters.crw_wakeups).toBe(2);
    expect(c.counters.crw_reads).toBe(5);
  });

  it('poll_req reports an unplug request', () => {
    const { dev, c } = setup();
    expect(c.poll_req()).toBe(false);
    dev.signal(2, 2);
    expect(c.poll_req()).toBe(true);
    expect(c.counters.req_signals).toBe(2);
  });

  it('stsch reads the schib region and takes over only PNOM, LPUM, PAM, POM and PNO', () => {
    const { dev, c } = setup();
    dev.schib.fill(0x5a);
    dv(dev.schib).setUint16(28, SCSW_FLAGS_MASK.PNO);
    const r = c.stsch();
    expect(r.cc).toBe(0);
    expect(c.sch.pmcw).toMatchObject({ pnom: 0x5a, lpum: 0x5a, pam: 0x5a, pom: 0x5a, intparm: 0, devno: 0x1234, pim: 0x80 });
    expect(c.sch.scsw.flags).toBe(SCSW_FLAGS_MASK.PNO);
    dev.schib_rc = -ENODEV;
    expect(c.stsch().cc).toBe(0);
    expect(c.errors.at(-1)).toMatch(/SCHIB/);
  });

  it('raw access: one attempt, the driver result as it is', () => {
    const { dev, c } = setup();
    dev.io_script = [-EAGAIN];
    expect(c.write_io_region(ORB, 4)).toBe(-EAGAIN);
    expect(c.write_io_region(ORB, 4)).toBe(124);
    expect(dv(dev.io).getUint32(12)).toBe(0x00004000);
    expect(c.write_cmd(VFIO_CCW_ASYNC_CMD_CSCH)).toBe(8);
    expect(c.read_io_region().rc).toBe(124);
    expect(c.read_schib().rc).toBe(52);
    dev.crws.push(7);
    expect(c.read_crw()).toEqual({ rc: 8, crw: 7 });
    expect(c.counters.eagain_retries).toBe(0);
  });
});

describe('guest programs', () => {
  it('Sense ID: one CCW 0xE4, count 20, SLI; ORB format 1, ISIC, LPM 0x80, no PFCH', () => {
    const a = new GuestAlloc();
    const p = place(sense_id(), a);
    expect(p.cpa).toBe(0x1000);
    expect(ccw_decode(p.ccws)).toEqual({ cmd: CCW_CMD.SENSE_ID, flags: CCW_FLAG.SLI, count: 20, cda: 0x1008 });
    expect(p.orb.flags & (ORB_FMT | ORB_ISIC | ORB_PFCH)).toBe(ORB_FMT | ORB_ISIC);
    expect(orb_lpm(p.orb.flags)).toBe(0x80);
    expect(p.end_cpa).toBe(0x1008);
  });

  it('DASD read: Prefix + 64 chained Read MT with IDA fits in the 64 KiB guest space', () => {
    const a = new GuestAlloc();
    const writes: [number, number][] = [];
    const mem: GuestMem = { write: (iova, b) => writes.push([iova, b.length]) };
    const p = place(dasd_read({ blocks: 64, pci: true }), a);
    load_program(mem, p);
    expect(p.ccw_count).toBe(65);
    expect(p.orb.flags & (ORB_FMT | ORB_PFCH | ORB_C64)).toBe(ORB_FMT | ORB_PFCH | ORB_C64);
    expect(orb_lpm(p.orb.flags)).toBe(0xf0);
    const ccws = Array.from({ length: 65 }, (_, i) => ccw_decode(p.ccws, i * 8));
    expect(ccws[0]).toMatchObject({ cmd: CCW_CMD.PREFIX, flags: CCW_FLAG.CC, count: 64 });
    ccws.slice(1).forEach((x, i) => {
      expect(x.cmd).toBe(CCW_CMD.READ_MT);
      expect(x.count).toBe(4096);
      expect(x.flags & CCW_FLAG.IDA).toBe(CCW_FLAG.IDA);
      expect((x.flags & CCW_FLAG.CC) !== 0).toBe(i < 63);
      expect((x.flags & CCW_FLAG.PCI) !== 0).toBe(i + 1 === p.pci_index);
    });
    expect(p.pci_index).toBeGreaterThan(1);
    // every IDAW points to a 4K-aligned data page inside the program
    for (const s of p.segments.filter((x) => x.kind === 'idal')) {
      const addr = Number(dv(s.bytes).getBigUint64(0));
      expect(addr % 4096).toBe(0);
      expect(addr).toBeGreaterThanOrEqual(p.base);
      expect(addr + 4096).toBeLessThanOrEqual(p.base + p.size);
    }
    expect(p.base + p.size).toBeLessThanOrEqual(0x10000);
    expect(writes.length).toBe(p.segments.length);
    expect(() => dasd_read({ blocks: 65 })).toThrow(RangeError);
  });

  it('the bump allocator never hands out iova 0 and stops at 64 KiB', () => {
    const a = new GuestAlloc();
    const m = a.mark();
    expect(a.alloc(16)).toBe(0x1000);
    expect(() => a.alloc(0x10000)).toThrow(RangeError);
    a.release(m);
    expect(a.alloc(8)).toBe(0x1000);
  });

  it('a guest program goes through ssch unchanged', () => {
    const { dev, c } = setup();
    const p = place(sense_id({ intparm: 7 }), new GuestAlloc());
    expect(c.ssch(p.orb)).toBe(0);
    const w = dev.io_writes[0]!;
    expect(dv(w).getUint32(4)).toBe(p.orb.flags);
    expect(dv(w).getUint32(8)).toBe(p.cpa);
  });
});
