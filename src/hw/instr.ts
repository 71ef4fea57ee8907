// The I/O instructions as the machine executes them (condition codes and
// effects as the z/Architecture Principles of Operation gives them for each instruction). Any thread may issue them; each runs
// under the subchannel's internal lock, so it is atomic with respect to the engine.
import { orb_lpm, type Orb } from '../uapi/orb.ts';
import {
  SCSW_ACTL_CLEAR_PEND, SCSW_ACTL_HALT_PEND, SCSW_ACTL_START_PEND, SCSW_FCTL_CLEAR_FUNC, SCSW_FCTL_HALT_FUNC, SCSW_FCTL_START_FUNC,
  SCSW_STCTL_INTER_STATUS, SCSW_STCTL_STATUS_PEND,
} from '../uapi/scsw.ts';
import { HwInstr, HwStartEnd, hw_lock, hw_ring, hw_unlock, type Hw } from './layout.ts';
import {
  PMCW_CHPID, PMCW_DEVNO, PMCW_DNV, PMCW_ENA, PMCW_FLAGS, PMCW_INTPARM, PMCW_ISC_SHIFT, PMCW_LPM, PMCW_LPUM, PMCW_PAM, PMCW_PIM,
  PMCW_PNOM, PMCW_POM, SCHIB_SCSW, SCHIB_SIZE, SCSW_FROM_ORB,
} from './schib.ts';
import { become_idle, close_start, current_irb, drop_pending, tsch_clear } from './status.ts';

/** Run `body` as one instruction: counted, under the lock, cc 3 when the device has gone. */
function instr(hw: Hw, which: HwInstr, needEnabled: boolean, body: () => number): number {
  hw_lock(hw);
  let cc: number;
  try {
    hw.add_at('n_instr', which, 1);
    if (hw.get('present') === 0 || (needEnabled && hw.get('enabled') === 0)) cc = 3;
    else if (hw.at('force_n', which) > 0) {
      // fault injection: answer with the given cc, perform nothing
      hw.add_at('force_n', which, -1);
      cc = hw.at('force_cc', which);
    } else cc = body();
  } finally {
    hw_unlock(hw);
  }
  if (cc === 0) hw_ring(hw);
  return cc;
}

/** START SUBCHANNEL. cc 0 started (FC start, AC start pending), 1 status pending, 2 busy, 3 not operational or no usable path. */
export function ssch(hw: Hw, orb: Orb): number {
  return instr(hw, HwInstr.ssch, true, () => {
    if (hw.get('status_pending') !== 0) return 1;
    if (hw.get('fctl') !== 0) return 2;
    if ((orb_lpm(orb.flags) & hw.get('pam') & hw.get('pim')) === 0) return 3;
    hw.set('fctl', SCSW_FCTL_START_FUNC);
    hw.set('actl', SCSW_ACTL_START_PEND);
    hw.set('stctl', 0);
    hw.set('cc', 0);
    hw.set('flags', orb.flags & SCSW_FROM_ORB);
    hw.set('intparm', orb.intparm | 0);
    hw.set('start_cpa', orb.cpa | 0);
    hw.set('start_flags', orb.flags | 0);
    hw.set('start_open', 1);
    hw.add('start_seq', 1);
    return 0;
  });
}

/** HALT SUBCHANNEL. cc 0 halt initiated, 1 status pending (not intermediate alone), 2 halt or clear in progress, 3. */
export function hsch(hw: Hw): number {
  return instr(hw, HwInstr.hsch, true, () => {
    if (hw.get('status_pending') !== 0 && hw.get('stctl') !== (SCSW_STCTL_INTER_STATUS | SCSW_STCTL_STATUS_PEND)) return 1;
    const fc = hw.get('fctl');
    if ((fc & (SCSW_FCTL_HALT_FUNC | SCSW_FCTL_CLEAR_FUNC)) !== 0) return 2;
    // the halt ends the start: the start gets no interrupt of its own
    close_start(hw, HwStartEnd.halt);
    hw.set('fctl', fc | SCSW_FCTL_HALT_FUNC);
    hw.set('actl', hw.get('actl') | SCSW_ACTL_HALT_PEND);
    hw.add('halt_seq', 1);
    return 0;
  });
}

/** CLEAR SUBCHANNEL. cc 0 always when operational: pending status and any start/halt are discarded. */
export function csch(hw: Hw): number {
  return instr(hw, HwInstr.csch, true, () => {
    if (drop_pending(hw)) hw.add('discarded_csch', 1);
    close_start(hw, HwStartEnd.clear);
    hw.set('fctl', SCSW_FCTL_CLEAR_FUNC);
    hw.set('actl', SCSW_ACTL_CLEAR_PEND);
    hw.set('stctl', 0);
    hw.set('cc', 0);
    hw.set('flags', 0);
    hw.set('pom', 0xff);
    hw.set('lpum', 0);
    hw.set('pnom', 0);
    hw.add('clear_seq', 1);
    return 0;
  });
}

