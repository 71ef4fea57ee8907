// The channel subsystem's engine (runs on the IRQ worker): decides when each started, halted or
// cleared function ends and with which status, makes status pending, presents I/O interrupts to
// the host, executes the mailbox and delivers css events. Every decision comes from a stream
// keyed by (seed, device, function, sequence number) and is recorded.
import { backend, is_controlled } from '../kernel/backend.ts';
import { clock } from '../kernel/clock.ts';
import { orb_has, orb_lpm, ORB_ISIC } from '../uapi/orb.ts';
import {
  DEV_STAT_ATTENTION, DEV_STAT_CHN_END, DEV_STAT_DEV_END, DEV_STAT_UNIT_CHECK, SCHN_STAT_PCI, SCSW_ACTL_CLEAR_PEND, SCSW_ACTL_DEVACT,
  SCSW_ACTL_HALT_PEND, SCSW_ACTL_SCHACT, SCSW_ACTL_START_PEND, SCSW_FCTL_CLEAR_FUNC, SCSW_FCTL_START_FUNC, SCSW_PNO,
  SCSW_STCTL_ALERT_STATUS, SCSW_STCTL_INTER_STATUS, SCSW_STCTL_PRIM_STATUS, SCSW_STCTL_SEC_STATUS, SCSW_STCTL_STATUS_PEND, SCSW_ZCC,
  scsw_word0,
} from '../uapi/scsw.ts';
import { hw_config, type HwConfig } from './config.ts';
import {
  HwCss, HwIrq, HwStartEnd, PEND_PHANTOM, hw_chpid_mask, hw_lock, hw_touch, hw_unlock, type Hw, type HwCssView,
} from './layout.ts';
import { HwPathEvent, HwRc, mb_ack, mb_peek, type HwCommand } from './mailbox.ts';
import { Rng, fnv1a, mix } from './prng.ts';
import { clear_function, close_start, drop_pending, make_pending } from './status.ts';

const EAGAIN = 11;
/** device events due sooner than this are waited for by polling, not by a futex timeout (free mode) */
const SPIN_MS = 0.05;
const C = HwCss.fields;

export interface HwChpLink {
  chpid: number;
  /** this subchannel's path-mask bit for the CHPID (0: the subchannel does not use it) */
  mask: number;
}

/** What the engine calls on the host side, per device. */
export interface HwHost {
  /** the host's I/O interrupt entry (do_cio_interrupt): it runs TSCH itself */
  interrupt(): void;
  /** css slow path, process context: the css driver's sch_event(sch, 1) */
  sch_event(): number;
  /** chsc path event, process context: the css driver's chp_event with sch->lock held */
  chp_event(link: HwChpLink, event: HwPathEvent): number;
  /** a subchannel CRW (the machine check handler's css_process_crw): the subchannel came or went */
  sch_crw?(): number;
}

export interface HwDev {
  hw: Hw;
  host: HwHost;
}

export type HwDecision =
  | {
      dev: number;
      what: 'start';
      seq: number;
      begin_us: number;
      latency_us: number;
      pci: boolean;
      isic: boolean;
      error: boolean;
      split: boolean;
      split_gap_us: number;
      deferred_cc: number;
      unsol_busy: boolean;
      hung: boolean;
    }
  | { dev: number; what: 'halt' | 'clear'; seq: number; latency_us: number; answered: boolean }
  | { dev: number; what: 'idle'; seq: number; unsolicited: boolean; delay_us: number };

export interface HwRunOpts {
  css: HwCssView;
  devs: readonly HwDev[];
  config?: Partial<HwConfig>;
  seed: number;
  /** wall-time bound: return even if nobody sets the stop word */
  max_ms?: number;
  /** decision records kept in memory (default 100 000); the shared count and hash cover all of them */
  log_limit?: number;
}

export interface HwRunResult {
  reason: 'stop' | 'max_ms';
  loops: number;
  presented: number;
  decisions: HwDecision[];
}

