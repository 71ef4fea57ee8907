import { describe, expect, it } from 'vitest';
import { CCW_CMD, CCW_FLAG, ccw, ccw_chain, ccw_decode, ccw_encode, ccw_is_chain, idal_encode, idal_nr_words } from '../src/uapi/ccw.ts';
import {
  ERW_CONS,
  IRB_SIZE,
  SCSW_ESWF,
  irb_clear,
  irb_deferred_cc,
  irb_error_end,
  irb_halt,
  irb_initial_status,
  irb_intermediate_pci,
  irb_is_final,
  irb_is_solicited,
  irb_normal_end,
  irb_read_scsw,
  irb_sense,
  irb_unsolicited,
} from '../src/uapi/irb.ts';
import {
  make_cap_type,
  make_device_info,
  make_irq_info,
  make_irq_set,
  make_irq_set_eventfd,
  make_region_info,
  read_cap_type,
  read_device_info,
  read_irq_info,
  read_irq_set,
  read_irq_set_fds,
  read_region_caps,
  read_region_info,
} from '../src/uapi/ioctl.ts';
import {
  DEV_STAT_ATTENTION,
  DEV_STAT_CHN_END,
  DEV_STAT_DEV_END,
  DEV_STAT_UNIT_CHECK,
  SCHN_STAT_PCI,
  SCSW_FCTL_CLEAR_FUNC,
  SCSW_FCTL_HALT_FUNC,
  SCSW_FCTL_START_FUNC,
  SCSW_PNO,
  SCSW_STCTL_ALERT_STATUS,
  SCSW_STCTL_STATUS_PEND,
  SCSW_ZCC,
  scsw_cc,
  scsw_fctl,
  scsw_stctl,
} from '../src/uapi/scsw.ts';
import {
  VFIO_IRQ_SET_ACTION_TRIGGER,
  VFIO_IRQ_SET_DATA_EVENTFD,
  VFIO_REGION_INFO_CAP_TYPE,
  VFIO_REGION_SUBTYPE_CCW_ASYNC_CMD,
  VFIO_REGION_TYPE_CCW,
} from '../src/uapi/vfio_ccw.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('ccw', () => {
  it('encodes a format-1 CCW big-endian: cmd, flags, count, cda', () => {
    const c = ccw(CCW_CMD.SENSE_ID, CCW_FLAG.SLI, 0x0123, 0x12345678);
    expect(hex(ccw_encode(c))).toBe('e42001231234' + '5678');
    expect(ccw_decode(ccw_encode(c))).toEqual(c);
  });

  it('has the architected flag and command values', () => {
    expect(CCW_FLAG).toEqual({ CD: 0x80, CC: 0x40, SLI: 0x20, SKIP: 0x10, PCI: 0x08, IDA: 0x04, SUSPEND: 0x02, MIDA: 0x01 });
    expect([CCW_CMD.TIC, CCW_CMD.NOP, CCW_CMD.READ_MT, CCW_CMD.WRITE, CCW_CMD.RDC]).toEqual([0x08, 0x03, 0x86, 0x85, 0x64]);
  });

  it('ccw_chain sets command chaining on all but the last CCW and never on a TIC', () => {
    const b = ccw_chain([ccw(CCW_CMD.PREFIX, 0, 64, 0x4000), ccw(CCW_CMD.READ_MT, CCW_FLAG.SLI, 512, 0x5000), ccw(CCW_CMD.TIC, 0, 0, 0x1000)]);
    expect(b.length).toBe(24);
    const [a, r, t] = [ccw_decode(b, 0), ccw_decode(b, 8), ccw_decode(b, 16)];
    expect(a.flags).toBe(CCW_FLAG.CC);
    expect(r.flags).toBe(CCW_FLAG.SLI | CCW_FLAG.CC);
    expect(ccw_is_chain(t)).toBe(false);
    expect(ccw_chain([ccw(1, 0, 1, 0), ccw(2, 0, 1, 0)], { chain: false }).every((x, i) => i % 8 !== 1 || x === 0)).toBe(true);
  });

  it('lays out IDAWs as 8-byte big-endian addresses and counts the 4K blocks a transfer spans', () => {
    expect(hex(idal_encode([0x7800, 0x8000]))).toBe('0000000000007800' + '0000000000008000');
    expect(idal_nr_words(0x1000, 4096)).toBe(1);
    expect(idal_nr_words(0x1000, 4097)).toBe(2);
    expect(idal_nr_words(0x1ff0, 0x20)).toBe(2);
    expect(idal_nr_words(0x1000, 0)).toBe(0);
  });
});

