// v5.3: the v5.3 … v5.12 line: state before eventfd, cp_free only in CP_PENDING, schib/CRW regions, REQ IRQ.
// Stated as v5.2 plus the changes below (spec/driver.md).
import { derive } from './derive.ts';
import { C, M } from './refs.ts';
import './v5.2.ts';

export default derive('v5.2', {
  name: 'v5.3',
  label: 'C53',
  kernel: { from: 'v5.3', to: 'v5.12' },
  merged: true,
  models: 'v5.12',
  description: 'the v5.3 … v5.12 line: state before eventfd, cp_free only in CP_PENDING, schib/CRW regions, REQ IRQ',
  changes: [
    'io_todo: cp_free only if is_final && CP_PENDING; IDLE before the eventfd signal',
    'cp_init error path frees only the failing chain; pa_nr = 0 on page-array allocation failure; guest_cp in private',
    'v5.4: s390dbf records keep a pointer to the mdev UUID',
    'pfch relaxed to a warning (≈v5.7)',
    'mdev core (v5.3): parent->unreg_sem orders remove_store against the parent\'s unregistration',
    'v5.8: schib and CRW regions, CRW IRQ, chp_event; v5.11: REQ IRQ and the request callback',
  ],
  commits: [C.squash_free, C.logging],
  mails: [M.C4, M.C5, M.C6, M.C7, M.misc],
  sources: ['C3-drv', 'C4-fsm', 'C11-ops'],
  inferred: [
    'The variant models the v5.11–v5.12 state of the line: async + schib + CRW regions and 3 IRQs (the CRW region came in v5.8, REQ in v5.11); the scenarios need the async region and C11-ops is the ops source.',
    'uuid_log_by_reference = true: the logging came in v5.4 and C4-fsm (v5.4–v5.12) has it; v5.3 itself did not.',
    'pfch relaxation ≈v5.7 is [not verified] (pfch in cp_init, vfio_ccw_cp.c); at v5.12 it is a warning (applied over the C53 cp rules, which stand for v5.3 … v5.6 on that point).',
  ],
  features: {
    regions: 'io+async+schib+crw',
    irqs: 3,
    chp_event: true,
    io_todo: { free: 'final+cp_pending', idle_before_signal: true },
    cp_rules: { reject_no_pfch: false, init_error_path: 'free_failed_chain', pa_nr_zero_on_alloc_fail: true },
    uuid_log_by_reference: true,
    mdev_unreg_sem: true,
  },
});