interface StartPlan {
  seq: number;
  /** when the start begins (ms, clock.now_ms) */
  begin_at: number;
  latency_ms: number;
  /** set when the start has begun */
  end_at: number;
  pci_at: number | null;
  unsol_busy_at: number | null;
  isic: boolean;
  isic_due: boolean;
  error: boolean;
  split_gap_ms: number | null;
  ce_done: boolean;
  deferred_cc: number;
  /** false once a scripted complete took over the ending, or the device hangs */
  auto: boolean;
}

interface FnPlan {
  seq: number;
  due: number;
  answered: boolean;
}

interface Forced {
  kind: 'final' | 'pci';
  dstat: number | undefined;
  cstat: number | undefined;
  sense: number[] | null;
}

interface Unsol {
  due: number;
  /** planned by the engine (waits while held) rather than posted */
  timed: boolean;
  dstat: number;
  cstat: number;
  sense: number[] | null;
  /** S3 robustness: present while a start is active */
  busy: boolean;
}

const us = (x: number): number => x / 1000;
const first_bit = (m: number): number => {
  for (let k = 0; k < 8; k++) if ((m & (0x80 >> k)) !== 0) return 0x80 >> k;
  return 0;
};

class DevEngine {
  start: StartPlan | null = null;
  halt: FnPlan | null = null;
  clear: FnPlan | null = null;
  start_seen: number;
  idle_seen: number;
  readonly seen: { halt: number; clear: number };
  forced: Forced[] = [];
  unsol: Unsol[] = [];
  retry: { at: number; left: number } | null = null;

  constructor(
    readonly dev: HwDev,
    readonly cfg: HwConfig,
    readonly seed: number,
    readonly log: HwDecision[],
    readonly log_limit: number,
  ) {
    // what is already under way when the engine starts is planned once; the rest is history
    const hw = dev.hw;
    const ac = hw.get('actl');
    this.start_seen = hw.get('start_seq') - hw.get('start_open');
    this.seen = { halt: hw.get('halt_seq') - ((ac & SCSW_ACTL_HALT_PEND) !== 0 ? 1 : 0), clear: hw.get('clear_seq') - ((ac & SCSW_ACTL_CLEAR_PEND) !== 0 ? 1 : 0) };
    this.idle_seen = hw.get('idle_seq') - (hw.get('fctl') === 0 && hw.get('enabled') !== 0 && hw.get('idle_seq') > 0 ? 1 : 0);
  }

  get hw(): Hw {
    return this.dev.hw;
  }

  private record(d: HwDecision): void {
    if (this.log.length < this.log_limit) this.log.push(d);
    const hw = this.hw;
    hw.add('decisions', 1);
    hw.set('decision_hash', fnv1a(hw.get('decision_hash'), JSON.stringify(d)));
  }

  private rng(stream: number, seq: number): Rng {
    return new Rng(mix(this.seed, this.hw.index, stream, seq));
  }

