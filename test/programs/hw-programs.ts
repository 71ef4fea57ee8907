// Programs the machine and cio tests run on actor workers. Every wait is bounded.
import {
  current, spin_lock_irqsave, spin_owner, spin_unlock_irqrestore,
} from '../../src/kernel/index.ts';
import {
  HwRc, hw_cmd, hw_run, hw_stop, hw_wait_running, hw_wait_until, csch as hw_csch, hsch as hw_hsch, msch_disable, msch_enable, mulberry32,
  ssch as hw_ssch, stsch as hw_stsch, tsch as hw_tsch, xsch as hw_xsch, type HwCommand, type HwConfig, type HwRunResult,
} from '../../src/hw/index.ts';
import {
  cio_enable_subchannel, cio_update_schib, css_hw_run, css_register_driver, ssch, type ChpLink, type Subch,
} from '../../src/cio/index.ts';
import { ORB_FMT, ORB_PFCH, orb_with_lpm, type Orb } from '../../src/uapi/orb.ts';
import { SCSW_FCTL_START_FUNC, scsw_fctl, scsw_is_final } from '../../src/uapi/scsw.ts';
import { buf, type ProgramCtx } from '../../src/runtime/context.ts';
import { HW_AREA_INDEX, KINDS, area_base, hw_views, type HwTestViews } from './hw-area.ts';

const BOUND_MS = 20_000;

const views = (ctx: ProgramCtx): HwTestViews => hw_views(buf(ctx, HW_AREA_INDEX));
const inc = (v: HwTestViews, f: Parameters<typeof area_base>[0]): void => {
  Atomics.add(v.a, area_base(f), 1);
  Atomics.notify(v.a, area_base(f));
};

export const test_orb = (cpa: number, lpm = 0x80): Orb => ({ intparm: 0x10, flags: orb_with_lpm(ORB_FMT | ORB_PFCH, lpm), cpa });

/** Wait (bounded) until a[i] >= n. */
function until_at_least(a: Int32Array, i: number, n: number, what: string): void {
  const end = performance.now() + BOUND_MS;
  for (;;) {
    const v = Atomics.load(a, i);
    if (v >= n) return;
    if (performance.now() > end) throw new Error(`timed out waiting for ${what} >= ${n} (at ${v})`);
    Atomics.wait(a, i, v, 50);
  }
}

function record_kind(v: HwTestViews, w0: number): void {
  const n = Atomics.add(v.a, area_base('nkinds'), 1);
  if (n < KINDS) Atomics.store(v.a, area_base('kinds') + n, w0);
}

/** The IRQ worker, machine only: the host's interrupt entry is a bare tsch. */
export function engine_raw(ctx: ProgramCtx, args: { seed: number; config: Partial<HwConfig>; max_ms: number }): HwRunResult {
  const v = views(ctx);
  const irb = new Uint8Array(96);
  const dv = new DataView(irb.buffer);
  return hw_run({
    css: v.css,
    seed: args.seed,
    config: args.config,
    max_ms: args.max_ms,
    devs: [
      {
        hw: v.hw,
        host: {
          interrupt() {
            if (hw_tsch(v.hw, irb) !== 0) {
              inc(v, 'spurious');
              return;
            }
            record_kind(v, dv.getUint32(0) | 0);
            inc(v, 'irqs');
          },
          sch_event: () => 0,
          chp_event: () => 0,
        },
      },
    ],
  });
}

