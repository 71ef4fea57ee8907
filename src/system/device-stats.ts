// The machine's and the driver's accounting of a run, per device and summed over the devices.
// One device's run reports exactly the keys and findings it always did; with many devices the
// keys are sums and each device's accounting finding names its device.
import { HwIrqName, hw_accounting_errors, hw_snapshot } from '../hw/layout.ts';
import type { Finding } from '../report/report.ts';
import type { VfioCcwPrivate } from '../driver/private.ts';
import type { System } from './device.ts';
import { peek } from '../kernel/index.ts';

/** One device's counters after a run (stress prints them; bench divides by them). */
export interface DeviceStat {
  dev: number;
  /** the subchannel id, 0.0.xxxx */
  schid: string;
  starts: number;
  presented: number;
  irqs: number;
  io_signals: number;
  pinned_pages: number;
}


/** How reports name device `dev` of `devices` (nothing when the run has one, so its findings keep their signatures). */
export const device_prefix = (dev: number, devices: number): string => (devices === 1 ? '' : `dev${dev}: `);

/** The subchannel id init_system gave device `dev` (css_init_subchannel(sch, 0x100 + dev)). */
export const schid_name = (dev: number): string => `0.0.${(0x100 + dev).toString(16).padStart(4, '0')}`;

function one(p: VfioCcwPrivate, stats: Record<string, number>, findings: Finding[], pre: string): DeviceStat {
  const add = (k: string, v: number): void => {
    stats[k] = (stats[k] ?? 0) + v;
  };
  const snap = hw_snapshot(p.sch.hw);
  HwIrqName.forEach((n, k) => add(`hw.${n}`, snap.made[k] ?? 0));
  add('hw.presented', snap.presented);
  add('hw.starts', snap.start_seq);
  const irqs = peek(p.v.irqs);
  const io_signals = peek(p.v.io_signals);
  const pinned_pages = peek(p.cp.v.pinned_pages);
  const pinned = peek(p.cp.gm.pages_pinned_total);
  const unpinned = peek(p.cp.gm.pages_unpinned_total);
  add('driver.irqs', irqs);
  add('driver.irbs_to_region', peek(p.v.irbs_to_region));
  add('driver.io_signals', io_signals);
  add('cp.pinned_pages', pinned_pages);
  add('guest.pages_pinned', pinned);
  add('guest.pages_unpinned', unpinned);
  for (const e of hw_accounting_errors(snap)) findings.push({ kind: 'accounting', id: 'hw', message: `${pre}${e}` });
  if (unpinned > pinned) findings.push({ kind: 'accounting', id: 'I21', message: `${pre}pages unpinned ${unpinned} > pinned ${pinned}` });
  if (irqs > snap.presented) findings.push({ kind: 'accounting', id: 'irqs', message: `${pre}driver handled ${irqs} interrupts, the machine presented ${snap.presented}` });
  return { dev: p.dev, schid: schid_name(p.dev), starts: snap.start_seq, presented: snap.presented, irqs, io_signals, pinned_pages };
}

/** Add every device's accounting to `stats` (sums) and its accounting errors to `findings`; returns the per-device rows. */
export function collect_device_stats(sys: System, stats: Record<string, number>, findings: Finding[]): DeviceStat[] {
  return sys.devs.map((p) => one(p, stats, findings, device_prefix(p.dev, sys.devs.length)));
}

/** Counters of a run in progress, summed over the devices (periodic stat lines). */
export function live_device_stats(sys: System): { starts: number; raised: number; handled: number; delivered: number; eagain: number } {
  let starts = 0;
  let raised = 0;
  let handled = 0;
  let delivered = 0;
  for (const p of sys.devs) {
    const s = hw_snapshot(p.sch.hw);
    starts += s.start_seq;
    raised += s.made.reduce((a, b) => a + b, 0);
    handled += peek(p.v.irqs);
    delivered += peek(p.v.io_signals);
  }
  return { starts, raised, handled, delivered, eagain: 0 };
}