describe('irb', () => {
  it('places SCSW @0, ESW @12, ECW @32 in 96 bytes; sense goes to the ECW with erw.cons and scnt', () => {
    const sense = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
    const irb = irb_error_end({ cpa: 0x40000010, count: 7, sense });
    expect(irb.length).toBe(IRB_SIZE);
    const dv = new DataView(irb.buffer);
    expect(dv.getUint32(4)).toBe(0x40000010);
    expect(dv.getUint8(8)).toBe(DEV_STAT_CHN_END | DEV_STAT_DEV_END | DEV_STAT_UNIT_CHECK);
    expect(dv.getUint16(10)).toBe(7);
    expect(dv.getUint32(16) & ERW_CONS).toBe(ERW_CONS);
    expect((dv.getUint32(16) >>> 16) & 0x3f).toBe(32);
    expect(dv.getUint32(0) & SCSW_ESWF).toBe(SCSW_ESWF);
    expect(hex(irb.subarray(32, 64))).toBe(hex(sense));
    expect(irb_sense(irb)).toEqual(sense);
    expect(irb_sense(irb_normal_end())).toBeNull();
    expect(irb.subarray(64).every((x) => x === 0)).toBe(true);
  });

  // solicited / final for each IRB (scsw_is_solicited, and vfio-ccw's is_final in vfio_ccw_sch_io_todo)
  const cases: [string, Uint8Array, { solicited: boolean; final: boolean; fctl: number; stctl?: number }][] = [
    ['normal end', irb_normal_end({ cpa: 8, count: 0 }), { solicited: true, final: true, fctl: SCSW_FCTL_START_FUNC, stctl: 0x07 }],
    ['PCI', irb_intermediate_pci(), { solicited: true, final: false, fctl: SCSW_FCTL_START_FUNC, stctl: 0x09 }],
    ['initial status', irb_initial_status(), { solicited: true, final: false, fctl: SCSW_FCTL_START_FUNC, stctl: 0x09 }],
    ['error end', irb_error_end({ sense: new Uint8Array(24) }), { solicited: true, final: true, fctl: SCSW_FCTL_START_FUNC, stctl: 0x17 }],
    ['halt, active', irb_halt({ active: true }), { solicited: true, final: true, fctl: SCSW_FCTL_HALT_FUNC, stctl: 0x07 }],
    ['halt, start withdrawn', irb_halt({ active: false, keep_start: true }), { solicited: true, final: true, fctl: SCSW_FCTL_HALT_FUNC | SCSW_FCTL_START_FUNC, stctl: 0x01 }],
    ['clear', irb_clear(), { solicited: true, final: true, fctl: SCSW_FCTL_CLEAR_FUNC, stctl: 0x01 }],
    ['unsolicited attention', irb_unsolicited(DEV_STAT_ATTENTION), { solicited: false, final: true, fctl: 0, stctl: 0x11 }],
    ['deferred cc 1', irb_deferred_cc(1, { dstat: DEV_STAT_UNIT_CHECK }), { solicited: true, final: true, fctl: SCSW_FCTL_START_FUNC, stctl: 0x11 }],
    ['deferred cc 3', irb_deferred_cc(3, { pno: true }), { solicited: true, final: true, fctl: SCSW_FCTL_START_FUNC, stctl: 0x11 }],
  ];
  for (const [name, irb, want] of cases) {
    it(`${name}: solicited=${want.solicited} final=${want.final}`, () => {
      const w0 = irb_read_scsw(irb).w0;
      expect(irb.length).toBe(IRB_SIZE);
      expect(irb_is_solicited(irb)).toBe(want.solicited);
      expect(irb_is_final(irb)).toBe(want.final);
      expect(scsw_fctl(w0)).toBe(want.fctl);
      if (want.stctl !== undefined) expect(scsw_stctl(w0)).toBe(want.stctl);
    });
  }

  it('carries the details: ZCC on initial status, PCI cstat, cc and PNO on deferred cc, CE/DE adds prim/sec', () => {
    expect(irb_read_scsw(irb_initial_status()).w0 & SCSW_ZCC).toBe(SCSW_ZCC);
    expect(irb_read_scsw(irb_normal_end()).w0 & SCSW_ZCC).toBe(0);
    expect(irb_read_scsw(irb_intermediate_pci()).cstat).toBe(SCHN_STAT_PCI);
    const d3 = irb_read_scsw(irb_deferred_cc(3, { pno: true })).w0;
    expect(scsw_cc(d3)).toBe(3);
    expect(d3 & SCSW_PNO).toBe(SCSW_PNO);
    const d1 = irb_read_scsw(irb_deferred_cc(1, { dstat: DEV_STAT_CHN_END | DEV_STAT_DEV_END | DEV_STAT_UNIT_CHECK })).w0;
    expect(scsw_cc(d1)).toBe(1);
    expect(scsw_stctl(d1)).toBe(0x17);
    const u = irb_read_scsw(irb_unsolicited(DEV_STAT_UNIT_CHECK, Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0x3f)));
    expect([u.cpa, scsw_stctl(u.w0)]).toEqual([0, SCSW_STCTL_ALERT_STATUS | SCSW_STCTL_STATUS_PEND]);
    expect(irb_sense(irb_unsolicited(DEV_STAT_UNIT_CHECK, Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0x3f)))?.[7]).toBe(0x3f);
    const c = irb_read_scsw(irb_clear());
    expect([c.dstat, c.cstat, c.cpa, c.count]).toEqual([0, 0, 0, 0]);
  });
});

