// drivers/s390/cio/ioasm.h, ioasm.c: the I/O instructions as the host issues them. Each returns
// the condition code; mapping it to an errno is the caller's business. Issuing ssch/hsch/csch/
// xsch/msch/tsch needs sch->lock (spec/driver.md §1.2); stsch is also issued without it (the
// schib region read). Every instruction is a hook mark on the machine's object (arg: instr << 8 | cc).
import { H, current, hook, lockdep_assert_held } from '../kernel/index.ts';
import { HwInstr } from '../hw/layout.ts';
import * as hw from '../hw/instr.ts';
import type { Orb } from '../uapi/orb.ts';
import type { Subch } from './subchannel.ts';

function mark(sch: Subch, site: string, instr: HwInstr, cc: number): number {
  if (hook !== null) hook(H.mark, sch.hw.id, site, current.id, (instr << 8) | cc);
  return cc;
}

export function ssch(sch: Subch, orb: Orb, site = 'ssch'): number {
  lockdep_assert_held(sch.v.lock, site);
  return mark(sch, site, HwInstr.ssch, hw.ssch(sch.hw, orb));
}

export function hsch(sch: Subch, site = 'hsch'): number {
  lockdep_assert_held(sch.v.lock, site);
  return mark(sch, site, HwInstr.hsch, hw.hsch(sch.hw));
}

export function csch(sch: Subch, site = 'csch'): number {
  lockdep_assert_held(sch.v.lock, site);
  return mark(sch, site, HwInstr.csch, hw.csch(sch.hw));
}

export function xsch(sch: Subch, site = 'xsch'): number {
  lockdep_assert_held(sch.v.lock, site);
  return mark(sch, site, HwInstr.xsch, hw.xsch(sch.hw));
}

/** The part of a SCHIB the host modifies (struct subchannel's config). */
export interface SchConfig {
  ena: boolean;
  isc: number;
  intparm: number;
}

export function msch(sch: Subch, cfg: SchConfig, site = 'msch'): number {
  lockdep_assert_held(sch.v.lock, site);
  return mark(sch, site, HwInstr.msch, cfg.ena ? hw.msch_enable(sch.hw, cfg.isc, cfg.intparm) : hw.msch_disable(sch.hw));
}

export function stsch(sch: Subch, out52: Uint8Array, site = 'stsch'): number {
  return mark(sch, site, HwInstr.stsch, hw.stsch(sch.hw, out52));
}

export function tsch(sch: Subch, irb96: Uint8Array, site = 'tsch', why: hw.TschWhy = 'irq'): number {
  lockdep_assert_held(sch.v.lock, site);
  return mark(sch, site, HwInstr.tsch, hw.tsch(sch.hw, irb96, why));
}
