// v5.2: "support hsch/csch": CP_PROCESSING/CP_PENDING, io_mutex, async region, cp->initialized.
// Stated as v5.0 plus the changes below (spec/driver.md).
import { derive } from './derive.ts';
import { C, M } from './refs.ts';
import './v5.0.ts';

export default derive('v5.0', {
  name: 'v5.2',
  label: 'C',
  kernel: { from: 'v5.2', to: 'v5.2' },
  merged: true,
  models: 'v5.2',
  description: '"support hsch/csch": CP_PROCESSING/CP_PENDING, io_mutex, async region, cp->initialized',
  changes: [
    'states CP_PROCESSING/CP_PENDING replace BUSY; event ASYNC_REQ; -EAGAIN in CP_PROCESSING',
    'cp->initialized flag; cp accessors safe on an uninitialised cp',
    'io_mutex (trylock -> -EAGAIN for writers); the -EACCES pre-filter is gone',
    'capability chain (offset shift 10) and the async command region (hsch/csch)',
    'fsm_io_request err_out no longer sets IDLE (the write handler still does)',
    'quiesce: flush_workqueue outside sch->lock, loop restructured; release and mdev remove call quiesce and cp_free',
  ],
  commits: [C.safe_cp, C.ssch_rework, C.protect_io, C.flush_wq, C.quiesce_loop, C.release_cp],
  mails: [M.C0, M.C1, M.C2, M.C3, M.B2, M.B3, M.B4],
  sources: ['G-async', 'C3-drv', 'C4-fsm', 'C11-ops'],
  inferred: [
    'No v5.2 whole-file snapshot exists; v5.2 is reconstructed from v5.3 drv.c, v5.4–v5.12 fsm.c, v5.11 ops.c and the diffs.',
    'cp_update_scsw\'s "tail + 1" bound is known only from G-cp; we assume it from v5.2 on.',
    'sch_event answers -EAGAIN when busy ("later code", vfio_ccw_sch_event in vfio_ccw_drv.c); the change is not dated, we start it here.',
  ],
  fsm: 'v5.2',
  features: {
    regions: 'io+async',
    offset_shift: true,
    request_entry_state: 'CP_PROCESSING',
    io_helper: 'one-lock-pending-on-cc0',
    err_out_sets_idle: false,
    write_prefilter_eacces: false,
    io_mutex: true,
    ioctl_copyback_fault: '-EFAULT',
    cp_rules: { has_initialized_flag: true, update_scsw_past_end: true },
    quiesce: 'retry-once',
    mdev_remove: 'quiesce+cp_free',
    release_frees_cp: true,
    sch_event_busy_rc: -11,
  },
});
