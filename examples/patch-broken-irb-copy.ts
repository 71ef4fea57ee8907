// A patch that breaks something on purpose: v5.3's io_todo with the copy of the IRB into the I/O
// region moved out of io_mutex. The region read handler copies the same bytes under io_mutex, so
// a read can return half an old and half a new IRB; the race detector reports the pair.
//   npx vfio-ccw-sim race --variant ./examples/patch-broken-irb-copy.ts --scenario S2
import { SITES, cp, derive, drv, kernel, scsw, uapi, type VfioCcwPrivate } from '../src/index.ts';

/** vfio_ccw_sch_io_todo as in v5.3 (drivers/s390/cio/vfio_ccw_drv.c), minus the io_mutex. */
function vfio_ccw_sch_io_todo(p: VfioCcwPrivate): void {
  const F = SITES.vfio_ccw_sch_io_todo;
  const irb = p.v.irb;
  const is_final = scsw.scsw_is_final(irb.get_u32(0, F));
  if (scsw.scsw_is_solicited(irb.get_u32(0, F))) {
    const s = scsw.scsw_read(new DataView(irb.read(0, 12, F).buffer), 0);
    if (cp.cp_update_scsw(p.cp, s)) irb.set_u32(4, s.cpa, 'cp_update_scsw');
    if (is_final && p.v.state.get(F) === p.drv.S.CP_PENDING) cp.cp_free(p.cp);
  }
  // was: mutex_lock(&private->io_mutex); memcpy(...); mutex_unlock(&private->io_mutex);
  p.v.io_region.copy_from(irb, F, 96, uapi.IO_IRB, 0);
  kernel.atomic_inc(p.v.irbs_to_region, F);
  if (p.v.mdev.get(F) !== 0 && is_final) p.v.state.set(p.drv.S.IDLE, F);
  if (drv.signal_trigger(p, p.v.io_trigger, F)) kernel.atomic_inc(p.v.io_signals, F);
}

export default derive('v5.3', {
  description: 'v5.3 with the IRB copied into the I/O region without io_mutex (broken on purpose)',
  code: { vfio_ccw_sch_io_todo },
});