/** The IRQ worker with the host's cio layer and a test css driver that checks its context. */
export function engine_cio(ctx: ProgramCtx, args: { seed: number; config: Partial<HwConfig>; max_ms: number; eagain_once?: boolean }): { run: HwRunResult; inIrqAfter: boolean; irqsOffAfter: boolean } {
  const v = views(ctx);
  let eagain = args.eagain_once === true;
  css_register_driver({
    irq(sch: Subch) {
      if (spin_owner(sch.v.lock) !== current.id) inc(v, 'bad_lock');
      if (!current.inIrq || !current.irqsOff) inc(v, 'bad_ctx');
      const shadow = sch.v.schib.read(28, 12, 'test irq');
      const irb = sch.v.irb.read(0, 12, 'test irq');
      if (shadow.some((b, k) => b !== irb[k])) inc(v, 'bad_scsw');
      const w0 = new DataView(irb.buffer).getUint32(0) | 0;
      record_kind(v, w0);
      if (scsw_is_final(w0) && scsw_fctl(w0) === SCSW_FCTL_START_FUNC) inc(v, 'finals');
      inc(v, 'irqs');
    },
    sch_event(sch: Subch) {
      if (current.inIrq || spin_owner(sch.v.lock) === current.id) inc(v, 'sch_event_bad');
      const flags = spin_lock_irqsave(sch.v.lock, 'test sch_event');
      Atomics.store(v.a, area_base('sch_event_update'), cio_update_schib(sch, 'test sch_event'));
      spin_unlock_irqrestore(sch.v.lock, flags, 'test sch_event');
      inc(v, 'sch_events');
      if (eagain) {
        eagain = false;
        return -11;
      }
      return 0;
    },
    chp_event(sch: Subch, link: ChpLink, event: number) {
      if (spin_owner(sch.v.lock) !== current.id || current.inIrq) inc(v, 'chp_event_bad');
      Atomics.store(v.a, area_base('chp_last'), link.chpid);
      Atomics.store(v.a, area_base('chp_last') + 1, link.mask);
      Atomics.store(v.a, area_base('chp_last') + 2, event);
      inc(v, 'chp_events');
      return 0;
    },
  });
  const run = css_hw_run(v.css, [v.sch], args.seed, args.config, args.max_ms);
  return { run, inIrqAfter: current.inIrq, irqsOffAfter: current.irqsOff };
}

export function stop_engine(ctx: ProgramCtx): void {
  hw_stop(views(ctx).css);
}

/** Machine only: enable, then n starts one after the other, each waiting for its final interrupt. */
export function raw_starts(ctx: ProgramCtx, args: { n: number }): number[] {
  const v = views(ctx);
  if (!hw_wait_running(v.css, BOUND_MS)) throw new Error('engine not running');
  const ccs: number[] = [msch_enable(v.hw, 3, 0x10)];
  for (let k = 0; k < args.n; k++) {
    ccs.push(hw_ssch(v.hw, test_orb(0x1000 + 0x100 * k)));
    until_at_least(v.a, area_base('irqs'), k + 1, 'final interrupt');
  }
  return ccs;
}

/**
 * Machine only: a random mix of instructions from this thread while the engine runs, to
 * check that each instruction is atomic with respect to the engine and the other thread.
 */
export function raw_hammer(ctx: ProgramCtx, args: { iters: number; seed: number; workers: number }): number[] {
  const v = views(ctx);
  if (!hw_wait_running(v.css, BOUND_MS)) throw new Error('engine not running');
  Atomics.add(v.a, area_base('go'), 1);
  Atomics.notify(v.a, area_base('go'));
  until_at_least(v.a, area_base('go'), args.workers, 'the other hammer');
  const rnd = mulberry32(args.seed);
  const irb = new Uint8Array(96);
  const schib = new Uint8Array(52);
  const ccs = [0, 0, 0, 0];
  for (let k = 0; k < args.iters; k++) {
    const r = rnd() % 100;
    let cc: number;
    if (r < 45) cc = hw_ssch(v.hw, test_orb(0x2000 + 8 * (k & 0xff)));
    else if (r < 51) cc = hw_hsch(v.hw);
    else if (r < 55) cc = hw_csch(v.hw);
    else if (r < 67) cc = hw_xsch(v.hw);
    else if (r < 82) cc = hw_tsch(v.hw, irb, (rnd() & 1) === 0 ? 'irq' : 'discard');
    else if (r < 85) cc = msch_disable(v.hw);
    else if (r < 92) cc = msch_enable(v.hw, 3, 0x10);
    else if (r < 97) cc = hw_stsch(v.hw, schib);
    else {
      // let the machine finish something now and then (bounded; a timeout is fine)
      hw_wait_until(v.hw, (h) => h.get('fctl') === 0 && h.get('status_pending') === 0, 5);
      cc = hw_stsch(v.hw, schib);
    }
    ccs[cc] = (ccs[cc] ?? 0) + 1;
  }
  inc(v, 'done');
  return ccs;
}

