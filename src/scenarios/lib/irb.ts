// IRBs as the scenarios' checks look at them: the status a normal ending carries, and the
// fields of the SCSW and the device/channel status decoded (Linux's field encodings,
// arch/s390/include/asm/scsw.h).
import {
  DEV_STAT_CHN_END, DEV_STAT_DEV_END, SCSW_ACTL_DEVACT, SCSW_ACTL_SCHACT, SCSW_FCTL_CLEAR_FUNC, SCSW_FCTL_HALT_FUNC, SCSW_FCTL_START_FUNC,
  SCSW_STCTL_ALERT_STATUS, SCSW_STCTL_INTER_STATUS, SCSW_STCTL_PRIM_STATUS, SCSW_STCTL_SEC_STATUS, SCSW_STCTL_STATUS_PEND, scsw_actl, scsw_cc,
  scsw_fctl, scsw_is_final, scsw_is_solicited, scsw_stctl,
} from '../../uapi/scsw.ts';
import { IRB_SIZE } from '../../uapi/irb.ts';

export const CE_DE = DEV_STAT_CHN_END | DEV_STAT_DEV_END;
/** SC of a normal ending: primary + secondary + status pending */
export const SC_ENDED = SCSW_STCTL_PRIM_STATUS | SCSW_STCTL_SEC_STATUS | SCSW_STCTL_STATUS_PEND;
export const SC_UNSOLICITED = SCSW_STCTL_ALERT_STATUS | SCSW_STCTL_STATUS_PEND;
export const SC_INTERMEDIATE = SCSW_STCTL_INTER_STATUS | SCSW_STCTL_STATUS_PEND;
export const FC = { start: SCSW_FCTL_START_FUNC, halt: SCSW_FCTL_HALT_FUNC, clear: SCSW_FCTL_CLEAR_FUNC } as const;
/** AC of a start in progress at the device */
export const ACTIVE = SCSW_ACTL_SCHACT | SCSW_ACTL_DEVACT;

/** An IRB as the checks look at it (Linux field encodings). */
export interface IrbInfo {
  w0: number;
  fctl: number;
  actl: number;
  stctl: number;
  cc: number;
  cpa: number;
  dstat: number;
  cstat: number;
  /** vfio-ccw's is_final */
  final: boolean;
  solicited: boolean;
  /** all 96 bytes zero: what a region write left behind in the IRB area (no io_todo copy since) */
  zero: boolean;
  /** SC has status pending: an IRB a subchannel could really store */
  pending: boolean;
  bytes: Uint8Array;
}

export function irb_info(irb: Uint8Array): IrbInfo {
  const d = new DataView(irb.buffer, irb.byteOffset, irb.byteLength);
  const w0 = d.getUint32(0) | 0;
  const w2 = d.getUint32(8);
  return {
    w0,
    fctl: scsw_fctl(w0),
    actl: scsw_actl(w0),
    stctl: scsw_stctl(w0),
    cc: scsw_cc(w0),
    cpa: d.getUint32(4),
    dstat: w2 >>> 24,
    cstat: (w2 >>> 16) & 0xff,
    final: scsw_is_final(w0),
    solicited: scsw_is_solicited(w0),
    zero: irb.subarray(0, IRB_SIZE).every((b) => b === 0),
    pending: (scsw_stctl(w0) & SCSW_STCTL_STATUS_PEND) !== 0,
    bytes: irb,
  };
}

/** One line for notes and check messages. */
export function irb_str(i: IrbInfo): string {
  if (i.zero) return 'IRB(all zero)';
  const names = (v: number, tab: readonly [number, string][]): string => tab.filter(([b]) => (v & b) !== 0).map(([, n]) => n).join('+') || '0';
  const fc = names(i.fctl, [[FC.start, 'start'], [FC.halt, 'halt'], [FC.clear, 'clear']]);
  const sc = names(i.stctl, [[SCSW_STCTL_ALERT_STATUS, 'alert'], [SCSW_STCTL_INTER_STATUS, 'inter'], [SCSW_STCTL_PRIM_STATUS, 'prim'], [SCSW_STCTL_SEC_STATUS, 'sec'], [SCSW_STCTL_STATUS_PEND, 'pend']]);
  return `IRB(FC ${fc}, AC ${i.actl.toString(16)}, SC ${sc}, cc ${i.cc}, dstat ${i.dstat.toString(16)}, cstat ${i.cstat.toString(16)}, cpa ${i.cpa.toString(16)})`;
}
