// The workload configuration of the channel-subsystem model (JSON-able). Times are µs ranges
// [min, max]; probabilities are per planned event (per start, per idle period).

export type UsRange = [number, number];

export interface HwConfig {
  /** ssch accepted → the start begins (start pending → subchannel and device active) */
  start_begin_us: UsRange;
  /** start begun → ending status */
  start_latency_us: UsRange;
  /** a PCI intermediate interrupt midway through the start */
  p_pci: number;
  /** an initial-status intermediate interrupt when the ORB asks for it (ISIC); 1 = architecture */
  p_isic: number;
  /** error end: unit check with concurrent sense, alert status */
  p_error: number;
  /** channel end and device end presented as two interrupts */
  p_split: number;
  split_gap_us: UsRange;
  /** the device presents status instead of starting: deferred cc 1 */
  p_deferred_cc1: number;
  /** path not operational at initiation: deferred cc 3 */
  p_deferred_cc3: number;
  /** per idle period (a function ended, or the subchannel was enabled): one unsolicited interrupt */
  p_unsolicited_idle: number;
  unsolicited_delay_us: UsRange;
  unsolicited_dstat: number;
  /** per start: an unsolicited interrupt while the start is active (S3 robustness; not architectural) */
  p_unsolicited_busy: number;
  /** 'ignore': hsch is accepted (cc 0) but the halt is never performed (S8 variants) */
  halt: 'answer' | 'ignore';
  /** 'ignore': csch is accepted but the clear is never performed */
  clear: 'answer' | 'ignore';
  halt_latency_us: UsRange;
  clear_latency_us: UsRange;
  /** the device never ends a start by itself (scripted scenarios complete it through the mailbox) */
  hung: boolean;
  /** sense bytes of an error end (at most 32) */
  sense: number[];
  /** how often a sch_event that returned -EAGAIN is called again (the css slow path re-evaluates) */
  sch_event_retries: number;
}

export const HW_CONFIG_DEFAULT: Readonly<HwConfig> = {
  start_begin_us: [5, 20],
  start_latency_us: [50, 2000],
  p_pci: 0,
  p_isic: 1,
  p_error: 0,
  p_split: 0,
  split_gap_us: [10, 50],
  p_deferred_cc1: 0,
  p_deferred_cc3: 0,
  p_unsolicited_idle: 0,
  unsolicited_delay_us: [100, 1000],
  unsolicited_dstat: 0x80, // attention
  p_unsolicited_busy: 0,
  halt: 'answer',
  clear: 'answer',
  halt_latency_us: [5, 50],
  clear_latency_us: [5, 50],
  hung: false,
  sense: [0x10, 0, 0, 0, 0, 0, 0, 0x3f],
  sch_event_retries: 3,
};

export function hw_config(partial: Partial<HwConfig> = {}): HwConfig {
  return { ...HW_CONFIG_DEFAULT, ...partial };
}
