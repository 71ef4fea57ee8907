// Architecture pieces the instructions and the engine share: composing the SCSW, making a status
// pending, what TSCH stores and clears (z/Architecture Principles of Operation: the SCSW, and what TEST SUBCHANNEL stores and clears). Callers hold hw_lock.
import {
  SCSW_ACTL_CLEAR_PEND, SCSW_ACTL_DEVACT, SCSW_ACTL_HALT_PEND, SCSW_ACTL_RESUME_PEND, SCSW_ACTL_START_PEND, SCSW_ACTL_SUSPENDED,
  SCSW_PNO, SCSW_STCTL_INTER_STATUS, SCSW_STCTL_PRIM_STATUS, SCSW_STCTL_SEC_STATUS, SCSW_STCTL_STATUS_PEND, SCSW_ZCC, scsw_word0,
} from '../uapi/scsw.ts';
import { HwIrq, PEND_NONE, PEND_PHANTOM, type Hw, type HwStartEnd } from './layout.ts';
import { ECW_SIZE, ERW_CONS, ERW_SCNT_SHIFT, IRB_ECW, IRB_ERW, IRB_SIZE, SCSW_ESWF } from './schib.ts';

/** SCSW word 0 of the subchannel as it stands now. */
export function compose_w0(hw: Hw): number {
  return scsw_word0({ cc: hw.get('cc'), fctl: hw.get('fctl'), actl: hw.get('actl'), stctl: hw.get('stctl'), extra: hw.get('flags') });
}

export interface Status {
  stctl: number;
  cc?: number;
  /** extra SCSW word-0 bits (Z, PNO) */
  extra?: number;
  cpa: number;
  dstat: number;
  cstat: number;
  count: number;
  /** concurrent sense for the ECW */
  sense?: readonly number[] | null;
}

/** Make `st` pending (fctl/actl already set by the caller). The caller checked !status_pending. */
export function make_pending(hw: Hw, kind: HwIrq | typeof PEND_PHANTOM, st: Status, w0override?: number): void {
  hw.set('stctl', st.stctl | SCSW_STCTL_STATUS_PEND);
  hw.set('cc', st.cc ?? 0);
  let flags = hw.get('flags') & ~(SCSW_ZCC | SCSW_PNO | SCSW_ESWF);
  flags |= st.extra ?? 0;
  const sense = st.sense ?? null;
  if (sense !== null) flags |= SCSW_ESWF;
  hw.set('flags', flags);
  const irb = hw.irb();
  irb.fill(0);
  const o = hw.byte('irb');
  hw.dv.setUint32(o, (w0override ?? compose_w0(hw)) >>> 0);
  hw.dv.setUint32(o + 4, st.cpa >>> 0);
  hw.dv.setUint32(o + 8, (((st.dstat & 0xff) << 24) | ((st.cstat & 0xff) << 16) | (st.count & 0xffff)) >>> 0);
  if (sense !== null) {
    const n = Math.min(sense.length, ECW_SIZE);
    hw.dv.setUint32(o + IRB_ERW, (ERW_CONS | ((n & 0x3f) << ERW_SCNT_SHIFT)) >>> 0);
    for (let k = 0; k < n; k++) irb[IRB_ECW + k] = (sense[k] ?? 0) & 0xff;
  }
  hw.set('pend_kind', kind);
  hw.set('status_pending', 1);
  hw.set('irq_pending', 1);
  hw.add_at('made', kind === PEND_PHANTOM ? HwIrq.unsolicited : kind, 1);
}

/** The start in progress got its ending: count it once. */
export function close_start(hw: Hw, how: HwStartEnd): void {
  if (hw.get('start_open') === 0) return;
  hw.set('start_open', 0);
  hw.add_at('start_end', how, 1);
}

/** Throw the pending status away (csch, a gone device). */
export function drop_pending(hw: Hw): boolean {
  if (hw.get('status_pending') === 0) return false;
  hw.set('status_pending', 0);
  hw.set('irq_pending', 0);
  hw.set('pend_kind', PEND_NONE);
  hw.set('stctl', 0);
  return true;
}

/** No function in progress: function and activity control, and the start's own fields, cleared. */
export function clear_function(hw: Hw): void {
  hw.set('fctl', 0);
  hw.set('actl', 0);
  hw.set('start_cpa', 0);
  hw.set('start_flags', 0);
}

/** The function ended: the subchannel is idle, a new idle period begins. */
export function become_idle(hw: Hw): void {
  clear_function(hw);
  hw.add('idle_seq', 1);
}

/** The IRB a TSCH would store now: the pending status with the current SCSW word 0. */
export function current_irb(hw: Hw, out: Uint8Array): void {
  out.set(hw.irb().subarray(0, Math.min(out.length, IRB_SIZE)));
  if (hw.get('pend_kind') !== PEND_PHANTOM) new DataView(out.buffer, out.byteOffset, out.byteLength).setUint32(0, compose_w0(hw) >>> 0);
}

const PENDING_AC = SCSW_ACTL_RESUME_PEND | SCSW_ACTL_START_PEND | SCSW_ACTL_HALT_PEND | SCSW_ACTL_CLEAR_PEND | SCSW_ACTL_SUSPENDED;

/**
 * TSCH cc 0 clearing (z/Architecture Principles of Operation, TEST SUBCHANNEL). Intermediate status alone: SC and Z reset, FC and AC stay.
 * Primary status alone with device active still set (the CE half of a split ending): the
 * start goes on until device end, so FC and device-active stay too. Anything else: FC, the
 * pending AC bits, SC, deferred cc and PNO reset: the subchannel is idle.
 */
export function tsch_clear(hw: Hw): HwIrq {
  const kind = hw.get('pend_kind');
  const sc = hw.get('stctl');
  const ac = hw.get('actl');
  hw.set('status_pending', 0);
  hw.set('irq_pending', 0);
  hw.set('pend_kind', PEND_NONE);
  hw.set('stctl', 0);
  if (kind === PEND_PHANTOM) return HwIrq.unsolicited;
  const inter_only = sc === (SCSW_STCTL_INTER_STATUS | SCSW_STCTL_STATUS_PEND);
  const ce_half = (sc & SCSW_STCTL_PRIM_STATUS) !== 0 && (sc & SCSW_STCTL_SEC_STATUS) === 0 && (ac & SCSW_ACTL_DEVACT) !== 0;
  if (inter_only || ce_half) {
    hw.set('flags', hw.get('flags') & ~SCSW_ZCC);
  } else {
    const hadFunction = hw.get('fctl') !== 0;
    hw.set('cc', 0);
    hw.set('flags', hw.get('flags') & ~(SCSW_ZCC | SCSW_PNO | SCSW_ESWF));
    hw.set('actl', ac & ~PENDING_AC);
    if (hadFunction) become_idle(hw);
  }
  return kind < 0 ? HwIrq.unsolicited : (kind as HwIrq);
}
