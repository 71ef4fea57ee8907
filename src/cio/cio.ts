// drivers/s390/cio/cio.c: enable/disable (cio_commit_config), schib refresh, cancel/halt/clear
// and the staged cio_cancel_halt_clear, and the I/O interrupt entry do_cio_interrupt.
import { H, current, hook, mirror_irq, spin_lock, spin_unlock } from '../kernel/index.ts';
import { EBUSY, EAGAIN, EINVAL, EIO, ENODEV } from '../uapi/errno.ts';
import { SCSW_ACTL_CLEAR_PEND, SCSW_ACTL_HALT_PEND, scsw_actl, with_actl } from '../uapi/scsw.ts';
import { IRB_SIZE, PMCW_DNV, PMCW_ENA, PMCW_FLAGS, PMCW_INTPARM, PMCW_ISC_MASK, PMCW_ISC_SHIFT, SCHIB_SCSW, SCHIB_SIZE } from '../hw/schib.ts';
import { csch, hsch, msch, stsch, tsch, xsch, type SchConfig } from './ioasm.ts';
import { css_driver, type Subch } from './subchannel.ts';

/** css_sch_is_valid: a device number is valid (an I/O subchannel with a device). */
function css_sch_is_valid(schib: Uint8Array): boolean {
  return (new DataView(schib.buffer, schib.byteOffset, SCHIB_SIZE).getUint16(PMCW_FLAGS) & PMCW_DNV) !== 0;
}

/** Store the subchannel and refresh sch->schib. -ENODEV if it is gone or invalid. */
export function cio_update_schib(sch: Subch, site = 'cio_update_schib'): number {
  const schib = new Uint8Array(SCHIB_SIZE);
  if (stsch(sch, schib, site) !== 0 || !css_sch_is_valid(schib)) return -ENODEV;
  sch.v.schib.write(0, schib, site);
  return 0;
}

function cio_check_config(schib: Uint8Array, cfg: SchConfig): boolean {
  const dv = new DataView(schib.buffer, schib.byteOffset, SCHIB_SIZE);
  const flags = dv.getUint16(PMCW_FLAGS);
  if (((flags & PMCW_ENA) !== 0) !== cfg.ena) return false;
  if (!cfg.ena) return true;
  return (flags & PMCW_ISC_MASK) >>> PMCW_ISC_SHIFT === (cfg.isc & 7) && dv.getUint32(PMCW_INTPARM) === cfg.intparm >>> 0;
}

/**
 * cio_commit_config: up to 5 msch attempts. A pending status is thrown away with tsch (that IRB
 * is never delivered); busy is retried at once (the kernel's udelay(100) lets the machine move,
 * and the engine here runs concurrently anyway).
 */
function cio_commit_config(sch: Subch, cfg: SchConfig, site: string): number {
  const schib = new Uint8Array(SCHIB_SIZE);
  if (stsch(sch, schib, site) !== 0 || !css_sch_is_valid(schib)) return -ENODEV;
  let ret = 0;
  for (let retry = 0; retry < 5; retry++) {
    const cc = msch(sch, cfg, site);
    switch (cc) {
      case 0:
        if (stsch(sch, schib, site) !== 0 || !css_sch_is_valid(schib)) return -ENODEV;
        if (cio_check_config(schib, cfg)) {
          sch.v.schib.write(0, schib, site);
          return 0;
        }
        ret = -EAGAIN;
        break;
      case 1: {
        ret = -EBUSY;
        const irb = new Uint8Array(IRB_SIZE);
        if (tsch(sch, irb, site, 'discard') !== 0) return ret;
        break;
      }
      case 2:
        ret = -EBUSY;
        break;
      default:
        return -ENODEV;
    }
  }
  return ret;
}

/**
 * Enable with the subchannel's ISC and `intparm`. 0, -ENODEV, or -EBUSY after the retries.
 * Callers usually hold sch->lock, but cio.c neither asserts nor documents it (the pre-v6.0 reset
 * path calls it without): the shadow schib write is checked by the I18 oracle instead.
 */
export function cio_enable_subchannel(sch: Subch, intparm: number, site = 'cio_enable_subchannel'): number {
  if (cio_update_schib(sch, site) !== 0) return -ENODEV;
  return cio_commit_config(sch, { ena: true, isc: sch.v.isc.get(site), intparm }, site);
}

/** Disable. 0, -ENODEV, or -EBUSY (a function is active). As cio_enable_subchannel: no lock asserted. */
export function cio_disable_subchannel(sch: Subch, site = 'cio_disable_subchannel'): number {
  if (cio_update_schib(sch, site) !== 0) return -ENODEV;
  const schib = sch.v.schib.read(0, SCHIB_SIZE, site);
  const dv = new DataView(schib.buffer);
  return cio_commit_config(sch, { ena: false, isc: (dv.getUint16(PMCW_FLAGS) & PMCW_ISC_MASK) >>> PMCW_ISC_SHIFT, intparm: dv.getUint32(PMCW_INTPARM) }, site);
}

function shadow_actl_or(sch: Subch, bits: number, site: string): void {
  const w0 = sch.v.schib.get_u32(SCHIB_SCSW, site) | 0;
  sch.v.schib.set_u32(SCHIB_SCSW, with_actl(w0, scsw_actl(w0) | bits), site);
}

