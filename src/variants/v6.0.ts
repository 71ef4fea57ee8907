// v6.0: Eric Farman's rework: OPEN/CLOSE events, NOT_OPER dead end, reset = CLOSE + OPEN, .dma_unmap with a range.
// Stated as v5.13 plus the changes below (spec/driver.md).
import { derive } from './derive.ts';
import { M } from './refs.ts';
import { OPEN_CLOSE_FSM } from './open_close.ts';
import './v5.13.ts';

export default derive('v5.13', {
  name: 'v6.0',
  label: 'E0',
  kernel: { from: 'v6.0', to: 'v6.0' },
  merged: true,
  models: 'v6.0',
  description: 'Eric Farman\'s rework: OPEN/CLOSE events, NOT_OPER dead end, reset = CLOSE + OPEN, .dma_unmap with a range',
  changes: [
    'events OPEN and CLOSE at open_device/close_device; NOT_OPER absorbing; fsm_notoper and fsm_close call cp_free',
    'css probe does not enable; mdev probe writes no state; sch_event does not rewrite NOT_OPER',
    'io_todo without the mdev check; quiesce only inside fsm_close, no state write',
    'reset = CLOSE + OPEN; .dma_unmap(iova, length) with a range check',
    'UUID removed from the debug log',
  ],
  mails: [M.E0, M.E1, M.E2, M.E3, M.E4, M.E5, M.E6, M.E7],
  inferred: [
    'The series\' intermediate states (M-E4 … M-E6 and M-E5 … M-E7) are not modelled; the release has the final table and the quiesce return-code fix.',
  ],
  fsm: 'v6.0',
  features: {
    io_todo: { idle: 'freed' },
    cp_rules: { iova_pinned_range: true },
    quiesce: 'in-close-lock-held',
    ...OPEN_CLOSE_FSM,
    dma_unmap: 'callback-range',
    uuid_log_by_reference: false,
  },
});