  /**
   * Draw the decisions of every function and idle period the machine accepted since the last
   * look, in sequence order, even those already withdrawn: the log then depends only on the
   * seed and the instruction sequence, not on when the engine happened to look. Under hw_lock.
   */
  private sync(now: number): boolean {
    const hw = this.hw;
    const cfg = this.cfg;
    let planned = false;
    const ss = hw.get('start_seq');
    for (; this.start_seen < ss; planned = true) {
      const seq = ++this.start_seen;
      // fixed draw order, whatever the branches: the stream stays aligned
      const r = this.rng(1, seq);
      const begin_us = r.range(cfg.start_begin_us);
      const latency_us = r.range(cfg.start_latency_us);
      const pci = r.chance(cfg.p_pci);
      const isic_roll = r.chance(cfg.p_isic);
      const error = r.chance(cfg.p_error);
      const split = r.chance(cfg.p_split);
      const split_gap_us = r.range(cfg.split_gap_us);
      const dr = r.real();
      const deferred_cc = dr < cfg.p_deferred_cc1 ? 1 : dr < cfg.p_deferred_cc1 + cfg.p_deferred_cc3 ? 3 : 0;
      const unsol_busy = r.chance(cfg.p_unsolicited_busy);
      const live = seq === ss && hw.get('start_open') !== 0;
      // the ORB is only known for the live start; a withdrawn one never begins
      const isic = live && isic_roll && orb_has(hw.get('start_flags'), ORB_ISIC);
      this.record({ dev: hw.index, what: 'start', seq, begin_us, latency_us, pci, isic, error, split, split_gap_us, deferred_cc, unsol_busy, hung: cfg.hung });
      if (!live) continue;
      this.start = {
        seq,
        begin_at: now + us(begin_us),
        latency_ms: us(latency_us),
        end_at: Infinity,
        pci_at: pci ? 0.5 : null,
        unsol_busy_at: unsol_busy ? 0.3 : null,
        isic,
        isic_due: false,
        error,
        split_gap_ms: split ? us(split_gap_us) : null,
        ce_done: false,
        deferred_cc,
        auto: !cfg.hung,
      };
      this.forced = [];
    }
    const fn = (what: 'halt' | 'clear', stream: number, seqf: 'halt_seq' | 'clear_seq', pend: number, answer: boolean): void => {
      const last = hw.get(seqf);
      for (; this.seen[what] < last; planned = true) {
        const seq = ++this.seen[what];
        const latency_us = this.rng(stream, seq).range(what === 'halt' ? cfg.halt_latency_us : cfg.clear_latency_us);
        this.record({ dev: hw.index, what, seq, latency_us, answered: answer });
        if (seq === last && (hw.get('actl') & pend) !== 0) this[what] = { seq, due: now + us(latency_us), answered: answer };
      }
    };
    fn('halt', 2, 'halt_seq', SCSW_ACTL_HALT_PEND, cfg.halt === 'answer');
    fn('clear', 3, 'clear_seq', SCSW_ACTL_CLEAR_PEND, cfg.clear === 'answer');
    const is = hw.get('idle_seq');
    for (; this.idle_seen < is; planned = true) {
      const seq = ++this.idle_seen;
      const r = this.rng(4, seq);
      const unsolicited = r.chance(cfg.p_unsolicited_idle);
      const delay_us = r.range(cfg.unsolicited_delay_us);
      // only a decision when the workload asks for idle unsolicited interrupts at all
      if (cfg.p_unsolicited_idle > 0) this.record({ dev: hw.index, what: 'idle', seq, unsolicited, delay_us });
      // a period that already ended stacks its status at the device: presented at the next idle time
      if (unsolicited) this.unsol.push({ due: now + us(delay_us), timed: true, dstat: cfg.unsolicited_dstat, cstat: 0, sense: null, busy: false });
    }
    return planned;
  }

  private pending(): boolean {
    return this.hw.get('status_pending') !== 0;
  }

  private begin(p: StartPlan, now: number): void {
    const hw = this.hw;
    hw.set('actl', SCSW_ACTL_SCHACT | SCSW_ACTL_DEVACT);
    const usable = orb_lpm(hw.get('start_flags')) & hw.get('pam') & hw.get('pim');
    hw.set('lpum', first_bit(usable));
    if (usable === 0 && p.deferred_cc === 0) p.deferred_cc = 3; // the paths went between ssch and now
    p.end_at = now + p.latency_ms;
    if (p.pci_at !== null) p.pci_at = now + p.latency_ms * p.pci_at;
    if (p.unsol_busy_at !== null) p.unsol_busy_at = now + p.latency_ms * p.unsol_busy_at;
    p.isic_due = p.isic;
  }

