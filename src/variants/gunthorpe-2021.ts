// gunthorpe-2021: Jason Gunthorpe's 2021 proposal: BROKEN/CLOSED states, OPEN/CLOSE events, FSM synchronised to the mdev.
// Stated as v5.13 plus the changes below (spec/driver.md).
import { derive } from './derive.ts';
import { M } from './refs.ts';
import { OPEN_CLOSE_FSM } from './open_close.ts';
import './v5.13.ts';

export default derive('v5.13', {
  name: 'gunthorpe-2021',
  label: 'F',
  kernel: null,
  merged: false,
  models: 'v5.15',
  description: 'Jason Gunthorpe\'s 2021 proposal: BROKEN/CLOSED states, OPEN/CLOSE events, FSM synchronised to the mdev',
  changes: [
    'NOT_OPER renamed BROKEN (absorbing), STANDBY renamed CLOSED; events OPEN and CLOSE',
    'fsm_broken and fsm_close call cp_free; INTERRUPT in CLOSED disables again',
    'quiesce becomes flush_sch inside fsm_close; no quiesce in css remove or mdev remove',
    'css probe does not enable; shutdown = CLOSE + BROKEN; reset = CLOSE + OPEN',
    'no NOT_OPER rewrite in sch_event; mdev probe writes no state',
  ],
  mails: [M.F1, { ...M.F2, note: 'merged for v5.15; part of the base' }, { ...M.F3, note: 'merged for v5.14; part of the base' }],
  inferred: [
    'Known only through the v3 diff of 1 Oct 2021 against v5.15-era code; io_todo is v5.13\'s (with the mdev check).',
    'notoper_absorbing = true: BROKEN is left only by re-probing the driver (v3 diff), and no path rewrites it.',
    'dma_unmap stays the v5.15 IOMMU notifier (exact page-start match); its reset is CLOSE + OPEN.',
  ],
  fsm: 'gunthorpe-2021',
  features: {
    quiesce: 'flush_sch-in-close',
    ...OPEN_CLOSE_FSM,
    open_failure: 'state-under-lock',
    mdev_probe_checks_notoper: false,
  },
});