describe('ioctl argument structs', () => {
  it('vfio_device_info: argsz@0 flags@4 num_regions@8 num_irqs@12, big-endian', () => {
    const b = make_device_info({ flags: 0x11, num_regions: 4, num_irqs: 3 });
    expect(hex(b)).toBe('00000010' + '00000011' + '00000004' + '00000003');
    expect(read_device_info(b)).toEqual({ argsz: 16, flags: 0x11, num_regions: 4, num_irqs: 3 });
  });

  it('vfio_region_info: size and offset are u64 at 16 and 24', () => {
    const b = make_region_info({ index: 1, flags: 0xb, cap_offset: 32, size: 8, offset: 0x400, argsz: 48 });
    expect(b.length).toBe(48);
    expect(hex(b.subarray(0, 32))).toBe('00000030' + '0000000b' + '00000001' + '00000020' + '0000000000000008' + '0000000000000400');
    expect(read_region_info(b)).toEqual({ argsz: 48, flags: 0xb, index: 1, cap_offset: 32, size: 8, offset: 0x400 });
    expect(make_region_info({ index: 0 }).length).toBe(32);
  });

  it('vfio_region_info_cap_type: header (id u16, version u16, next u32), type@8, subtype@12; the chain walk stops on loops', () => {
    const cap = make_cap_type(VFIO_REGION_TYPE_CCW, VFIO_REGION_SUBTYPE_CCW_ASYNC_CMD);
    expect(hex(cap)).toBe('0002' + '0001' + '00000000' + '00000002' + '00000001');
    const b = make_region_info({ index: 1, cap_offset: 32, argsz: 48 });
    b.set(cap, 32);
    expect(read_cap_type(b, 32)).toEqual({ header: { id: VFIO_REGION_INFO_CAP_TYPE, version: 1, next: 0 }, type: 2, subtype: 1 });
    expect(read_region_caps(b)).toHaveLength(1);
    b.set(make_cap_type(2, 3, 32), 32); // next points at itself
    expect(read_region_caps(b).map((c) => c.subtype)).toEqual([3]);
    expect(read_region_caps(make_region_info({ index: 0 }))).toEqual([]);
  });

  it('vfio_irq_info: argsz flags index count', () => {
    const b = make_irq_info({ index: 2, flags: 1, count: 1 });
    expect(hex(b)).toBe('00000010' + '00000001' + '00000002' + '00000001');
    expect(read_irq_info(b)).toEqual({ argsz: 16, flags: 1, index: 2, count: 1 });
  });

  it('vfio_irq_set: header at 0..19, data from 20; an eventfd set carries one s32 fd', () => {
    const b = make_irq_set_eventfd(0, -1);
    expect(hex(b)).toBe('00000018' + '00000024' + '00000000' + '00000000' + '00000001' + 'ffffffff');
    const s = read_irq_set(b);
    expect(s.flags).toBe(VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER);
    expect(read_irq_set_fds(s)).toEqual([-1]);
    expect(read_irq_set_fds(read_irq_set(make_irq_set_eventfd(1, 7)))).toEqual([7]);
    const none = read_irq_set(make_irq_set({ flags: 0x21, index: 1, count: 0 }));
    expect([none.argsz, none.index, none.data.length]).toEqual([20, 1, 0]);
  });
});