  private start_status(kind: HwIrq, stctl: number, dstat: number, cstat: number, sense: readonly number[] | null, extra = 0, cc = 0): void {
    const hw = this.hw;
    make_pending(hw, kind, { stctl, cc, extra, cpa: (hw.get('start_cpa') + 8) | 0, dstat, cstat, count: 0, sense });
  }

  /** The start's one final status (closes the start). */
  private final(dstat: number, cstat: number, sense: readonly number[] | null): void {
    const hw = this.hw;
    hw.set('actl', 0);
    const alert = (dstat & DEV_STAT_UNIT_CHECK) !== 0 || cstat !== 0 ? SCSW_STCTL_ALERT_STATUS : 0;
    this.start_status(HwIrq.start_final, SCSW_STCTL_PRIM_STATUS | SCSW_STCTL_SEC_STATUS | alert, dstat, cstat, sense);
    close_start(hw, HwStartEnd.final);
    this.start = null;
    this.forced = [];
  }

  private pci(cstat = SCHN_STAT_PCI, dstat = 0): void {
    this.start_status(HwIrq.intermediate, SCSW_STCTL_INTER_STATUS, dstat, cstat, null);
  }

  /** Start branch: forced completions first, then the plan's own timed events. At most one status per call. */
  private advance_start(p: StartPlan, now: number, held: boolean): number {
    const hw = this.hw;
    if ((hw.get('actl') & SCSW_ACTL_START_PEND) !== 0) {
      if (held) return Infinity;
      if (now < p.begin_at) return p.begin_at;
      this.begin(p, now);
      if (p.deferred_cc !== 0) {
        hw.set('actl', 0);
        const cc3 = p.deferred_cc === 3;
        this.start_status(HwIrq.start_final, SCSW_STCTL_ALERT_STATUS, cc3 ? 0 : DEV_STAT_ATTENTION, 0, null, cc3 ? SCSW_PNO : 0, p.deferred_cc);
        close_start(hw, HwStartEnd.final);
        this.start = null;
        return now;
      }
    }
    if (this.pending()) return Infinity; // the next status waits for tsch (which rings)
    // posted commands act even while held: hold only keeps the interrupts waiting
    const f = this.forced.shift();
    if (f !== undefined) {
      if (f.kind === 'pci') this.pci(f.cstat ?? SCHN_STAT_PCI, f.dstat ?? 0);
      else this.final(f.dstat ?? DEV_STAT_CHN_END | DEV_STAT_DEV_END, f.cstat ?? 0, f.sense);
      return now;
    }
    const busy_unsol = this.unsol.findIndex((u) => u.busy && !u.timed);
    if (busy_unsol >= 0) {
      const u = this.unsol.splice(busy_unsol, 1)[0]!;
      this.phantom(u);
      return now;
    }
    if (held) return Infinity;
    if (p.isic_due) {
      p.isic_due = false;
      this.start_status(HwIrq.intermediate, SCSW_STCTL_INTER_STATUS, 0, 0, null, SCSW_ZCC);
      return now;
    }
    if (!p.auto) return Infinity;
    if (p.unsol_busy_at !== null && (p.pci_at === null || p.unsol_busy_at <= p.pci_at)) {
      if (now < p.unsol_busy_at) return p.unsol_busy_at;
      p.unsol_busy_at = null;
      this.phantom({ due: now, timed: true, dstat: this.cfg.unsolicited_dstat, cstat: 0, sense: null, busy: true });
      return now;
    }
    if (p.pci_at !== null) {
      if (now < p.pci_at) return p.pci_at;
      p.pci_at = null;
      this.pci();
      return now;
    }
    if (p.unsol_busy_at !== null) {
      if (now < p.unsol_busy_at) return p.unsol_busy_at;
      p.unsol_busy_at = null;
      this.phantom({ due: now, timed: true, dstat: this.cfg.unsolicited_dstat, cstat: 0, sense: null, busy: true });
      return now;
    }
    if (now < p.end_at) return p.end_at;
    if (p.split_gap_ms !== null && !p.ce_done) {
      // channel end now, device end after the gap: not final, device still active
      p.ce_done = true;
      hw.set('actl', SCSW_ACTL_DEVACT);
      this.start_status(HwIrq.intermediate, SCSW_STCTL_PRIM_STATUS, DEV_STAT_CHN_END, 0, null);
      p.end_at = now + p.split_gap_ms;
      return p.end_at;
    }
    if (p.ce_done) {
      hw.set('actl', 0);
      this.start_status(HwIrq.start_final, SCSW_STCTL_SEC_STATUS, DEV_STAT_DEV_END, 0, null);
      close_start(hw, HwStartEnd.final);
      this.start = null;
      return now;
    }
    if (p.error) this.final(DEV_STAT_CHN_END | DEV_STAT_DEV_END | DEV_STAT_UNIT_CHECK, 0, this.cfg.sense);
    else this.final(DEV_STAT_CHN_END | DEV_STAT_DEV_END, 0, null);
    return now;
  }

