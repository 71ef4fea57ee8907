// morel-2018: Pierre Morel's 2018 FSM refactoring: actions return the next state, IRQ work moved to the work item, ONLINE/OFFLINE/QUIESCING.
// Stated as v4.12 plus the changes below (spec/driver.md).
import { derive } from './derive.ts';
import { M } from './refs.ts';
import './v4.12.ts';

export default derive('v4.12', {
  name: 'morel-2018',
  label: 'A',
  kernel: null,
  merged: false,
  models: 'v4.17',
  description: 'Pierre Morel\'s 2018 FSM refactoring: actions return the next state, IRQ work moved to the work item, ONLINE/OFFLINE/QUIESCING',
  changes: [
    'states NOT_OPER, STANDBY, IDLE, BUSY, QUIESCING (+ BOXED in the snapshot); events INIT, NOT_OPER, SSCH_REQ, INTERRUPT, SCHIB_CHANGED, ONLINE, OFFLINE',
    'each action returns the next state; the dispatcher assigns it and is serialised [inferred]',
    'the INTERRUPT event (fsm_irq) runs in the io_todo work item; cp_free on every solicited interrupt',
    'fsm_io_request: no fctl check, no tm check; fsm_io_helper takes no lock',
    'reset/remove through OFFLINE and QUIESCING instead of the quiesce loop [inferred]',
    'fsm_quiescing returns the raw cio_cancel_halt_clear result as the next state',
  ],
  mails: [M.A0, { ...M.A1, note: 'the BUSY/BOXED merge reached mainline for v5.0' }, { ...M.A2, note: 'the probe-ordering patch reached mainline for v5.0' }],
  sources: ['A-fsm'],
  inferred: [
    'Only the cover letter (an excerpt) and one mid-series vfio_ccw_fsm.c exist. Enum values follow the cover-letter order [inferred]; BOXED, still in the snapshot and removed by patch 9, is given value 5 by us.',
    'Base release: the series is dated 19 Apr 2018, so we take the v4.17 development tree as its base [inferred from the date]; everything outside fsm.c (ops, drv, cp) is the mainline of then (B1).',
    'fsm_dispatch: "Make FSM functions atomic" is read as a mutex around dispatch [inferred].',
    'io_todo: fsm_irq in the work item is inferred from patch 1 ("Moving state change out of IRQ context").',
    'reset and mdev remove: OFFLINE then wait on private->completion while QUIESCING (plausible reconstruction); reset then fires ONLINE.',
    '"Let user wait when busy on IO" (patch 10) is not modelled: its mechanism was not available; the snapshot answers -EBUSY (fsm_io_busy).',
    'sch_event goes through the SCHIB_CHANGED event instead of the B rewrite [inferred from the table]; sch_event_rewrite = false.',
    'write handler: the B pre-filter (-EACCES) and the IDLE reset on error are kept, since ops.c was not part of the snapshot [inferred].',
    'IRQ path: the css irq callback only copies the IRB into the slot and queues io_work; io_todo fires INTERRUPT; the IRQ does not complete private->completion, fsm_quiescing_done does [inferred from patch 1 and the snapshot\'s fsm_quiescing_done].',
    'probe: NOT_OPER (kzalloc), INIT (fsm_init: ISC, STANDBY) fired before sch->lock is taken since the dispatcher sleeps, then the B enable; mdev create fires ONLINE instead of writing IDLE, so an mdev created again after OFFLINE disabled the subchannel gets it enabled [inferred].',
    'reset answers 0 if ONLINE reached IDLE, else -EIO (no answer in the material); the QUIESCING wait has no timeout ("block ... until", the cover letter); css shutdown goes offline the same way [inferred].',
    'fsm_disabled_irq runs from the work item with no sch->lock: the snapshot names no lock for it; cio.c asserts none, so the unlocked disable shows only as the unlocked schib write (I18, race detector).',
    'fsm_quiescing returns the raw cio_cancel_halt_clear result, as the snapshot does (its BOXED row is kept too): 0 reads as NOT_OPER, -ENODEV/-EIO leave a state outside the table and the next event BUGs.',
  ],
  fsm: 'morel-2018',
  features: {
    fsm_dispatch: 'serialised-returns-state',
    io_helper: 'no-lock',
    halt_clear_on_io_region: 'no-fctl-check',
    io_todo: { in_fsm_irq: true, idle: 'returned' },
    quiesce: 'quiescing-state',
    mdev_remove: 'offline-event',
    sch_event_rewrite: false,
    reset: 'offline+online',
  },
});
