// drivers/s390/cio/ioasm.h, ioasm.c: the I/O instructions as the host issues them. Each returns
// the condition code; mapping it to an errno is the caller's business. Callers issue them under
// sch->lock (fsm_io_helper in vfio_ccw_fsm.c, for one), but ioasm.c (v6.3, as every version before it) takes a schid and
// asserts nothing: a caller without the lock is seen through the shadow-schib write it makes (I18,
// the race detector), never here. Every instruction is a hook mark on the machine's object
// (arg: instr << 8 | cc).
import { H, current, hook } from '../kernel/index.ts';
import { HwInstr } from '../hw/layout.ts';
import * as hw from '../hw/instr.ts';
import type { Orb } from '../uapi/orb.ts';
import type { Subch } from './subchannel.ts';

function mark(sch: Subch, site: string, instr: HwInstr, cc: number): number {
  if (hook !== null) hook(H.mark, sch.hw.id, site, current.id, (instr << 8) | cc);
  return cc;
}

export function ssch(sch: Subch, orb: Orb, site = 'ssch'): number {
  return mark(sch, site, HwInstr.ssch, hw.ssch(sch.hw, orb));
}

export function hsch(sch: Subch, site = 'hsch'): number {
  return mark(sch, site, HwInstr.hsch, hw.hsch(sch.hw));
}

export function csch(sch: Subch, site = 'csch'): number {
  return mark(sch, site, HwInstr.csch, hw.csch(sch.hw));
}

export function xsch(sch: Subch, site = 'xsch'): number {
  return mark(sch, site, HwInstr.xsch, hw.xsch(sch.hw));
}

/** The part of a SCHIB the host modifies (struct subchannel's config). */
export interface SchConfig {
  ena: boolean;
  isc: number;
  intparm: number;
}

export function msch(sch: Subch, cfg: SchConfig, site = 'msch'): number {
  return mark(sch, site, HwInstr.msch, cfg.ena ? hw.msch_enable(sch.hw, cfg.isc, cfg.intparm) : hw.msch_disable(sch.hw));
}

export function stsch(sch: Subch, out52: Uint8Array, site = 'stsch'): number {
  return mark(sch, site, HwInstr.stsch, hw.stsch(sch.hw, out52));
}

export function tsch(sch: Subch, irb96: Uint8Array, site = 'tsch', why: hw.TschWhy = 'irq'): number {
  return mark(sch, site, HwInstr.tsch, hw.tsch(sch.hw, irb96, why));
}