/** Post machine commands in order, each acknowledged (returns the rcs). */
export function post(ctx: ProgramCtx, args: { cmds: HwCommand[] }): number[] {
  const v = views(ctx);
  if (!hw_wait_running(v.css, BOUND_MS)) throw new Error('engine not running');
  return args.cmds.map((c) => hw_cmd(v.hw, c, BOUND_MS));
}

/** cio: open the subchannel (fsm_open's part): set the ISC and enable under sch->lock. */
export function cio_open(ctx: ProgramCtx): number {
  const v = views(ctx);
  const flags = spin_lock_irqsave(v.sch.v.lock, 'cio_open');
  const rc = cio_enable_subchannel(v.sch, v.sch.v.schid.get('cio_open'));
  spin_unlock_irqrestore(v.sch.v.lock, flags, 'cio_open');
  return rc;
}

/** cio: n starts issued under sch->lock, each waiting (bounded) for the driver's irq of its final. */
export function cio_starts(ctx: ProgramCtx, args: { n: number }): number[] {
  const v = views(ctx);
  if (!hw_wait_running(v.css, BOUND_MS)) throw new Error('engine not running');
  const ccs: number[] = [];
  for (let k = 0; k < args.n; k++) {
    const flags = spin_lock_irqsave(v.sch.v.lock, 'cio_starts');
    ccs.push(ssch(v.sch, test_orb(0x3000 + 0x40 * k), 'cio_starts'));
    spin_unlock_irqrestore(v.sch.v.lock, flags, 'cio_starts');
    until_at_least(v.a, area_base('finals'), k + 1, 'the final interrupt, in the driver');
  }
  inc(v, 'done');
  return ccs;
}

/** cio: refresh the schib under sch->lock in a loop until the starter is done (lock contention with the IRQ path). */
export function cio_schib_reader(ctx: ProgramCtx): number {
  const v = views(ctx);
  if (!hw_wait_running(v.css, BOUND_MS)) throw new Error('engine not running');
  const end = performance.now() + BOUND_MS;
  let n = 0;
  while (Atomics.load(v.a, area_base('done')) === 0) {
    if (performance.now() > end) throw new Error('starter never finished');
    const flags = spin_lock_irqsave(v.sch.v.lock, 'cio_schib_reader');
    if (cio_update_schib(v.sch, 'cio_schib_reader') !== 0) throw new Error('schib refresh failed');
    spin_unlock_irqrestore(v.sch.v.lock, flags, 'cio_schib_reader');
    n++;
  }
  return n;
}

/** Wait (bounded) until the machine is idle with nothing pending and no command queued. */
export function wait_quiet(ctx: ProgramCtx): boolean {
  const v = views(ctx);
  return hw_wait_until(v.hw, (h) => h.get('fctl') === 0 && h.get('status_pending') === 0 && h.get('mb_acked') === h.get('mb_posted'), BOUND_MS);
}

export { HwRc };

/** Wait (bounded) until a tally of the test area reaches n; returns its value. */
export function wait_tally(ctx: ProgramCtx, args: { field: Parameters<typeof area_base>[0]; n: number }): number {
  const v = views(ctx);
  until_at_least(v.a, area_base(args.field), args.n, args.field);
  return Atomics.load(v.a, area_base(args.field));
}
