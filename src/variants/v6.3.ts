// v6.3: v6.2 behaviour, the model the spec calls G ("mainline" until the CRW list got its lock).
// Stated as v6.2 plus the changes below (spec/driver.md).
import { derive } from './derive.ts';
import './v6.2.ts';

export default derive('v6.2', {
  name: 'v6.3',
  label: 'G',
  kernel: { from: 'v6.3', to: 'v6.19' },
  merged: true,
  models: 'v6.3',
  description: 'v6.2 behaviour, unlocked CRW list: the model of the 2025 tree',
  changes: [
    'no FSM change: eventfd_signal loses its count, sch->lock embedded, cp_get_orb(cp, sch), dma32 helpers',
  ],
  sources: ['G-fsm', 'G-drv', 'G-ops', 'G-priv', 'G-cp', 'G-chp', 'G-async', 'G-uapi', 'G-doc'],
  inferred: [
    'Models v6.3, read from a 2025 mirror whose comments were altered; the code was cross-checked against torvalds/linux.',
    'Range end v6.19 [not verified]: the CRW-list lock, io_todo under io_mutex and the work drains on close are read only in a tree after the v7.0 merge window (torvalds/linux @ 16b0798024c0, which already uses kzalloc_obj); no stored copy names the release that took them. They are the mainline variant.',
    'vfio core: v6.5 moved the group unhook before the unregister wait (vfio_main.c); this variant keeps the v6.3 order (after the wait), the mainline variant has the new one.',
    'cp_update_scsw: the spec says "otherwise leave it" (cpa outside every chain); the C stores scsw->cmd.cpa back whenever the cp is initialised, a plain write to the IRB slot. The C is followed.',
  ],
});