  /** The unsolicited status injected while a start is active: TSCH leaves the start alone. */
  private phantom(u: Unsol): void {
    const w0 = scsw_word0({ stctl: SCSW_STCTL_ALERT_STATUS | SCSW_STCTL_STATUS_PEND });
    make_pending(this.hw, PEND_PHANTOM, { stctl: SCSW_STCTL_ALERT_STATUS, cpa: 0, dstat: u.dstat, cstat: u.cstat, count: 0, sense: u.sense }, w0);
  }

  private unsolicited(u: Unsol): void {
    make_pending(this.hw, HwIrq.unsolicited, { stctl: SCSW_STCTL_ALERT_STATUS, cpa: 0, dstat: u.dstat, cstat: u.cstat, count: 0, sense: u.sense });
  }

  /** Halt performed (Principles of Operation, HALT SUBCHANNEL): withdrawn if the start had not begun, else ended with device status. */
  private perform_halt(): void {
    const hw = this.hw;
    const ac = hw.get('actl');
    hw.set('actl', 0);
    if ((ac & SCSW_ACTL_START_PEND) === 0 && (ac & (SCSW_ACTL_SCHACT | SCSW_ACTL_DEVACT)) !== 0) {
      make_pending(hw, HwIrq.halt, { stctl: SCSW_STCTL_PRIM_STATUS | SCSW_STCTL_SEC_STATUS, cpa: (hw.get('start_cpa') + 8) | 0, dstat: DEV_STAT_CHN_END | DEV_STAT_DEV_END, cstat: 0, count: 0 });
    } else {
      make_pending(hw, HwIrq.halt, { stctl: 0, cpa: 0, dstat: 0, cstat: 0, count: 0 });
    }
    this.halt = null;
    this.start = null;
    this.forced = [];
  }

  private perform_clear(): void {
    const hw = this.hw;
    hw.set('fctl', SCSW_FCTL_CLEAR_FUNC);
    hw.set('actl', 0);
    make_pending(hw, HwIrq.clear, { stctl: 0, cpa: 0, dstat: 0, cstat: 0, count: 0 });
    this.clear = null;
    this.start = null;
    this.halt = null;
    this.forced = [];
  }

