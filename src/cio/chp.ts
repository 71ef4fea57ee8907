// drivers/s390/cio/chp.h: channel-path events and struct chp_link.
import { HwPathEvent } from '../hw/mailbox.ts';

// The machine numbers its path events as the kernel does; one table serves both.
export const CHP_VARY_OFF = HwPathEvent.vary_off;
export const CHP_VARY_ON = HwPathEvent.vary_on;
export const CHP_OFFLINE = HwPathEvent.offline;
export const CHP_ONLINE = HwPathEvent.online;

/** struct chp_link, reduced to what vfio-ccw uses: the CHPID and its path-mask bit in this subchannel. */
export interface ChpLink {
  chpid: number;
  /** chp_ssd_get_mask(&sch->ssd_info, link): 0 when the subchannel does not use the CHPID */
  mask: number;
}
