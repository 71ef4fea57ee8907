// The shared area of the machine and cio tests (buffer index 1): the css words, one subchannel's
// machine state and kernel struct, and the test driver's tallies.
import { allocBuf, atomic, create_singlethread_workqueue, defineStruct, words, type SharedBuf, type WorkStruct } from '../../src/kernel/index.ts';
import { HwCss, HwSubchannel, bind_hw_css, hw_css_reset, hw_name_region, hw_reset, type Hw, type HwCssView, type HwInit } from '../../src/hw/index.ts';
import { Subchannel, SubchannelDev, bind_subchannel, css_init_subchannel, type Subch } from '../../src/cio/index.ts';

export const HW_AREA_INDEX = 1;
export const KINDS = 256;

export const HwTestArea = defineStruct('hwtest', {
  css: words(HwCss.words),
  hw: words(HwSubchannel.words),
  sch: words(Subchannel.words),
  irqs: atomic('interrupts the test host/driver handled with tsch cc 0'),
  spurious: atomic('interrupts whose tsch found nothing pending'),
  finals: atomic('final interrupts of start functions the test driver saw'),
  bad_lock: atomic('irq callbacks that ran without sch->lock held by the running actor'),
  bad_ctx: atomic('irq callbacks not in IRQ context with interrupts off'),
  bad_scsw: atomic('irq callbacks whose sch->schib.scsw differs from the per-CPU IRB'),
  sch_events: atomic(),
  sch_event_bad: atomic('sch_event calls in IRQ context or with sch->lock already held'),
  sch_event_update: atomic('cio_update_schib result seen by the last sch_event'),
  chp_events: atomic(),
  chp_event_bad: atomic('chp_event calls without sch->lock or in IRQ context'),
  chp_last: words(3, 'chpid, mask, event of the last chp_event'),
  go: atomic('start flag for the hammering workers'),
  done: atomic('hammering workers finished'),
  nkinds: atomic(),
  kinds: words(KINDS, 'SCSW word 0 of each IRB taken, in order'),
  sch_dev: words(SubchannelDev.words, "the subchannel's todo part (no cio_work_q in these tests)"),
});

export const area_base = (f: keyof typeof HwTestArea.fields): number => HwTestArea.fields[f].off;

export interface HwTestViews {
  buf: SharedBuf;
  a: Int32Array;
  css: HwCssView;
  hw: Hw;
  sch: Subch;
}

/** With the global buffer `g`, the subchannel has cio_work_q (nothing runs it: css_sched_sch_todo only queues). */
export function hw_views(buf: SharedBuf, g?: SharedBuf): HwTestViews {
  const css = bind_hw_css(buf, area_base('css'));
  const works = new Map<number, WorkStruct>();
  const wq = g === undefined ? null : create_singlethread_workqueue(g, 'cio', (id) => works.get(id));
  const sch = bind_subchannel(buf, area_base('sch'), area_base('hw'), 0, css, area_base('sch_dev'), wq);
  works.set(sch.d.todo_work.id, sch.d.todo_work);
  return { buf, a: buf.i32, css, hw: sch.hw, sch };
}

/** Main: a fresh area with a present, disabled subchannel. */
export function hw_area(g?: SharedBuf): HwTestViews {
  const buf = allocBuf(HW_AREA_INDEX, HwTestArea.words);
  hw_name_region(HW_AREA_INDEX, area_base('css'), area_base('hw'), 'hw0.');
  return hw_views(buf, g);
}

/** Main, with every actor parked: reset the machine and the kernel struct and the tallies. */
export function hw_area_reset(v: HwTestViews, init: Partial<HwInit> = {}): void {
  v.a.fill(0);
  hw_css_reset(v.css);
  hw_reset(v.hw, init);
  css_init_subchannel(v.sch, 0x10);
  // css_probe: the test driver is bound (sch->driver)
  Atomics.store(v.sch.d.driver.a, v.sch.d.driver.i, 1);
}

export const tally = (v: HwTestViews, f: keyof typeof HwTestArea.fields): number => Atomics.load(v.a, area_base(f));
