// The host's common I/O layer over the machine: enable/disable, the staged cancel/halt/clear
// (invariant I11's bound), the interrupt entry's context, and css events, on the main thread
// with a virtual clock and on real worker threads.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ActorKind, H, Warn, alloc_global, work_pending, register_hook, current, read_warnings, reset_global, set_clock, set_current, spin_lock_irq, spin_owner, spin_unlock_irq,
  type SharedBuf,
} from '../src/kernel/index.ts';
import { HwEngine, HwInstr, HwPathEvent, hw_accounting_errors, hw_post, hw_snapshot, type HwCommand, type HwConfig, type HwRunResult } from '../src/hw/index.ts';
import {
  CHP_OFFLINE, CHP_ONLINE, CHP_VARY_OFF, CHP_VARY_ON, cio_cancel_halt_clear, cio_disable_subchannel, cio_enable_subchannel, cio_update_schib,
  css_hw_host, css_register_driver, css_sched_sch_todo, css_unregister_driver, do_cio_interrupt, sch_shadow_actl_or, sch_shadow_actl_set, ssch,
  SCH_TODO_UNREG, type Subch,
} from '../src/cio/index.ts';
import { EBUSY, EIO, ENODEV } from '../src/uapi/errno.ts';
import { SCSW_ACTL_CLEAR_PEND, SCSW_ACTL_HALT_PEND, SCSW_ACTL_START_PEND, SCSW_FCTL_START_FUNC, scsw_actl, scsw_fctl } from '../src/uapi/scsw.ts';
import { ActorPool, prog, unwrap } from '../src/runtime/pool.ts';
import { area_base, hw_area, hw_area_reset, tally, type HwTestViews } from './programs/hw-area.ts';
import { test_orb } from './programs/hw-programs.ts';

const ORB = test_orb(0x1000);
let now = 0;
let g: SharedBuf;

beforeAll(() => {
  g = alloc_global();
  set_current(g, 0, ActorKind.main, 'main');
});

// ---- main thread, virtual clock: the engine stepped by hand, interrupts through do_cio_interrupt ----

interface C {
  v: HwTestViews;
  sch: Subch;
  engine: HwEngine;
  irqs: { lockHeld: boolean; inIrq: boolean; fctl: number }[];
  run(ms: number): void;
}

function cio_machine(config: Partial<HwConfig> = {}): C {
  const v = hw_area(g);
  hw_area_reset(v);
  const c: C = {
    v,
    sch: v.sch,
    engine: new HwEngine({
      css: v.css,
      devs: [{ hw: v.hw, host: css_hw_host(v.sch) }],
      seed: 1,
      config: { start_begin_us: [10, 10], start_latency_us: [100, 100], halt_latency_us: [10, 10], clear_latency_us: [10, 10], p_isic: 0, ...config },
    }),
    irqs: [],
    run(ms) {
      const target = now + ms;
      for (let k = 0; k < 100_000; k++) {
        const next = c.engine.settle();
        if (next > target) break;
        now = Math.max(now, next);
      }
      now = target;
      c.engine.settle();
    },
  };
  css_register_driver({
    irq(sch) {
      c.irqs.push({ lockHeld: spin_owner(sch.v.lock) === current.id, inIrq: current.inIrq && current.irqsOff, fctl: scsw_fctl(sch.scsw_w0('test')) });
    },
    sch_event: () => 0,
    chp_event: () => 0,
  });
  return c;
}

/** Run body with sch->lock held (spin_lock_irq), as the kernel's callers do. */
function locked<T>(sch: Subch, body: () => T): T {
  spin_lock_irq(sch.v.lock, 'test');
  try {
    return body();
  } finally {
    spin_unlock_irq(sch.v.lock, 'test');
  }
}

const open = (c: C): void => expect(locked(c.sch, () => cio_enable_subchannel(c.sch, 0x10))).toBe(0);
const start = (c: C): void => expect(locked(c.sch, () => ssch(c.sch, ORB))).toBe(0);
const instrs = (c: C): number[] => hw_snapshot(c.v.hw).n_instr;