  /** One step of the machine for this subchannel. Under hw_lock. Returns the next due time. */
  private advance(now: number): number {
    const hw = this.hw;
    if (hw.get('present') === 0) return Infinity;
    const held = hw.get('held') !== 0;
    const ac = hw.get('actl');
    const fc = hw.get('fctl');
    const fn = (p: FnPlan | null, perform: () => void): number => {
      if (p === null || !p.answered || held) return Infinity;
      if (now < p.due) return p.due;
      if (this.pending()) return Infinity;
      perform();
      return now;
    };
    if ((ac & SCSW_ACTL_CLEAR_PEND) !== 0) {
      this.start = null;
      this.halt = null;
      return fn(this.clear, () => this.perform_clear());
    }
    if ((ac & SCSW_ACTL_HALT_PEND) !== 0) {
      this.start = null;
      return fn(this.halt, () => this.perform_halt());
    }
    if ((fc & SCSW_FCTL_START_FUNC) !== 0 && hw.get('start_open') !== 0 && this.start !== null) return this.advance_start(this.start, now, held);
    if (fc !== 0) return Infinity;
    // idle: unsolicited status, only when enabled and nothing is pending
    let next = Infinity;
    for (let k = 0; k < this.unsol.length; k++) {
      const u = this.unsol[k]!;
      if (u.timed && held) continue;
      if (u.due > now) {
        next = Math.min(next, u.due);
        continue;
      }
      if (hw.get('enabled') === 0 || this.pending()) break;
      this.unsol.splice(k, 1);
      this.unsolicited(u);
      return now;
    }
    return next;
  }

  /** Execute one mailbox command. Under hw_lock. Returns the rc, and a host call to make after unlocking. */
  private exec(cmd: HwCommand | null, now: number): { rc: number; call: (() => number) | null } {
    const hw = this.hw;
    if (cmd === null) return { rc: HwRc.bad, call: null };
    switch (cmd.op) {
      case 'complete': {
        this.sync(now);
        const p = this.start;
        const fc = hw.get('fctl');
        if (p === null || hw.get('start_open') === 0 || fc !== SCSW_FCTL_START_FUNC) return { rc: HwRc.not_applicable, call: null };
        if ((hw.get('actl') & SCSW_ACTL_START_PEND) !== 0) {
          this.begin(p, now);
          p.isic_due = false;
          p.deferred_cc = 0;
        }
        if (cmd.kind === 'final') p.auto = false;
        const f: Forced = { kind: cmd.kind, dstat: cmd.dstat, cstat: cmd.cstat, sense: cmd.sense ?? null };
        if (this.pending()) {
          this.forced.push(f);
          return { rc: HwRc.queued, call: null };
        }
        this.forced.unshift(f);
        this.advance_start(p, now, true);
        return { rc: HwRc.done, call: null };
      }
      case 'unsolicited': {
        const u: Unsol = { due: now, timed: false, dstat: cmd.dstat, cstat: cmd.cstat ?? 0, sense: cmd.sense ?? null, busy: cmd.busy === true };
        const fc = hw.get('fctl');
        if (!this.pending() && hw.get('enabled') !== 0) {
          if (!u.busy && fc === 0) {
            this.unsolicited(u);
            return { rc: HwRc.done, call: null };
          }
          if (u.busy && (fc & SCSW_FCTL_START_FUNC) !== 0 && hw.get('start_open') !== 0) {
            this.phantom(u);
            return { rc: HwRc.done, call: null };
          }
        }
        this.unsol.push(u);
        return { rc: HwRc.queued, call: null };
      }
      case 'gone': {
        if (hw.get('present') === 0) return { rc: HwRc.not_applicable, call: null };
        hw.set('present', 0);
        if (drop_pending(hw)) hw.add('discarded_gone', 1);
        close_start(hw, HwStartEnd.gone);
        this.start = null;
        this.halt = null;
        this.clear = null;
        this.forced = [];
        this.unsol = [];
        return { rc: HwRc.done, call: () => this.sch_event(now) };
      }
      case 'back': {
        if (hw.get('present') !== 0) return { rc: HwRc.not_applicable, call: null };
        // a device attached anew: disabled, no interruption subclass or parameter, nothing pending,
        // and no function in progress (one that was when the device went ended with it: left set,
        // MSCH would answer busy for ever on a disabled subchannel, a state no hardware reaches)
        clear_function(hw);
        hw.set('enabled', 0);
        hw.set('isc', 0);
        hw.set('intparm', 0);
        hw.set('present', 1);
        const crw = this.dev.host.sch_crw;
        return { rc: HwRc.done, call: crw === undefined ? null : () => crw() };
      }
      case 'path': {
        const mask = hw_chpid_mask(hw, cmd.chpid);
        if (cmd.event === HwPathEvent.offline) hw.set('pam', hw.get('pam') & ~mask);
        if (cmd.event === HwPathEvent.online) hw.set('pam', hw.get('pam') | mask);
        const link: HwChpLink = { chpid: cmd.chpid, mask };
        return {
          rc: HwRc.done,
          call: () => {
            hw.add('chp_events', 1);
            return this.dev.host.chp_event(link, cmd.event);
          },
        };
      }
      case 'hold':
        hw.set('held', 1);
        return { rc: HwRc.done, call: null };
      case 'release':
        hw.set('held', 0);
        return { rc: HwRc.done, call: null };
      case 'set_cc': {
        const k = { ssch: 0, hsch: 1, csch: 2, xsch: 3 }[cmd.instr];
        hw.set_at('force_cc', k, cmd.cc);
        hw.set_at('force_n', k, cmd.cc === 0 ? 0 : (cmd.count ?? 1));
        return { rc: HwRc.done, call: null };
      }
    }
  }