/** CANCEL SUBCHANNEL. cc 0 a start not yet begun is withdrawn (no interrupt ever), 1 status pending, 2 not applicable, 3. */
export function xsch(hw: Hw): number {
  return instr(hw, HwInstr.xsch, true, () => {
    if (hw.get('status_pending') !== 0) return 1;
    if (hw.get('fctl') !== SCSW_FCTL_START_FUNC || hw.get('actl') !== SCSW_ACTL_START_PEND) return 2;
    close_start(hw, HwStartEnd.xsch);
    become_idle(hw);
    return 0;
  });
}

function msch(hw: Hw, ena: boolean, isc: number, intparm: number): number {
  return instr(hw, HwInstr.msch, false, () => {
    if (hw.get('status_pending') !== 0) return 1;
    if (hw.get('fctl') !== 0) return 2;
    const was = hw.get('enabled');
    hw.set('enabled', ena ? 1 : 0);
    if (ena) {
      hw.set('isc', isc & 7);
      hw.set('intparm', intparm | 0);
      // a new idle period: the engine may plan an unsolicited interrupt for it
      if (was === 0) hw.add('idle_seq', 1);
    }
    return 0;
  });
}

/** MODIFY SUBCHANNEL setting ENA, ISC and the interruption parameter. cc 0, 1 status pending, 2 busy, 3. */
export const msch_enable = (hw: Hw, isc: number, intparm: number): number => msch(hw, true, isc, intparm);
/** MODIFY SUBCHANNEL clearing ENA. cc 0, 1 status pending, 2 busy, 3. */
export const msch_disable = (hw: Hw): number => msch(hw, false, 0, 0);

/** STORE SUBCHANNEL into a 52-byte SCHIB. cc 0 stored, 3 not operational. */
export function stsch(hw: Hw, out52: Uint8Array): number {
  hw_lock(hw);
  try {
    hw.add_at('n_instr', HwInstr.stsch, 1);
    if (hw.get('present') === 0) return 3;
    out52.fill(0, 0, SCHIB_SIZE);
    const dv = new DataView(out52.buffer, out52.byteOffset, SCHIB_SIZE);
    dv.setUint32(PMCW_INTPARM, hw.get('intparm') >>> 0);
    dv.setUint16(PMCW_FLAGS, ((hw.get('isc') & 7) << PMCW_ISC_SHIFT) | (hw.get('enabled') !== 0 ? PMCW_ENA : 0) | PMCW_DNV);
    dv.setUint16(PMCW_DEVNO, hw.get('devno') & 0xffff);
    out52[PMCW_LPM] = hw.get('lpm');
    out52[PMCW_PNOM] = hw.get('pnom');
    out52[PMCW_LPUM] = hw.get('lpum');
    out52[PMCW_PIM] = hw.get('pim');
    out52[PMCW_POM] = hw.get('pom');
    out52[PMCW_PAM] = hw.get('pam');
    for (let k = 0; k < 8; k++) out52[PMCW_CHPID + k] = hw.chpid(k);
    current_irb(hw, out52.subarray(SCHIB_SCSW, SCHIB_SCSW + 12));
    return 0;
  } finally {
    hw_unlock(hw);
  }
}

/** Whose tsch this is: the host's interrupt path, or cio_commit_config throwing a status away. */
export type TschWhy = 'irq' | 'discard';

/** TEST SUBCHANNEL into a 96-byte IRB. cc 0 was status pending (stored and cleared), 1 not pending (stored), 3. */
export function tsch(hw: Hw, irb96: Uint8Array, why: TschWhy = 'irq'): number {
  let cc: number;
  hw_lock(hw);
  try {
    hw.add_at('n_instr', HwInstr.tsch, 1);
    if (hw.get('present') === 0) cc = 3;
    else {
      current_irb(hw, irb96);
      if (hw.get('status_pending') === 0) cc = 1;
      else {
        const kind = tsch_clear(hw);
        if (why === 'irq') hw.add_at('taken', kind, 1);
        else hw.add('discarded_msch', 1);
        cc = 0;
      }
    }
  } finally {
    hw_unlock(hw);
  }
  // the subchannel may now accept the next status: the engine must look again
  if (cc === 0) hw_ring(hw);
  return cc;
}