/** sch->schib.scsw.cmd.actl |= bits (sch->lock held). */
export function sch_shadow_actl_or(sch: Subch, bits: number, site: string): void {
  shadow_actl_or(sch, bits, site);
}

/** sch->schib.scsw.cmd.actl = bits (sch->lock held). */
export function sch_shadow_actl_set(sch: Subch, bits: number, site: string): void {
  const w0 = sch.v.schib.get_u32(SCHIB_SCSW, site) | 0;
  sch.v.schib.set_u32(SCHIB_SCSW, with_actl(w0, bits), site);
}

/** xsch: 0 cancelled (no interrupt will come), -EBUSY status pending, -EINVAL not applicable, -ENODEV. */
export function cio_cancel(sch: Subch, site = 'cio_cancel'): number {
  switch (xsch(sch, site)) {
    case 0:
      return cio_update_schib(sch, site) !== 0 ? -ENODEV : 0;
    case 1:
      return -EBUSY;
    case 2:
      return -EINVAL;
    default:
      return -ENODEV;
  }
}

/** hsch: 0 halt pending (an interrupt will come), -EBUSY, -ENODEV. */
export function cio_halt(sch: Subch, site = 'cio_halt'): number {
  switch (hsch(sch, site)) {
    case 0:
      shadow_actl_or(sch, SCSW_ACTL_HALT_PEND, site);
      return 0;
    case 1:
    case 2:
      return -EBUSY;
    default:
      return -ENODEV;
  }
}

/** csch: 0 clear pending (an interrupt will come), -ENODEV. */
export function cio_clear(sch: Subch, site = 'cio_clear'): number {
  if (csch(sch, site) !== 0) return -ENODEV;
  shadow_actl_or(sch, SCSW_ACTL_CLEAR_PEND, site);
  return 0;
}

/**
 * Terminate the subchannel's current function in stages (cio_cancel_halt_clear, drivers/s390/cio/cio.c); call it again,
 * with the same iretry, after each expected interrupt or timeout:
 *   refresh the schib (-ENODEV if gone); not enabled: 0;
 *   no halt/clear pending: cancel (xsch), and any answer but "not applicable" is the result; iretry = 3;
 *   no clear pending: up to iretry halts, each answered -EBUSY if accepted (an interrupt follows); iretry = 255;
 *   up to iretry clears, likewise; then -EIO.
 * At most 1 cancel + 3 halts + 255 clears per quiesce (I11).
 */
export function cio_cancel_halt_clear(sch: Subch, iretry: { v: number }, site = 'cio_cancel_halt_clear'): number {
  if (cio_update_schib(sch, site) !== 0) return -ENODEV;
  if (!sch.hw_enabled(site)) return 0;
  let actl = scsw_actl(sch.scsw_w0(site));
  // stage 1: cancel (command mode only; this machine has no transport mode)
  if ((actl & (SCSW_ACTL_HALT_PEND | SCSW_ACTL_CLEAR_PEND)) === 0) {
    const ret = cio_cancel(sch, site);
    if (ret !== -EINVAL) return ret;
    iretry.v = 3;
    actl = scsw_actl(sch.scsw_w0(site));
  }
  // stage 2: halt
  if ((actl & SCSW_ACTL_CLEAR_PEND) === 0) {
    if (iretry.v > 0) {
      iretry.v -= 1;
      const ret = cio_halt(sch, site);
      if (ret !== -EBUSY) return ret === 0 ? -EBUSY : ret;
    }
    iretry.v = 255;
  }
  // stage 3: clear
  if (iretry.v > 0) {
    iretry.v -= 1;
    const ret = cio_clear(sch, site);
    return ret === 0 ? -EBUSY : ret;
  }
  return -EIO;
}

const irb_buf = new Uint8Array(IRB_SIZE);

/**
 * The I/O interrupt handler: in IRQ context, under sch->lock, TEST SUBCHANNEL into the per-CPU
 * IRB, keep sch->schib.scsw up to date, call the driver's irq. A tsch that finds nothing
 * pending (cc != 0) calls nothing.
 */
export function do_cio_interrupt(sch: Subch): void {
  const F = 'do_cio_interrupt';
  const c = current;
  const wasIrq = c.inIrq;
  const wasOff = c.irqsOff;
  c.inIrq = true;
  c.irqsOff = true;
  mirror_irq();
  if (hook !== null) hook(H.irq_enter, sch.hw.id, F, c.id, sch.dev);
  spin_lock(sch.v.lock, F);
  try {
    if (tsch(sch, irb_buf, F) === 0) {
      sch.v.irb.write(0, irb_buf, F);
      sch.v.schib.copy_from(sch.v.irb, F, 12, SCHIB_SCSW, 0);
      css_driver(sch)?.irq(sch);
    }
  } finally {
    spin_unlock(sch.v.lock, F);
    if (hook !== null) hook(H.irq_exit, sch.hw.id, F, c.id, sch.dev);
    c.inIrq = wasIrq;
    c.irqsOff = wasOff;
    mirror_irq();
  }
}
