// drivers/s390/cio/vfio_ccw_drv.c: vfio_ccw_sch_remove, the css driver's .remove. Apart from drv.ts
// because it calls the mdev unregistration of ops.ts, which itself calls into drv.ts.
import type { Subch } from '../cio/css.ts';
import { crw_free_all } from './crw.ts';
import { vfio_ccw_sch_quiesce } from './drv.ts';
import { vfio_ccw_mdev_unreg } from '../vfio/mdev_core.ts';
import type { VfioCcwPrivate } from './private.ts';

/**
 * The css remove (css_remove, from the css worker's unregistration after NOT_OPER, or an unbind).
 * ≤ v5.19 quiesce first (A keeps that shape [inferred]); v6.0+ and F leave the subchannel to
 * close_device (M-E7: no FSM CLOSE in remove). v5.8 … v6.1 free the CRWs still queued; v6.2+ do
 * it in .release. Then the mdev goes, which waits for the users (vfio_ccw_mdev_unreg).
 * dev_set_drvdata(NULL) and kfree(private) (≤ v6.1) are not modelled: the private is the device's
 * buffer, and sch->driver is NULL once css_remove returns, so no css callback reaches it again.
 * Read in torvalds/linux @ a2face76ec96 (v5.x) and @ 008a011d6803 (v6.x) vfio_ccw_drv.c.
 */
export function vfio_ccw_sch_remove(p: VfioCcwPrivate, _sch: Subch): void {
  const F = 'vfio_ccw_sch_remove';
  const f = p.drv.f;
  if (!f.open_close_fsm_events) vfio_ccw_sch_quiesce(p);
  // v5.8 … v5.19 empty the CRW list before the mdev goes, v6.0 … v6.1 (vfio_ccw_free_private) after
  const crws = f.chp_event && !f.parent_split;
  if (crws && f.probe_enables_subchannel) crw_free_all(p, F);
  vfio_ccw_mdev_unreg(p);
  if (crws && !f.probe_enables_subchannel) crw_free_all(p, F);
}
