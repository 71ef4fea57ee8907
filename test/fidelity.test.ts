// Fidelity to the kernel's C (issue 10, item 1): checks the port made that the kernel does not
// are gone on every variant, and behaviour the kernel has (may-sleep pinning, cp_update_scsw's
// store, the quiesce loop's one on-stack completion, the debug log's lock) fires where the C
// allows it and stays quiet where it does not. Variants come from the registry.
import { afterEach, describe, expect, it } from 'vitest';
import { H, complete, current, set_might_sleep_mode, spin_owner } from '../src/kernel/index.ts';
import { cio_disable_subchannel, cio_enable_subchannel } from '../src/cio/index.ts';
import { vfio_ccw_sch_event, vfio_ccw_sch_io_todo } from '../src/driver/drv.ts';
import { completion_at, vfio_ccw_fsm_event } from '../src/driver/fsm.ts';
import { vfio_ccw_mdev_remove, vfio_ccw_mdev_reset } from '../src/driver/ops.ts';
import { LOG_RECORDS } from '../src/driver/private.ts';
import { HwInstr } from '../src/hw/layout.ts';
import { IO_REGION_SIZE } from '../src/uapi/vfio_ccw.ts';
import { irb_make } from '../src/uapi/irb.ts';
import { SCSW_FCTL_START_FUNC, SCSW_STCTL_PRIM_STATUS, SCSW_STCTL_SEC_STATUS, SCSW_STCTL_STATUS_PEND, scsw_word0 } from '../src/uapi/scsw.ts';
import { VARIANTS } from '../src/variants/registry.ts';
import { OFF_IO, end_rig, g_rig, io_region, hooked, writes_without_sch_lock, type GRig } from './helpers/g_rig.ts';

const T = 'test';
const NAMES = VARIANTS.map((v) => v.name);

afterEach(() => {
  set_might_sleep_mode('bug');
  end_rig();
});


/** A start through the I/O region: accepted, pages pinned, the machine has the function. */
function start(r: GRig): void {
  expect(r.write(OFF_IO, io_region())).toBe(IO_REGION_SIZE);
  expect(r.ret_code()).toBe(0);
}

const sleeps = (w: string[]): string[] => w.filter((x) => x.startsWith('sleep_in_atomic:'));

describe('removed alarms stay absent on every variant', () => {
  it.each(NAMES)('%s: cio enable/disable and css_sched_sch_todo without sch->lock warn nothing; the unlocked writes remain', (name) => {
    const r = g_rig({ variant: name, open: false });
    const schib = writes_without_sch_lock(r, r.p.sch.v.schib.id, () => {
      expect(cio_enable_subchannel(r.p.sch, 0x10)).toBe(0);
      expect(cio_disable_subchannel(r.p.sch)).toBe(0);
    });
    expect(schib).toContain('cio_enable_subchannel');
    const todo = writes_without_sch_lock(r, r.p.sch.v.todo.id, () => vfio_ccw_fsm_event(r.p, r.p.drv.R.EV_NOT_OPER));
    expect(todo).toEqual(['css_sched_sch_todo']);
    expect(r.take_warnings().filter((w) => w.startsWith('lock_not_held:'))).toEqual([]);
  });

  it('mdev remove reads private->state only where the C compares it (v4.12 … v5.19), on no other variant', () => {
    const reading = NAMES.filter((name) => {
      const r = g_rig({ variant: name, open: false });
      let reads = 0;
      hooked(
        (k, o, site) => {
          if (k === H.read && o === r.p.v.state.id && site === 'vfio_ccw_mdev_remove') reads++;
        },
        () => vfio_ccw_mdev_remove(r.p),
      );
      r.take_warnings();
      return reads > 0;
    });
    expect(reading).toEqual(['v4.12', 'v4.18', 'v5.0', 'v5.2', 'v5.3', 'v5.13']);
  });

  it.each(NAMES)('%s: the debug log record is written under the debug_info lock, never as an unlocked counter', (name) => {
    const r = g_rig({ variant: name, open: false });
    const log = r.p.v.log;
    const unlocked: string[] = [];
    let writes = 0;
    hooked(
      (k, o, site) => {
        const rec = o >= log.id && o < log.id + LOG_RECORDS * 2;
        if (k !== H.write || (!rec && o !== r.p.v.log_count.id)) return;
        writes++;
        if (spin_owner(r.p.v.dbf_lock) !== current.id) unlocked.push(site);
      },
      () => vfio_ccw_fsm_event(r.p, r.p.drv.R.EV_NOT_OPER),
    );
    expect(writes).toBe(3); // kind, value, count
    expect(unlocked).toEqual([]);
    r.take_warnings();
  });
});

