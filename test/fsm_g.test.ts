// Version G ("mainline", vfio_ccw_fsm.c v6.3): the jump table as functions, and the actions' behaviour.
// Single-threaded: the whole system lives on the test's thread (test/helpers/g_rig.ts). The
// machine accepts ssch/hsch/csch synchronously; no interrupt arrives unless a test calls a driver
// function itself (the io_todo and fsm_irq tests say so in their names).
import { afterEach, describe, expect, it } from 'vitest';
import {
  driver_for,
  fsm_async_error,
  fsm_async_request,
  fsm_async_retry,
  fsm_close,
  fsm_disabled_irq,
  fsm_io_busy,
  fsm_io_error,
  fsm_io_request,
  fsm_io_retry,
  fsm_irq,
  fsm_nop,
  fsm_notoper,
  fsm_open,
  vfio_ccw_fsm_event,
  type FsmFunc,
} from '../src/driver/fsm.ts';
import { vfio_ccw_sch_io_todo } from '../src/driver/drv.ts';
import { vfio_device_open } from '../src/driver/ops.ts';
import { cp_host_addr } from '../src/driver/cp.ts';
import { atomic_read, eventfd_create, eventfd_stats, spin_lock_irq, spin_unlock_irq, work_pending } from '../src/kernel/index.ts';
import { HwInstr } from '../src/hw/layout.ts';
import { SCH_TODO_UNREG } from '../src/cio/index.ts';
import { make_orb } from '../src/client/guest.ts';
import { CCW_CMD, CCW_FLAG, ccw, ccw_chain } from '../src/uapi/ccw.ts';
import { EAGAIN, EBUSY, EFAULT, EINVAL, EIO, ENODEV, EACCES, EOPNOTSUPP } from '../src/uapi/errno.ts';
import { make_irq_set_eventfd } from '../src/uapi/ioctl.ts';
import { irb_make } from '../src/uapi/irb.ts';
import { ORB_TM_B } from '../src/uapi/orb.ts';
import {
  SCSW_ACTL_HALT_PEND,
  SCSW_ACTL_SCHACT,
  SCSW_FCTL_CLEAR_FUNC,
  SCSW_FCTL_HALT_FUNC,
  SCSW_FCTL_START_FUNC,
  SCSW_STCTL_ALERT_STATUS,
  SCSW_STCTL_INTER_STATUS,
  SCSW_STCTL_PRIM_STATUS,
  SCSW_STCTL_SEC_STATUS,
  SCSW_STCTL_STATUS_PEND,
  scsw_actl,
  scsw_word0,
} from '../src/uapi/scsw.ts';
import {
  CMD_REGION_SIZE,
  CMD_RET_CODE,
  IO_IRB,
  IO_REGION_SIZE,
  IO_SCSW,
  VFIO_CCW_ASYNC_CMD_CSCH,
  VFIO_CCW_ASYNC_CMD_HSCH,
  VFIO_CCW_IO_IRQ_INDEX,
  VFIO_DEVICE_SET_IRQS,
} from '../src/uapi/vfio_ccw.ts';
import { SCHIB_SCSW } from '../src/hw/schib.ts';
import { guest_write } from '../src/vfio/guest.ts';
import { CPA, DATA, OFF_ASYNC, OFF_IO, cmd_region, dv, end_rig, expect_start, g_rig, io_region, writes_without_sch_lock, type GRig } from './helpers/g_rig.ts';

// No test may leave a kernel warning it did not expect.
afterEach(() => {
  expect(end_rig()).toEqual([]);
});

// ---------------------------------------------------------------------------------------------
// 1. The jump table.

const STATES = ['NOT_OPER', 'STANDBY', 'IDLE', 'CP_PROCESSING', 'CP_PENDING'] as const;
const EVENTS = ['NOT_OPER', 'IO_REQ', 'INTERRUPT', 'ASYNC_REQ', 'OPEN', 'CLOSE'] as const;
type State = (typeof STATES)[number];
type Event = (typeof EVENTS)[number];

/**
 * vfio_ccw_jumptable (v6.0 … current), row by row; "nop" is fsm_nop. Transcribed by hand, not
 * from fsm_tables.ts.
 */
