// Random search: schedule k picks uniformly among the enabled actors at every point, seeded seed0 + k.
import { DEFAULTS } from '../plan.ts';
import type { Search } from './api.ts';

export const random: Search = {
  name: 'random',
  explorer(plan) {
    let k = 0;
    return { next: () => ({ st: 'random', seed: (plan.seed0 + k++) >>> 0, d: plan.depth, e: DEFAULTS.expected }), record: () => undefined };
  },
};
