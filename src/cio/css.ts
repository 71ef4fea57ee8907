// drivers/s390/cio/css.c (and the chsc event path): subchannel set-up, the css slow path and
// path events as the machine delivers them to the css driver. It is also the one module the
// driver imports the host's common I/O layer from.
import { spin_lock_irqsave, spin_unlock_irqrestore } from '../kernel/index.ts';
import type { HwConfig } from '../hw/config.ts';
import { hw_run, type HwHost, type HwRunResult } from '../hw/engine.ts';
import type { HwCssView } from '../hw/layout.ts';
import { PMCW_PAM, SCHIB_SIZE } from '../hw/schib.ts';
import * as hwi from '../hw/instr.ts';
import { do_cio_interrupt } from './cio.ts';
import { css_driver, type Subch } from './subchannel.ts';

export * from './chp.ts';
export * from './cio.ts';
export * from './ioasm.ts';
export * from './subchannel.ts';

/**
 * Main, before the buffer reaches any worker (the machine state is already reset): the css
 * probe's view of a new subchannel. The shadow schib is stored, opm = all paths, lpm = pam & opm.
 */
export function css_init_subchannel(sch: Subch, schid: number, isc = 3): void {
  const S = 'css_init_subchannel';
  const schib = new Uint8Array(SCHIB_SIZE);
  if (hwi.stsch(sch.hw, schib) !== 0) throw new Error(`css_init_subchannel: subchannel ${schid} not operational`);
  sch.v.schib.write(0, schib, S);
  sch.v.schid.set(schid, S);
  sch.v.isc.set(isc, S);
  sch.v.opm.set(0xff, S);
  sch.v.lpm.set(schib[PMCW_PAM]! & 0xff, S);
  sch.v.todo.set(0, S);
  sch.v.registered.set(1, S);
}

/** The host side of the machine for one subchannel: the I/O interrupt entry and the css callbacks. */
export function css_hw_host(sch: Subch): HwHost {
  return {
    interrupt: () => do_cio_interrupt(sch),
    // css_evaluate_known_subchannel, slow path: process context, the driver takes sch->lock
    sch_event: () => css_driver()?.sch_event(sch, 1) ?? 0,
    // chsc: the driver's chp_event runs with sch->lock held
    chp_event: (link, event) => {
      const drv = css_driver();
      if (drv === null) return 0;
      const flags = spin_lock_irqsave(sch.v.lock, 'chsc_chp_event');
      try {
        return drv.chp_event(sch, link, event);
      } finally {
        spin_unlock_irqrestore(sch.v.lock, flags, 'chsc_chp_event');
      }
    },
  };
}

/**
 * The IRQ worker's loop: the machine's engine over these subchannels, delivering interrupts
 * through do_cio_interrupt and css events to the registered css driver. Returns on hw_stop(css).
 */
export function css_hw_run(css: HwCssView, subs: readonly Subch[], seed: number, config: Partial<HwConfig> = {}, max_ms?: number): HwRunResult {
  return hw_run({ css, devs: subs.map((sch) => ({ hw: sch.hw, host: css_hw_host(sch) })), seed, config, ...(max_ms !== undefined ? { max_ms } : {}) });
}