const SPEC_G: Readonly<Record<State, Readonly<Record<Event, FsmFunc>>>> = {
  NOT_OPER: { NOT_OPER: fsm_nop, IO_REQ: fsm_io_error, INTERRUPT: fsm_disabled_irq, ASYNC_REQ: fsm_async_error, OPEN: fsm_nop, CLOSE: fsm_nop },
  STANDBY: { NOT_OPER: fsm_notoper, IO_REQ: fsm_io_error, INTERRUPT: fsm_disabled_irq, ASYNC_REQ: fsm_async_error, OPEN: fsm_open, CLOSE: fsm_notoper },
  IDLE: { NOT_OPER: fsm_notoper, IO_REQ: fsm_io_request, INTERRUPT: fsm_irq, ASYNC_REQ: fsm_async_request, OPEN: fsm_notoper, CLOSE: fsm_close },
  CP_PROCESSING: { NOT_OPER: fsm_notoper, IO_REQ: fsm_io_retry, INTERRUPT: fsm_irq, ASYNC_REQ: fsm_async_retry, OPEN: fsm_notoper, CLOSE: fsm_close },
  CP_PENDING: { NOT_OPER: fsm_notoper, IO_REQ: fsm_io_busy, INTERRUPT: fsm_irq, ASYNC_REQ: fsm_async_request, OPEN: fsm_notoper, CLOSE: fsm_close },
};

const ACTION_FNS: Readonly<Record<string, FsmFunc>> = {
  fsm_nop, fsm_io_error, fsm_disabled_irq, fsm_notoper, fsm_io_request, fsm_irq, fsm_io_busy, fsm_io_retry,
  fsm_async_error, fsm_async_retry, fsm_async_request, fsm_open, fsm_close,
};
const fn_name = (f: FsmFunc | undefined): string => Object.entries(ACTION_FNS).find(([, v]) => v === f)?.[0] ?? `<unknown ${String(f)}>`;