describe('cio on the main thread', () => {
  beforeAll(() => set_clock({ now_ms: () => now }));
  afterAll(() => {
    set_clock(null);
    css_unregister_driver();
  });
  beforeEach(() => {
    now = 0;
    reset_global(g);
  });

  it('cio_enable_subchannel: 0, the machine and the shadow schib both enabled with the ISC and intparm', () => {
    const c = cio_machine();
    expect(c.sch.hw_enabled()).toBe(false);
    open(c);
    expect(c.sch.hw_enabled()).toBe(true);
    expect([c.v.hw.get('enabled'), c.v.hw.get('isc'), c.v.hw.get('intparm')]).toEqual([1, 3, 0x10]);
    expect(read_warnings(g).records).toEqual([]);
  });

  it('cio calls without sch->lock: no lockdep warning (cio.c and ioasm.c assert nothing), the shadow schib write still a plain write', () => {
    const c = cio_machine();
    const writes: string[] = [];
    const off = register_hook((k, o, site) => {
      if (k === H.write && o === c.sch.v.schib.id) writes.push(site);
    });
    try {
      expect(cio_enable_subchannel(c.sch, 0x10)).toBe(0);
    } finally {
      off();
    }
    expect(read_warnings(g).records.map((w) => w.code)).not.toContain(Warn.lock_not_held);
    expect(writes).toContain('cio_enable_subchannel');
  });

  it('cio_disable_subchannel: 0 when idle; -EBUSY while a function is active (after 5 msch); -ENODEV when gone', () => {
    const c = cio_machine({ hung: true });
    open(c);
    expect(locked(c.sch, () => cio_disable_subchannel(c.sch))).toBe(0);
    expect(c.sch.hw_enabled()).toBe(false);
    open(c);
    start(c);
    c.run(1);
    const before = instrs(c)[HwInstr.msch]!;
    expect(locked(c.sch, () => cio_disable_subchannel(c.sch))).toBe(-EBUSY);
    expect(instrs(c)[HwInstr.msch]! - before).toBe(5);
    expect(c.v.hw.get('enabled')).toBe(1);
    hw_post_settle(c, { op: 'gone' });
    expect(locked(c.sch, () => cio_disable_subchannel(c.sch))).toBe(-ENODEV);
  });

  it('disabling a status-pending subchannel throws the status away with tsch (never delivered)', () => {
    const c = cio_machine();
    open(c);
    hw_post_settle(c, { op: 'hold' });
    start(c);
    hw_post_settle(c, { op: 'complete', kind: 'final' });
    expect(c.v.hw.get('status_pending')).toBe(1);
    expect(locked(c.sch, () => cio_disable_subchannel(c.sch))).toBe(0);
    expect(c.v.hw.get('discarded_msch')).toBe(1);
    hw_post_settle(c, { op: 'release' });
    c.run(100);
    expect(c.irqs).toHaveLength(0);
    expect(hw_accounting_errors(hw_snapshot(c.v.hw))).toEqual([]);
  });

  it('gone: enable, disable and the schib refresh give -ENODEV; the shadow keeps its last contents', () => {
    const c = cio_machine();
    open(c);
    const shadow = c.sch.v.schib.read(0, 52, 'test');
    hw_post_settle(c, { op: 'gone' });
    expect(locked(c.sch, () => [cio_update_schib(c.sch), cio_enable_subchannel(c.sch, 0x10), cio_disable_subchannel(c.sch)])).toEqual([-ENODEV, -ENODEV, -ENODEV]);
    expect(c.sch.v.schib.read(0, 52, 'test')).toEqual(shadow);
  });

  it('shadow actl helpers: OR and set, under sch->lock', () => {
    const c = cio_machine();
    locked(c.sch, () => {
      sch_shadow_actl_or(c.sch, SCSW_ACTL_START_PEND, 'test');
      sch_shadow_actl_or(c.sch, SCSW_ACTL_HALT_PEND, 'test');
    });
    expect(scsw_actl(c.sch.scsw_w0('test'))).toBe(SCSW_ACTL_START_PEND | SCSW_ACTL_HALT_PEND);
    locked(c.sch, () => sch_shadow_actl_set(c.sch, SCSW_ACTL_CLEAR_PEND, 'test'));
    expect(scsw_actl(c.sch.scsw_w0('test'))).toBe(SCSW_ACTL_CLEAR_PEND);
    locked(c.sch, () => {
      css_sched_sch_todo(c.sch, SCH_TODO_UNREG);
      css_sched_sch_todo(c.sch, 0);
    });
    expect(c.sch.v.todo.get('test')).toBe(SCH_TODO_UNREG);
    // queued once on cio_work_q, holding one device reference besides the registration's
    expect(work_pending(c.sch.d.todo_work)).toBe(true);
    expect(Atomics.load(c.sch.d.dev_ref.a, c.sch.d.dev_ref.i)).toBe(2);
  });

  describe('cio_cancel_halt_clear', () => {
    /** The quiesce loop's shape: call, let 3 s pass (no interrupt comes), try to disable; until -EIO. */
    function quiesce(c: C): { calls: number; last: number; xsch: number; hsch: number; csch: number } {
      const base = instrs(c);
      const iretry = { v: 255 };
      let calls = 0;
      let last = 0;
      for (; calls < 1000; ) {
        last = locked(c.sch, () => cio_cancel_halt_clear(c.sch, iretry));
        calls++;
        if (last === -EIO || last !== -EBUSY) break;
        c.run(3000);
        if (locked(c.sch, () => cio_disable_subchannel(c.sch)) !== -EBUSY) break;
      }
      const n = instrs(c);
      const d = (k: number): number => n[k]! - base[k]!;
      return { calls, last, xsch: d(HwInstr.xsch), hsch: d(HwInstr.hsch), csch: d(HwInstr.csch) };
    }

    it('I11: against a machine that ignores halts and clears: 1 cancel, then halts (at most 3), then 255 clears, then -EIO', () => {
      const c = cio_machine({ hung: true, halt: 'ignore', clear: 'ignore' });
      open(c);
      start(c);
      c.run(1);
      const r = quiesce(c);
      expect(r.last).toBe(-EIO);
      expect(r.xsch).toBeLessThanOrEqual(1);
      expect(r.hsch).toBeLessThanOrEqual(3);
      expect(r.csch).toBeLessThanOrEqual(255);
      // this machine answers the second hsch with cc 2 (a halt is already in progress), which
      // sends the helper to the clears at once
      expect([r.xsch, r.hsch, r.csch, r.calls]).toEqual([1, 2, 255, 257]);
      expect(c.irqs).toHaveLength(0);
    });

    it('halts refused with cc 1 (fault injection): straight to the 255 clears', () => {
      const c = cio_machine({ hung: true, clear: 'ignore' });
      open(c);
      start(c);
      c.run(1);
      hw_post_settle(c, { op: 'set_cc', instr: 'hsch', cc: 1, count: 100 });
      const r = quiesce(c);
      expect([r.last, r.xsch, r.hsch, r.csch]).toEqual([-EIO, 1, 1, 255]);
    });

    it('a start not yet begun is cancelled: 0, and no interrupt ever', () => {
      const c = cio_machine();
      open(c);
      hw_post_settle(c, { op: 'hold' });
      start(c);
      expect(locked(c.sch, () => cio_cancel_halt_clear(c.sch, { v: 255 }))).toBe(0);
      expect(scsw_fctl(c.sch.scsw_w0('test'))).toBe(0);
      hw_post_settle(c, { op: 'release' });
      c.run(10_000);
      expect(c.irqs).toHaveLength(0);
      expect(locked(c.sch, () => cio_disable_subchannel(c.sch))).toBe(0);
    });

    it('an active start: cancel not applicable, one halt (-EBUSY: an interrupt is expected), the halt interrupt, then disable works', () => {
      const c = cio_machine({ hung: true });
      open(c);
      start(c);
      c.run(1);
      const base = instrs(c);
      expect(locked(c.sch, () => cio_cancel_halt_clear(c.sch, { v: 255 }))).toBe(-EBUSY);
      expect(scsw_actl(c.sch.scsw_w0('test')) & SCSW_ACTL_HALT_PEND).not.toBe(0);
      const n = instrs(c);
      expect([n[HwInstr.xsch]! - base[HwInstr.xsch]!, n[HwInstr.hsch]! - base[HwInstr.hsch]!]).toEqual([1, 1]);
      c.run(1);
      expect(c.irqs).toEqual([{ lockHeld: true, inIrq: true, fctl: SCSW_FCTL_START_FUNC | 2 }]);
      expect(locked(c.sch, () => cio_disable_subchannel(c.sch))).toBe(0);
    });

    it('not enabled: 0 at once; gone: -ENODEV', () => {
      const c = cio_machine();
      expect(locked(c.sch, () => cio_cancel_halt_clear(c.sch, { v: 255 }))).toBe(0);
      hw_post_settle(c, { op: 'gone' });
      expect(locked(c.sch, () => cio_cancel_halt_clear(c.sch, { v: 255 }))).toBe(-ENODEV);
    });
  });

  it('do_cio_interrupt: the callback in IRQ context under sch->lock, the SCSW copied; nothing pending: no callback; context restored', () => {
    const c = cio_machine();
    open(c);
    do_cio_interrupt(c.sch);
    expect(c.irqs).toHaveLength(0);
    start(c);
    c.run(1);
    expect(c.irqs).toEqual([{ lockHeld: true, inIrq: true, fctl: SCSW_FCTL_START_FUNC }]);
    expect(Array.from(c.sch.v.schib.read(28, 12, 'test'))).toEqual(Array.from(c.sch.v.irb.read(0, 12, 'test')));
    expect([current.inIrq, current.irqsOff, current.spinDepth]).toEqual([false, false, 0]);
  });

  it('CHP event numbers are the kernel\'s', () => {
    expect([CHP_VARY_OFF, CHP_VARY_ON, CHP_OFFLINE, CHP_ONLINE]).toEqual([0, 1, 2, 3]);
    expect([HwPathEvent.vary_off, HwPathEvent.online]).toEqual([0, 3]);
  });
});

