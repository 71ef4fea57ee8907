// v4.18: B1 with the whole ssch path inside one sch->lock section and the transport-mode ORB check.
// Stated as v4.12 plus the changes below (spec/driver.md).
import { derive } from './derive.ts';
import { M } from './refs.ts';
import './v4.12.ts';

export default derive('v4.12', {
  name: 'v4.18',
  label: 'B2',
  kernel: { from: 'v4.18', to: 'v4.20' },
  merged: true,
  models: 'v4.20',
  description: 'B1 with the whole ssch path inside one sch->lock section and the transport-mode ORB check',
  changes: [
    '"process ssch with interrupts disabled": set BUSY, build the ORB, ssch and the actl update in one sch->lock section',
    'ORB tm bit -> -EOPNOTSUPP; trace at err_out',
    'I/O region allocated from a kmem cache (no behavioural change)',
  ],
  mails: [M.B1, M.B2, M.B4],
  sources: ['B-helper-18', 'B-priv', 'B-ops-412', 'C0-fsm'],
  inferred: [
    'Release numbers ≈v4.18 (locked ssch) and ≤v4.20 (tm check) are approximate; both are modelled for the whole range.',
    'sch_event busy answer: v4.12 returns 0, "later code" -EAGAIN (vfio_ccw_sch_event, vfio_ccw_drv.c); the change is not dated, we keep 0 through all of B.',
  ],
  fsm: 'v4.18',
  features: { io_helper: 'one-lock-busy-first', tm_check: true },
});