  private sch_event(now: number): number {
    this.hw.add('sch_events', 1);
    const rc = this.dev.host.sch_event();
    if (rc === -EAGAIN) {
      // the css slow path evaluates the subchannel again later (css_schedule_eval)
      const left = this.retry === null ? this.cfg.sch_event_retries : this.retry.left - 1;
      this.retry = left > 0 ? { at: now + 1, left } : null;
    } else this.retry = null;
    return rc;
  }

  /** Mailbox, css event retries, the machine's own progress, then at most one interrupt. */
  step(now: number): { next: number; progress: boolean } {
    const hw = this.hw;
    let progress = false;
    for (;;) {
      hw_lock(hw);
      let m: ReturnType<typeof mb_peek>;
      let r: { rc: number; call: (() => number) | null } = { rc: HwRc.bad, call: null };
      try {
        m = mb_peek(hw);
        if (m !== null) r = this.exec(m.cmd, now);
      } finally {
        hw_unlock(hw);
      }
      if (m === null) break;
      // the host call runs before the ack, so a poster's wait covers the driver's handling
      if (r.call !== null) r.call();
      mb_ack(hw, m.seq, r.rc);
      progress = true;
    }
    if (this.retry !== null && now >= this.retry.at) {
      this.sch_event(now);
      progress = true;
    }
    let next: number;
    let present = false;
    const made = hw.get('presented') + hw.get('decisions');
    const pend = hw.get('status_pending');
    // a start beginning changes only AC: observers waiting for it must be woken too
    const actl = hw.get('actl');
    hw_lock(hw);
    try {
      if (this.sync(now)) progress = true;
      next = this.advance(now);
      if (hw.get('present') !== 0 && hw.get('held') === 0 && hw.get('enabled') !== 0 && hw.get('irq_pending') !== 0) {
        // the interruption request is cleared when presented; the status stays pending until tsch
        hw.set('irq_pending', 0);
        hw.add('presented', 1);
        present = true;
      }
    } finally {
      hw_unlock(hw);
    }
    if (present || pend !== hw.get('status_pending') || actl !== hw.get('actl') || made !== hw.get('presented') + hw.get('decisions')) {
      progress = true;
      hw_touch(hw);
    }
    if (present) this.dev.host.interrupt();
    if (this.retry !== null) next = Math.min(next, this.retry.at);
    return { next, progress };
  }
}

/** The engine over a set of subchannels. hw_run() drives it on the IRQ worker; tests may step it. */
export class HwEngine {
  readonly config: HwConfig;
  readonly decisions: HwDecision[] = [];
  private readonly devs: DevEngine[];
  private presented0: number;

