// mainline: current mainline: v6.2 behaviour (the reference model).
// Stated as v6.2 plus the changes below (spec/driver.md).
import { derive } from './derive.ts';
import './v6.2.ts';

export default derive('v6.2', {
  name: 'mainline',
  label: 'G',
  kernel: { from: 'v6.3', to: null },
  merged: true,
  models: 'v6.3',
  description: 'current mainline: v6.2 behaviour (the reference model)',
  changes: [
    'no FSM change: eventfd_signal loses its count, sch->lock embedded, cp_get_orb(cp, sch), dma32 helpers',
  ],
  sources: ['G-fsm', 'G-drv', 'G-ops', 'G-priv', 'G-cp', 'G-chp', 'G-async', 'G-uapi', 'G-doc'],
  inferred: [
    'Read from a 2025 mirror whose comments were altered; the code was cross-checked (§0.1, §17).',
    'Changes seen only in a machine transliteration of a newer tree (io_mutex across cp_free in io_todo, crw_lock, notoper_work) are not modelled (§17).',
    'cp_update_scsw: §10.4 says "otherwise leave it" (cpa outside every chain); the C stores scsw->cmd.cpa back whenever the cp is initialised, a plain write to the IRB slot. The C is followed.',
  ],
});