describe('G jump table (vfio_ccw_jumptable)', () => {
  const drv = driver_for('mainline');

  it('numbers states and events as the kernel enums do', () => {
    expect(drv.shape.states).toEqual(STATES);
    expect(drv.shape.events).toEqual(EVENTS);
    expect(STATES.map((s) => drv.S[s])).toEqual([0, 1, 2, 3, 4]);
    expect(EVENTS.map((e) => drv.E[e])).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('is exactly 5 x 6, and the 13 actions are 13 different functions (identity means something)', () => {
    expect(drv.jumptable.length).toBe(5);
    for (const row of drv.jumptable) expect(row.length).toBe(6);
    expect(new Set(Object.values(ACTION_FNS)).size).toBe(13);
  });

  const cells = STATES.flatMap((s) => EVENTS.map((e) => [s, e] as const));
  it.each(cells)('jumptable[%s][%s] is the function the spec names', (s, e) => {
    const got = drv.jumptable[drv.S[s]]?.[drv.E[e]];
    // Compare names first for a readable failure, then the function itself.
    expect(fn_name(got)).toBe(fn_name(SPEC_G[s][e]));
    expect(got).toBe(SPEC_G[s][e]);
  });
});

// ---------------------------------------------------------------------------------------------
// Helpers for the behaviour tests.

const T = 'test';
const pinned = (r: GRig): number => atomic_read(r.gm.pages_pinned_total, T);
const unpinned = (r: GRig): number => atomic_read(r.gm.pages_unpinned_total, T);
const instr = (r: GRig, i: number): number => r.p.sch.hw.at('n_instr', i);
const cmd_ret = (r: GRig): number => r.p.v.cmd_region.get_i32(CMD_RET_CODE, T);
const ev = (r: GRig, e: number): void => vfio_ccw_fsm_event(r.p, e);
/** Force the next `n` executions of instruction `i` to answer `cc` (the machine's fault injection). */
function force_cc(r: GRig, i: number, cc: number, n = 1): void {
  r.p.sch.hw.set_at('force_cc', i, cc);
  r.p.sch.hw.set_at('force_n', i, n);
}
/** A failed request: the error came back, the state is IDLE, no cp is held, every pin undone. */
function expect_failed_request(r: GRig, rc: number): void {
  expect(r.ret_code()).toBe(rc);
  expect(r.state()).toBe(r.S.IDLE);
  expect(r.cp_initialized()).toBe(0);
  expect(unpinned(r)).toBe(pinned(r));
}

// ---------------------------------------------------------------------------------------------
// 2. fsm_io_request, step by step through the I/O region write (vfio_ccw_mdev_write_io_region).

describe('fsm_io_request', () => {
  it('START: cp_init, cp_prefetch, ssch; write returns count, CP_PENDING, ret_code 0, the SCSW copied (step 2)', () => {
    const r = g_rig();
    const region = io_region();
    expect(r.write(OFF_IO, region)).toBe(IO_REGION_SIZE);
    expect(r.state()).toBe(r.S.CP_PENDING);
    expect(r.ret_code()).toBe(0);
    expect([...r.p.v.scsw.read(0, 12, T)]).toEqual([...region.slice(IO_SCSW, IO_SCSW + 12)]);
    expect(r.cp_initialized()).toBe(1);
    expect(r.p.cp.v.pinned_pages.get(T)).toBe(1);
    expect([pinned(r), unpinned(r)]).toEqual([1, 0]);
    // the machine runs the translated chain with intparm = the subchannel's address
    expect(r.sschs()).toBe(1);
    expect(r.p.sch.hw.get('start_cpa') >>> 0).toBe(cp_host_addr(r.p.cp.v.generation.get(T), 0, 0));
    expect(r.p.sch.hw.get('intparm')).toBe(0x100);
    // fsm_io_helper: sch->schib.scsw.actl |= START_PEND
    expect(scsw_actl(r.p.sch.v.schib.get_u32(SCHIB_SCSW, T))).toBe(0x20);
  });

  it('any 1-byte write runs a full IO_REQ on what the region holds', () => {
    const r = g_rig();
    // Load the ORB with no function: nothing happens, count is returned.
    expect(r.write(OFF_IO, io_region({ fctl: 0 }))).toBe(IO_REGION_SIZE);
    expect([r.state(), r.sschs()]).toEqual([r.S.IDLE, 0]);
    // fctl sits in byte 2 of the SCSW: 0x40 there is START.
    expect(r.write(OFF_IO + IO_SCSW + 2, new Uint8Array([0x40]))).toBe(1);
    expect([r.state(), r.sschs(), r.cp_initialized()]).toEqual([r.S.CP_PENDING, 1, 1]);
  });

  it('3.1: the ORB tm bit gives -EOPNOTSUPP before any cp work; IDLE', () => {
    const r = g_rig();
    const orb = make_orb(CPA);
    orb.flags = (orb.flags | ORB_TM_B) >>> 0;
    expect(r.write(OFF_IO, io_region({ orb }))).toBe(-EOPNOTSUPP);
    expect_failed_request(r, -EOPNOTSUPP);
    expect([r.sschs(), pinned(r), r.p.cp.v.generation.get(T)]).toEqual([0, 0, 0]);
    // the SCSW was still copied (step 2 comes first)
    expect(r.p.v.scsw.get_u32(0, T) >>> 0).toBe((SCSW_FCTL_START_FUNC << 12) >>> 0);
    expect_start(r);
  });

  it('3.2: cp_init failing on an unmapped cpa gives -EINVAL; IDLE, nothing pinned', () => {
    const r = g_rig();
    expect(r.write(OFF_IO, io_region({ orb: make_orb(0x20000) }))).toBe(-EINVAL);
    expect_failed_request(r, -EINVAL);
    expect([r.sschs(), pinned(r)]).toEqual([0, 0]);
    expect_start(r);
  });

  it('3.2: cp_init failing on a chain longer than 256 CCWs gives -EINVAL', () => {
    const r = g_rig();
    const at = 0x8000;
    guest_write(r.gm, at, ccw_chain(Array.from({ length: 257 }, () => ccw(CCW_CMD.NOP, CCW_FLAG.CC, 0, 0)), { chain: false }));
    expect(r.write(OFF_IO, io_region({ orb: make_orb(at) }))).toBe(-EINVAL);
    expect_failed_request(r, -EINVAL);
    expect(r.sschs()).toBe(0);
    expect_start(r);
  });

  it('3.2: cp_init failing on a guest-memory fault gives -EFAULT', () => {
    const r = g_rig();
    r.gm.fault_start.set(CPA, T);
    r.gm.fault_len.set(8, T);
    expect(r.write(OFF_IO, io_region())).toBe(-EFAULT);
    expect_failed_request(r, -EFAULT);
    r.gm.fault_len.set(0, T);
    expect_start(r);
  });

  it('3.2: cp_init on a cp that is still initialised gives -EBUSY and frees nothing', () => {
    const r = g_rig();
    expect_start(r);
    const gen = r.p.cp.v.generation.get(T);
    // Unit test: the state is forced back to IDLE while the cp is still held.
    r.p.v.state.set(r.S.IDLE, T);
    expect(r.write(OFF_IO, io_region())).toBe(-EBUSY);
    expect(r.ret_code()).toBe(-EBUSY);
    expect(r.state()).toBe(r.S.IDLE);
    // "Nothing needs freeing": the earlier cp is untouched
    expect([r.cp_initialized(), r.p.cp.v.generation.get(T), pinned(r), unpinned(r), r.sschs()]).toEqual([1, gen, 1, 0, 1]);
  });

  it('3.3: cp_prefetch failing (a page cannot be pinned) gives -EFAULT and frees the cp', () => {
    const r = g_rig();
    r.gm.pin_fail_iova.set(DATA, T);
    expect(r.write(OFF_IO, io_region())).toBe(-EFAULT);
    expect_failed_request(r, -EFAULT);
    expect(r.sschs()).toBe(0);
    expect(r.p.cp.v.generation.get(T)).toBe(1); // cp_init did succeed
    r.gm.pin_fail_iova.set(0, T);
    expect_start(r);
  });

  it.each([
    [1, -EBUSY],
    [2, -EBUSY],
  ])('3.4: ssch cc %i gives %i and frees the cp (pins undone)', (cc, rc) => {
    const r = g_rig();
    force_cc(r, HwInstr.ssch, cc);
    expect(r.write(OFF_IO, io_region())).toBe(rc);
    expect_failed_request(r, rc);
    expect([pinned(r), unpinned(r)]).toEqual([1, 1]);
    expect(r.sschs()).toBe(0);
    expect_start(r);
  });

  it('3.4: ssch cc 3 with another path left: lpm loses the ORB path, -EACCES', () => {
    const r = g_rig({ hw: { pim: 0xc0, chpids: [0x40, 0x41] } });
    expect(r.p.sch.v.lpm.get(T)).toBe(0xc0);
    force_cc(r, HwInstr.ssch, 3);
    expect(r.write(OFF_IO, io_region())).toBe(-EACCES); // make_orb's lpm is 0x80
    expect_failed_request(r, -EACCES);
    expect(r.p.sch.v.lpm.get(T)).toBe(0x40);
  });

  it('3.4: ssch cc 3 on the last path: lpm 0, -ENODEV', () => {
    const r = g_rig();
    force_cc(r, HwInstr.ssch, 3);
    expect(r.write(OFF_IO, io_region())).toBe(-ENODEV);
    expect_failed_request(r, -ENODEV);
    expect(r.p.sch.v.lpm.get(T)).toBe(0);
  });

  it.each([
    ['HALT', SCSW_FCTL_HALT_FUNC],
    ['CLEAR', SCSW_FCTL_CLEAR_FUNC],
    ['HALT|CLEAR', SCSW_FCTL_HALT_FUNC | SCSW_FCTL_CLEAR_FUNC],
  ])('4/5: fctl %s on the I/O region gives -EOPNOTSUPP and issues nothing', (_n, fctl) => {
    const r = g_rig();
    expect(r.write(OFF_IO, io_region({ fctl }))).toBe(-EOPNOTSUPP);
    expect_failed_request(r, -EOPNOTSUPP);
    expect([instr(r, HwInstr.ssch), instr(r, HwInstr.hsch), instr(r, HwInstr.csch)]).toEqual([0, 0, 0]);
    expect_start(r);
  });

  it('START is tested first: START|HALT|CLEAR starts', () => {
    const r = g_rig();
    expect(r.write(OFF_IO, io_region({ fctl: 7 }))).toBe(IO_REGION_SIZE);
    expect([r.state(), r.sschs()]).toEqual([r.S.CP_PENDING, 1]);
  });

  it('no function bit: ret_code is left as it was, and the write returns it (or count if 0)', () => {
    const r = g_rig();
    // as the user wrote it
    expect(r.write(OFF_IO, io_region({ fctl: 0, ret_code: -EIO }))).toBe(-EIO);
    expect([r.state(), r.ret_code(), r.sschs()]).toEqual([r.S.IDLE, -EIO, 0]);
    // as an earlier request left it: HALT fails with -EOPNOTSUPP, then a write of ORB + SCSW only
    expect(r.write(OFF_IO, io_region({ fctl: SCSW_FCTL_HALT_FUNC }))).toBe(-EOPNOTSUPP);
    expect(r.write(OFF_IO, io_region({ fctl: 0 }).slice(0, 24))).toBe(-EOPNOTSUPP);
    expect([r.state(), r.ret_code()]).toEqual([r.S.IDLE, -EOPNOTSUPP]);
    // zero: count
    expect(r.write(OFF_IO, io_region({ fctl: 0, ret_code: 0 }))).toBe(IO_REGION_SIZE);
    expect([r.state(), r.ret_code(), r.sschs()]).toEqual([r.S.IDLE, 0, 0]);
    expect_start(r);
  });
});

// ---------------------------------------------------------------------------------------------
// 3. IO_REQ and ASYNC_REQ outside IDLE.

describe('IO_REQ in the other states', () => {
  it('CP_PENDING: -EBUSY (fsm_io_busy); the running cp and the state are untouched', () => {
    const r = g_rig();
    expect_start(r);
    const gen = r.p.cp.v.generation.get(T);
    expect(r.write(OFF_IO, io_region())).toBe(-EBUSY);
    expect([r.state(), r.ret_code(), r.cp_initialized(), r.p.cp.v.generation.get(T), r.sschs(), unpinned(r)]).toEqual([
      r.S.CP_PENDING, -EBUSY, 1, gen, 1, 0,
    ]);
  });

  it('CP_PROCESSING (state set directly): -EAGAIN (fsm_io_retry), state kept', () => {
    const r = g_rig();
    r.p.v.state.set(r.S.CP_PROCESSING, T);
    expect(r.write(OFF_IO, io_region())).toBe(-EAGAIN);
    expect([r.state(), r.ret_code(), r.sschs()]).toEqual([r.S.CP_PROCESSING, -EAGAIN, 0]);
  });

  it('STANDBY (device not opened): -EIO (fsm_io_error), state kept', () => {
    const r = g_rig({ open: false });
    expect(r.state()).toBe(r.S.STANDBY);
    expect(r.write(OFF_IO, io_region())).toBe(-EIO);
    expect([r.state(), r.ret_code(), r.sschs()]).toEqual([r.S.STANDBY, -EIO, 0]);
  });

  it('NOT_OPER (state set directly on an open device): -EIO, state kept', () => {
    const r = g_rig();
    r.p.v.state.set(r.S.NOT_OPER, T);
    expect(r.write(OFF_IO, io_region())).toBe(-EIO);
    expect([r.state(), r.ret_code(), r.sschs()]).toEqual([r.S.NOT_OPER, -EIO, 0]);
  });
});

describe('ASYNC_REQ (fsm_async_request, vfio_ccw_async_region_write)', () => {
  const hsch = cmd_region(VFIO_CCW_ASYNC_CMD_HSCH);
  const csch = cmd_region(VFIO_CCW_ASYNC_CMD_CSCH);

  it('IDLE: HSCH issues hsch (cc 0), returns count, HALT_PEND in the shadow SCSW; state kept', () => {
    const r = g_rig();
    expect(r.write(OFF_ASYNC, hsch)).toBe(CMD_REGION_SIZE);
    expect([cmd_ret(r), r.state(), instr(r, HwInstr.hsch), r.p.sch.hw.get('halt_seq')]).toEqual([0, r.S.IDLE, 1, 1]);
    expect(scsw_actl(r.p.sch.v.schib.get_u32(SCHIB_SCSW, T)) & SCSW_ACTL_HALT_PEND).toBe(SCSW_ACTL_HALT_PEND);
  });

  it('IDLE: CSCH issues csch, returns count; state kept', () => {
    const r = g_rig();
    expect(r.write(OFF_ASYNC, csch)).toBe(CMD_REGION_SIZE);
    expect([cmd_ret(r), r.state(), instr(r, HwInstr.csch), r.p.sch.hw.get('clear_seq')]).toEqual([0, r.S.IDLE, 1, 1]);
  });

  it('CP_PENDING: HSCH accepted; a second HSCH is -EBUSY (hsch cc 2); CSCH still accepted; state kept', () => {
    const r = g_rig();
    expect_start(r);
    expect(r.write(OFF_ASYNC, hsch)).toBe(CMD_REGION_SIZE);
    expect(r.write(OFF_ASYNC, hsch)).toBe(-EBUSY);
    expect(cmd_ret(r)).toBe(-EBUSY);
    expect(r.write(OFF_ASYNC, csch)).toBe(CMD_REGION_SIZE);
    expect([r.state(), r.cp_initialized(), instr(r, HwInstr.hsch), instr(r, HwInstr.csch)]).toEqual([r.S.CP_PENDING, 1, 2, 1]);
  });

  it.each([
    ['HSCH', VFIO_CCW_ASYNC_CMD_HSCH, HwInstr.hsch],
    ['CSCH', VFIO_CCW_ASYNC_CMD_CSCH, HwInstr.csch],
  ])('%s with cc 3 gives -ENODEV', (_n, cmd, i) => {
    const r = g_rig();
    force_cc(r, i, 3);
    expect(r.write(OFF_ASYNC, cmd_region(cmd))).toBe(-ENODEV);
    expect([cmd_ret(r), r.state()]).toEqual([-ENODEV, r.S.IDLE]);
  });

  it.each([0, 3, 4, 0x80000000, 0xffffffff])('IDLE and CP_PENDING: unknown command %i gives -EINVAL and issues nothing', (cmd) => {
    const r = g_rig();
    expect(r.write(OFF_ASYNC, cmd_region(cmd))).toBe(-EINVAL);
    expect([cmd_ret(r), r.state()]).toEqual([-EINVAL, r.S.IDLE]);
    expect_start(r);
    expect(r.write(OFF_ASYNC, cmd_region(cmd))).toBe(-EINVAL);
    expect([cmd_ret(r), r.state(), instr(r, HwInstr.hsch), instr(r, HwInstr.csch)]).toEqual([-EINVAL, r.S.CP_PENDING, 0, 0]);
  });

  it.each([
    ['CP_PROCESSING', 'CP_PROCESSING', -EAGAIN],
    ['STANDBY', 'STANDBY', -EIO],
    ['NOT_OPER', 'NOT_OPER', -EIO],
  ] as const)('%s (state set directly on an open device): %i, nothing issued, state kept', (_n, s, rc) => {
    const r = g_rig();
    r.p.v.state.set(r.S[s], T);
    for (const c of [hsch, csch, cmd_region(7)]) {
      expect(r.write(OFF_ASYNC, c)).toBe(rc);
      expect([cmd_ret(r), r.state()]).toEqual([rc, r.S[s]]);
    }
    expect([instr(r, HwInstr.hsch), instr(r, HwInstr.csch)]).toEqual([0, 0]);
  });
});

// ---------------------------------------------------------------------------------------------
// 4. OPEN, CLOSE and NOT_OPER.

// fsm_notoper reached through OPEN/CLOSE runs without sch->lock, in the kernel as here (it runs
// under whatever lock its caller holds; fsm_open fires NOT_OPER after its unlock). Its
// css_sched_sch_todo documents sch->lock but asserts nothing (css.c), so no warning comes: the
// unlocked write to sch->todo is what the detectors see, as the first of these tests shows.
describe('OPEN / CLOSE / NOT_OPER', () => {
  it('OPEN in STANDBY (open_device): IDLE, subchannel enabled with ISC 6', () => {
    const r = g_rig({ open: false });
    expect([r.state(), r.p.sch.hw.get('enabled')]).toEqual([r.S.STANDBY, 0]);
    expect(vfio_device_open(r.p)).toBe(0);
    expect([r.state(), r.p.sch.hw.get('enabled'), r.p.sch.hw.get('isc'), r.p.v.num_regions.get(T)]).toEqual([r.S.IDLE, 1, 6, 3]);
  });

  it('OPEN in STANDBY failing to enable (device gone): NOT_OPER via fsm_notoper; open_device -EINVAL, regions dropped', () => {
    const r = g_rig({ open: false });
    r.p.sch.hw.set('present', 0);
    expect(writes_without_sch_lock(r, r.p.sch.v.todo.id, () => expect(vfio_device_open(r.p)).toBe(-EINVAL))).toEqual(['css_sched_sch_todo']);
    expect([r.state(), r.p.sch.v.todo.get(T), r.p.v.num_regions.get(T), r.p.v.open_count.get(T)]).toEqual([r.S.NOT_OPER, SCH_TODO_UNREG, 0, 0]);
    expect(r.take_warnings()).toEqual([]);
  });

  it('CLOSE in IDLE: STANDBY, subchannel disabled', () => {
    const r = g_rig();
    ev(r, r.E.CLOSE);
    expect([r.state(), r.p.sch.hw.get('enabled')]).toEqual([r.S.STANDBY, 0]);
  });

  it('CLOSE in CP_PENDING: quiesce cancels the start, STANDBY, cp freed', () => {
    const r = g_rig();
    expect_start(r);
    ev(r, r.E.CLOSE);
    expect([r.state(), r.p.sch.hw.get('enabled'), r.p.sch.hw.get('fctl'), r.cp_initialized(), instr(r, HwInstr.xsch)]).toEqual([r.S.STANDBY, 0, 0, 0, 1]);
    expect(unpinned(r)).toBe(pinned(r));
  });

  it('CLOSE in STANDBY: NOT_OPER (fsm_notoper schedules UNREG); open_device then -EINVAL', () => {
    const r = g_rig({ open: false });
    ev(r, r.E.CLOSE);
    expect([r.state(), r.p.sch.v.todo.get(T)]).toEqual([r.S.NOT_OPER, SCH_TODO_UNREG]);
    expect(r.take_warnings()).toEqual([]);
    expect(vfio_device_open(r.p)).toBe(-EINVAL);
    expect([r.state(), r.p.v.num_regions.get(T), r.p.sch.hw.get('enabled')]).toEqual([r.S.NOT_OPER, 0, 0]);
  });

  it('OPEN in IDLE: NOT_OPER', () => {
    const r = g_rig();
    ev(r, r.E.OPEN);
    expect([r.state(), r.p.sch.v.todo.get(T)]).toEqual([r.S.NOT_OPER, SCH_TODO_UNREG]);
    expect(r.take_warnings()).toEqual([]);
  });

  it('OPEN in CP_PENDING: NOT_OPER, and fsm_notoper frees the cp', () => {
    const r = g_rig();
    expect_start(r);
    ev(r, r.E.OPEN);
    expect([r.state(), r.cp_initialized()]).toEqual([r.S.NOT_OPER, 0]);
    expect(unpinned(r)).toBe(pinned(r));
    expect(r.take_warnings()).toEqual([]);
  });

  it('NOT_OPER absorbs every event: OPEN/CLOSE/NOT_OPER are nop, IO_REQ/ASYNC_REQ give -EIO, INTERRUPT disables', () => {
    const r = g_rig();
    ev(r, r.E.OPEN); // IDLE -> NOT_OPER, the subchannel is still enabled
    expect([r.state(), r.p.sch.hw.get('enabled')]).toEqual([r.S.NOT_OPER, 1]);
    expect(r.take_warnings()).toEqual([]);
    for (const e of [r.E.OPEN, r.E.CLOSE, r.E.NOT_OPER]) {
      ev(r, e);
      expect(r.state()).toBe(r.S.NOT_OPER);
    }
    expect(r.p.sch.hw.get('enabled')).toBe(1); // CLOSE did not disable: nop
    expect(r.write(OFF_IO, io_region())).toBe(-EIO);
    expect(r.write(OFF_ASYNC, cmd_region(VFIO_CCW_ASYNC_CMD_HSCH))).toBe(-EIO);
    expect(r.sschs()).toBe(0);
    spin_lock_irq(r.p.sch.v.lock, T);
    ev(r, r.E.INTERRUPT);
    spin_unlock_irq(r.p.sch.v.lock, T);
    expect([r.state(), r.p.sch.hw.get('enabled'), work_pending(r.p.v.io_work)]).toEqual([r.S.NOT_OPER, 0, false]);
  });
});

// ---------------------------------------------------------------------------------------------
// 5. The interrupt path: fsm_irq / fsm_disabled_irq, and io_todo rule E (vfio_ccw_sch_io_todo, v6.0+).
// Single-threaded unit tests: the IRB is written into the slot by the test and io_todo is
// called directly, as the todo worker would run it.

const scsw_bytes = (w0: number, cpa: number): Uint8Array => irb_make({ w0, cpa, dstat: 0x0c, cstat: 0, count: 0 });
const FINAL = scsw_word0({ fctl: SCSW_FCTL_START_FUNC, stctl: SCSW_STCTL_PRIM_STATUS | SCSW_STCTL_SEC_STATUS | SCSW_STCTL_STATUS_PEND });
const UNSOLICITED = scsw_word0({ stctl: SCSW_STCTL_ALERT_STATUS | SCSW_STCTL_STATUS_PEND });
const INTERMEDIATE = scsw_word0({ fctl: SCSW_FCTL_START_FUNC, actl: SCSW_ACTL_SCHACT, stctl: SCSW_STCTL_INTER_STATUS | SCSW_STCTL_STATUS_PEND });

/** Open, install an io eventfd, start: CP_PENDING. Returns the eventfd. */
function pending_with_trigger(r: GRig): number {
  const fd = eventfd_create(r.g);
  expect(fd).toBeGreaterThanOrEqual(0);
  expect(r.ioctl(VFIO_DEVICE_SET_IRQS, make_irq_set_eventfd(VFIO_CCW_IO_IRQ_INDEX, fd))).toBe(0);
  expect_start(r);
  return fd;
}
function io_todo_with(r: GRig, irb: Uint8Array): void {
  r.p.v.irb.write(0, irb, T);
  vfio_ccw_sch_io_todo(r.p);
}
const region_irb = (r: GRig): Uint8Array => r.p.v.io_region.read(IO_IRB, 96, T);

describe('interrupts in G (unit tests: driver functions called directly)', () => {
  it('fsm_irq (INTERRUPT in CP_PENDING, sch->lock held): the per-CPU IRB goes to private->irb, io_work queued, state kept', () => {
    const r = g_rig();
    expect_start(r);
    const irb = scsw_bytes(FINAL, 0x1234);
    r.p.sch.v.irb.write(0, irb, T);
    spin_lock_irq(r.p.sch.v.lock, T);
    ev(r, r.E.INTERRUPT);
    spin_unlock_irq(r.p.sch.v.lock, T);
    expect([...r.p.v.irb.read(0, 96, T)]).toEqual([...irb]);
    expect([work_pending(r.p.v.io_work), r.state(), r.cp_initialized()]).toEqual([true, r.S.CP_PENDING, 1]);
  });

  it('fsm_disabled_irq (INTERRUPT in STANDBY): the IRB is dropped, nothing queued', () => {
    const r = g_rig({ open: false });
    r.p.sch.v.irb.write(0, scsw_bytes(FINAL, 0x1234), T);
    spin_lock_irq(r.p.sch.v.lock, T);
    ev(r, r.E.INTERRUPT);
    spin_unlock_irq(r.p.sch.v.lock, T);
    expect([...r.p.v.irb.read(0, 96, T)]).toEqual(Array.from({ length: 96 }, () => 0));
    expect([work_pending(r.p.v.io_work), r.state()]).toEqual([false, r.S.STANDBY]);
  });
});

describe('io_todo, rule E (unit tests calling vfio_ccw_sch_io_todo directly)', () => {
  it('a solicited final interrupt in CP_PENDING frees the cp, sets IDLE, translates cpa, copies the IRB, signals', () => {
    const r = g_rig();
    const fd = pending_with_trigger(r);
    const gen = r.p.cp.v.generation.get(T);
    // The channel stopped after the only CCW: cpa = translated head + 8
    io_todo_with(r, scsw_bytes(FINAL, cp_host_addr(gen, 0, 1)));
    expect([r.state(), r.cp_initialized()]).toEqual([r.S.IDLE, 0]);
    expect([pinned(r), unpinned(r)]).toEqual([1, 1]);
    const out = region_irb(r);
    expect(dv(out).getUint32(0) >>> 0).toBe(FINAL >>> 0);
    expect(dv(out).getUint32(4)).toBe(CPA + 8); // guest address
    expect(eventfd_stats(r.g, fd).signals).toBe(1);
    // and the device does I/O again
    r.p.sch.hw.set('fctl', 0); // the machine's side of the ending (no engine runs here)
    r.p.sch.hw.set('actl', 0);
    expect_start(r);
  });

  it('a deferred cc makes an alert status solicited: cc 1 + alert|pending in CP_PENDING frees and sets IDLE', () => {
    const r = g_rig();
    pending_with_trigger(r);
    io_todo_with(r, scsw_bytes(scsw_word0({ cc: 1, fctl: SCSW_FCTL_START_FUNC, stctl: SCSW_STCTL_ALERT_STATUS | SCSW_STCTL_STATUS_PEND }), 0));
    expect([r.state(), r.cp_initialized()]).toEqual([r.S.IDLE, 0]);
  });

  it('an unsolicited interrupt (alert|pending, cc 0) changes nothing but the IRB area; cpa is not translated', () => {
    const r = g_rig();
    const fd = pending_with_trigger(r);
    const gen = r.p.cp.v.generation.get(T);
    const host = cp_host_addr(gen, 0, 1);
    io_todo_with(r, scsw_bytes(UNSOLICITED, host));
    expect([r.state(), r.cp_initialized(), unpinned(r)]).toEqual([r.S.CP_PENDING, 1, 0]);
    expect(dv(region_irb(r)).getUint32(0) >>> 0).toBe(UNSOLICITED >>> 0);
    expect(dv(region_irb(r)).getUint32(4) >>> 0).toBe(host);
    expect(eventfd_stats(r.g, fd).signals).toBe(1);
  });

  it('an intermediate (not final) solicited interrupt leaves the cp and CP_PENDING', () => {
    const r = g_rig();
    const fd = pending_with_trigger(r);
    const gen = r.p.cp.v.generation.get(T);
    io_todo_with(r, scsw_bytes(INTERMEDIATE, cp_host_addr(gen, 0, 0)));
    expect([r.state(), r.cp_initialized(), unpinned(r)]).toEqual([r.S.CP_PENDING, 1, 0]);
    expect(dv(region_irb(r)).getUint32(4)).toBe(CPA); // solicited: cpa translated
    expect(eventfd_stats(r.g, fd).signals).toBe(1);
  });

  it('a solicited final interrupt outside CP_PENDING (CP_PROCESSING, set directly) frees nothing and keeps the state', () => {
    const r = g_rig();
    pending_with_trigger(r);
    r.p.v.state.set(r.S.CP_PROCESSING, T);
    io_todo_with(r, scsw_bytes(FINAL, 0));
    expect([r.state(), r.cp_initialized(), unpinned(r)]).toEqual([r.S.CP_PROCESSING, 1, 0]);
  });

  it('a solicited final interrupt in IDLE (e.g. after a halt) keeps IDLE and still reaches the user', () => {
    const r = g_rig();
    const fd = eventfd_create(r.g);
    expect(r.ioctl(VFIO_DEVICE_SET_IRQS, make_irq_set_eventfd(VFIO_CCW_IO_IRQ_INDEX, fd))).toBe(0);
    const halt = scsw_word0({ fctl: SCSW_FCTL_HALT_FUNC, stctl: SCSW_STCTL_PRIM_STATUS | SCSW_STCTL_STATUS_PEND });
    io_todo_with(r, scsw_bytes(halt, 0));
    expect([r.state(), r.cp_initialized()]).toEqual([r.S.IDLE, 0]);
    expect(dv(region_irb(r)).getUint32(0) >>> 0).toBe(halt >>> 0);
    expect(eventfd_stats(r.g, fd).signals).toBe(1);
  });
});
