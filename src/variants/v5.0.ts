// v5.0: BOXED merged into BUSY, cp freed only on the final interrupt, mdev parent registered last.
// Stated as v4.18 plus the changes below (spec/driver.md).
import { derive } from './derive.ts';
import { M } from './refs.ts';
import './v4.18.ts';

export default derive('v4.18', {
  name: 'v5.0',
  label: 'B3',
  kernel: { from: 'v5.0', to: 'v5.1' },
  merged: true,
  models: 'v5.1',
  description: 'BOXED merged into BUSY, cp freed only on the final interrupt, mdev parent registered last',
  changes: [
    '"Merge BUSY and BOXED states": BOXED removed, fsm_io_request writes BUSY at entry',
    '"only free cp on final interrupt": is_final gates cp_free and the IDLE reset in io_todo',
    '"Register mediated device once all structures are initialized": probe registers the mdev parent last',
  ],
  mails: [M.A1, M.A2, M.B1, { ...M.B3, note: 'stable 5.0 backport; its diff shows this quiesce' }, { ...M.B4, note: 'stable 5.0 backport; its diff shows this release' }],
  sources: ['B-fsm-412', 'B-helper-18', 'B-ops-412', 'B-cp'],
  inferred: [
    '"only free cp on final interrupt" landed in v5.0 or v5.1; we model it for the whole range v5.0 … v5.1.',
    'sch_event busy answer kept at 0 as in v4.12; "later code" returns -EAGAIN (vfio_ccw_sch_event, vfio_ccw_drv.c), which we start at v5.2.',
  ],
  fsm: 'v5.0',
  features: {
    request_entry_state: 'BUSY',
    io_todo: { free: 'final', idle: 'mdev+final' },
    probe_registers_parent_last: true,
  },
});