  constructor(readonly opts: HwRunOpts) {
    this.config = hw_config(opts.config);
    this.devs = opts.devs.map((d) => new DevEngine(d, this.config, opts.seed >>> 0, this.decisions, opts.log_limit ?? 100_000));
    this.presented0 = this.presented();
  }

  private presented(): number {
    return this.opts.devs.reduce((s, d) => s + d.hw.get('presented'), 0);
  }

  /** One pass over every subchannel at clock.now_ms(), without waiting. */
  step(): { next: number; progress: boolean } {
    let next = Infinity;
    let progress = false;
    for (const d of this.devs) {
      const r = d.step(clock.now_ms());
      next = Math.min(next, r.next);
      progress ||= r.progress;
    }
    return { next, progress };
  }

  /** Step until nothing changes at the current time (bounded). Returns the next due time. */
  settle(maxPasses = 10_000): number {
    for (let k = 0; k < maxPasses; k++) {
      const r = this.step();
      if (!r.progress) return r.next;
    }
    throw new Error(`hw engine: no quiescence after ${maxPasses} passes`);
  }

  /** Run until the stop word is set (or max_ms of wall time). */
  run(): HwRunResult {
    const css = this.opts.css;
    const a = css.a;
    const bell = css.b + C.doorbell.off;
    const wall_end = performance.now() + (this.opts.max_ms ?? Infinity);
    let loops = 0;
    let reason: HwRunResult['reason'] = 'stop';
    Atomics.store(a, css.b + C.running.off, 1);
    try {
      for (;;) {
        if (Atomics.load(a, css.b + C.stop.off) !== 0) break;
        if (performance.now() >= wall_end) {
          reason = 'max_ms';
          break;
        }
        const seen = Atomics.load(a, bell);
        loops++;
        Atomics.add(a, css.b + C.loops.off, 1);
        const r = this.step();
        if (r.progress) continue;
        const toEvent = r.next - clock.now_ms();
        const wait = Math.min(toEvent, wall_end - performance.now());
        if (wait <= 0) continue;
        // A futex timeout this short costs the kernel's timer slack (~50 µs): the device would
        // answer late. In free mode, wait for a near event by polling the doorbell instead.
        if (toEvent < SPIN_MS && !is_controlled()) {
          while (clock.now_ms() < r.next && Atomics.load(a, bell) === seen && Atomics.load(a, css.b + C.stop.off) === 0);
          continue;
        }
        Atomics.store(a, css.b + C.sleeping.off, 1);
        // The next device event is a timed event; with none pending, the wall bound is only a guard.
        if (Atomics.load(a, css.b + C.stop.off) === 0) backend.wait(a, bell, seen, wait, css.id, toEvent <= wait);
        Atomics.store(a, css.b + C.sleeping.off, 0);
      }
    } finally {
      Atomics.store(a, css.b + C.running.off, 0);
    }
    return { reason, loops, presented: this.presented() - this.presented0, decisions: this.decisions };
  }
}

/** The engine loop of the IRQ worker: returns when hw_stop(css) is called. */
export function hw_run(opts: HwRunOpts): HwRunResult {
  return new HwEngine(opts).run();
}

/** Ask hw_run to return (any thread). */
export function hw_stop(css: HwCssView): void {
  Atomics.store(css.a, css.b + C.stop.off, 1);
  Atomics.add(css.a, css.b + C.doorbell.off, 1);
  backend.notify(css.a, css.b + C.doorbell.off, Infinity, css.id);
}

/** Wait (bounded) until hw_run is running, so a test or scenario can start issuing. */
export function hw_wait_running(css: HwCssView, timeoutMs: number): boolean {
  const end = clock.now_ms() + timeoutMs;
  while (css.get('running') === 0) {
    if (clock.now_ms() >= end) return false;
    backend.wait(css.a, css.b + C.loops.off, css.get('loops'), 1, css.id + C.loops.off);
  }
  return true;
}