/** Post a machine command and let the engine (on this thread) execute it. */
function hw_post_settle(c: C, cmd: HwCommand): void {
  const seq = hw_post(c.v.hw, cmd);
  c.engine.settle();
  if (c.v.hw.get('mb_acked') < seq) throw new Error(`command ${cmd.op} not executed`);
}

// ---- real worker threads: the engine and do_cio_interrupt on the IRQ worker ----

describe('cio on real worker threads', () => {
  const PROGS = new URL('./programs/hw-programs.ts', import.meta.url);
  let pool: ActorPool;
  let v: HwTestViews;

  beforeAll(async () => {
    v = hw_area();
    pool = await ActorPool.start(
      [
        { id: 1, kind: ActorKind.irq, name: 'irq' },
        { id: 2, kind: ActorKind.user, name: 'user1' },
        { id: 3, kind: ActorKind.user, name: 'user2' },
      ],
      g,
      [v.buf],
      [PROGS.href],
    );
  });
  afterAll(async () => {
    await pool.close();
  });
  beforeEach(() => {
    reset_global(g);
    hw_area_reset(v);
  });

  type EngineOut = { run: HwRunResult; inIrqAfter: boolean; irqsOffAfter: boolean };

  it('do_cio_interrupt on the IRQ worker: every callback in IRQ context with sch->lock held, while user workers issue ssch and take sch->lock', async () => {
    const eng = pool.run(1, prog(PROGS, 'engine_cio'), { seed: 3, config: { start_latency_us: [10, 300], p_pci: 0.3 }, max_ms: 60_000 });
    let ccs: number[];
    let reads: number;
    try {
      expect(unwrap<number>(await pool.run(2, prog(PROGS, 'cio_open'), null))).toBe(0);
      const [a, b] = await Promise.all([pool.run(2, prog(PROGS, 'cio_starts'), { n: 300 }), pool.run(3, prog(PROGS, 'cio_schib_reader'), null)]);
      ccs = unwrap<number[]>(a);
      reads = unwrap<number>(b);
    } finally {
      unwrap(await pool.run(2, prog(PROGS, 'stop_engine'), null));
    }
    const out = unwrap<EngineOut>(await eng);
    expect(ccs).toEqual(new Array(300).fill(0));
    expect(reads).toBeGreaterThan(0);
    // with PCIs some finals come after an intermediate: one final per start, and more callbacks
    expect(tally(v, 'finals')).toBe(300);
    expect(tally(v, 'irqs')).toBeGreaterThan(300);
    expect([tally(v, 'bad_lock'), tally(v, 'bad_ctx'), tally(v, 'bad_scsw')]).toEqual([0, 0, 0]);
    expect([out.inIrqAfter, out.irqsOffAfter]).toEqual([false, false]);
    expect(out.run.presented).toBe(tally(v, 'irqs') + tally(v, 'spurious'));
    expect(hw_accounting_errors(hw_snapshot(v.hw))).toEqual([]);
    expect(read_warnings(g).records).toEqual([]);
  });

  it('css events from the IRQ worker: chp_event with sch->lock held; sch_event in process context, retried after -EAGAIN', async () => {
    const eng = pool.run(1, prog(PROGS, 'engine_cio'), { seed: 3, config: {}, max_ms: 60_000, eagain_once: true });
    let rcs: number[];
    try {
      expect(unwrap<number>(await pool.run(2, prog(PROGS, 'cio_open'), null))).toBe(0);
      rcs = unwrap<number[]>(await pool.run(2, prog(PROGS, 'post'), { cmds: [{ op: 'path', event: HwPathEvent.offline, chpid: 0x40 }, { op: 'gone' }] }));
      expect(unwrap<number>(await pool.run(3, prog(PROGS, 'wait_tally'), { field: 'sch_events', n: 2 }))).toBe(2);
    } finally {
      unwrap(await pool.run(2, prog(PROGS, 'stop_engine'), null));
    }
    unwrap<EngineOut>(await eng);
    expect(rcs).toEqual([1, 1]);
    expect(tally(v, 'chp_events')).toBe(1);
    expect([tally(v, 'chp_event_bad'), tally(v, 'sch_event_bad')]).toEqual([0, 0]);
    expect(Atomics.load(v.a, chp_last())).toBe(0x40);
    expect(Atomics.load(v.a, chp_last() + 1)).toBe(0x80);
    expect(Atomics.load(v.a, chp_last() + 2)).toBe(CHP_OFFLINE);
    expect(Atomics.load(v.a, sch_event_update())).toBe(-ENODEV);
    expect(v.hw.get('pam')).toBe(0);
  });
});

const chp_last = (): number => area_base('chp_last');
const sch_event_update = (): number => area_base('sch_event_update');