describe('vfio_pin_pages / vfio_unpin_pages / vfio_dma_rw may sleep', () => {
  // v6.0's fsm_notoper (F's fsm_broken) calls cp_free, and vfio_ccw_sch_event fires NOT_OPER
  // with sch->lock held: the unpin takes type1's iommu->lock under a spinlock. Before, fsm_notoper
  // leaves the cp alone; A fires its event after the unlock.
  it('a device gone with pages pinned: the unpin under sch->lock is a sleep in atomic context exactly where fsm_notoper frees the cp', () => {
    set_might_sleep_mode('warn');
    const sleeping = NAMES.filter((name) => {
      const r = g_rig({ variant: name });
      start(r);
      // the start itself pins and reads guest memory outside any spinlock, on every version
      expect(sleeps(r.take_warnings())).toEqual([]);
      r.p.sch.hw.set('present', 0);
      vfio_ccw_sch_event(r.p, r.p.sch);
      const w = sleeps(r.take_warnings());
      for (const x of w) expect(x).toMatch(/^sleep_in_atomic: BUG: sleeping function called from invalid context at cp_\w+ \(guest\.iommu_lock\) with 1 spinlock\(s\) held$/);
      return w.length > 0;
    });
    // every version whose fsm_notoper frees the cp (F, v6.0 and later): the list comes from the registry
    expect(sleeping).toEqual(VARIANTS.filter((v) => v.features.notoper_frees_cp).map((v) => v.name));
    expect(sleeping).toContain('gunthorpe-2021');
    expect(sleeping).toContain('mainline');
  });
});

describe('cp_update_scsw stores cpa whenever it walks the cp', () => {
  const FINAL = scsw_word0({ fctl: SCSW_FCTL_START_FUNC, stctl: SCSW_STCTL_PRIM_STATUS | SCSW_STCTL_SEC_STATUS | SCSW_STCTL_STATUS_PEND });
  /** io_todo on a solicited final IRB whose cpa points at no chain; the stores to the IRB slot cp_update_scsw makes. */
  function stores(r: GRig): number {
    r.p.v.irb.write(0, irb_make({ w0: FINAL, cpa: 0x10, dstat: 0x0c, cstat: 0, count: 0 }), T);
    let n = 0;
    hooked(
      (k, o, site) => {
        if (k === H.write && o === r.p.v.irb.id && site === 'cp_update_scsw') n++;
      },
      () => vfio_ccw_sch_io_todo(r.p),
    );
    return n;
  }

  it.each(NAMES)('%s: an unchanged cpa is stored back once the cp is initialised; nothing before', (name) => {
    const live = g_rig({ variant: name });
    start(live);
    expect(stores(live)).toBe(1);
    live.take_warnings();
    const idle = g_rig({ variant: name });
    expect(stores(idle)).toBe(0);
    idle.take_warnings(); // v4.12 … v5.1: I20, the list walked before any cp_init
  });
});

describe('the quiesce loop declares its completion once: a surplus complete() carries over', () => {
  // v5.2 … v6.3 vfio_ccw_sch_quiesce and F's flush_sch: DECLARE_COMPLETION_ONSTACK before the loop.
  const LOOP_ONCE = VARIANTS.filter((v) => v.features.quiesce === 'retry-once' || v.features.quiesce === 'flush_sch-in-close' || v.features.quiesce === 'in-close-lock-held').map((v) => v.name);

  it.each(LOOP_ONCE)('%s: two completions in the first pass; the second pass finds one left and does not wait', (name) => {
    const r = g_rig({ variant: name });
    start(r);
    r.p.sch.hw.set_at('force_cc', HwInstr.xsch, 2); // the start has begun: cancel is not applicable
    r.p.sch.hw.set_at('force_n', HwInstr.xsch, 1000);
    let waits = 0;
    let left_at_second = -1;
    const rc = hooked(
      (k, obj) => {
        const c = Atomics.load(r.p.v.completion.a, r.p.v.completion.i);
        if (k !== H.wait || c === 0 || obj !== c) return;
        const comp = completion_at(r.p, c);
        waits++;
        if (waits === 1) {
          // the halt's interrupt and a second one (an unsolicited status) both complete; the
          // machine stays busy, so the disable fails and the loop passes again
          complete(comp, T);
          complete(comp, T);
          return;
        }
        left_at_second = Atomics.load(comp.a, comp.i);
        r.p.sch.hw.set('fctl', 0);
        r.p.sch.hw.set('actl', 0);
        r.p.sch.hw.set_at('force_n', HwInstr.xsch, 0);
        if (left_at_second === 0) complete(comp, T); // the old model: keep the test from blocking
      },
      () => vfio_ccw_mdev_reset(r.p),
    );
    expect(waits).toBeGreaterThanOrEqual(2);
    expect(left_at_second).toBe(1);
    expect(rc).toBe(0);
    r.take_warnings();
  });
});
