// The open/close FSM model that Jason Gunthorpe proposed in 2021 and Eric Farman's rework merged
// for v6.0: the same feature settings in both variants, written once.
import type { FeatureChanges } from './derive.ts';

export const OPEN_CLOSE_FSM = {
  open_close_fsm_events: true,
  probe_enables_subchannel: false,
  mdev_create_sets_idle: false,
  mdev_remove: 'unregister',
  release_frees_cp: false,
  sch_event_rewrite: false,
  notoper_frees_cp: true,
  notoper_absorbing: true,
  reset: 'close+open',
} as const satisfies FeatureChanges;
