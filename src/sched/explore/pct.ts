// PCT search (Burckhardt et al., ASPLOS 2010; the pick is src/sched/strategies/pct.ts): schedule k
// is seeded seed0 + k, its change points spread over the steps a run takes, which one random
// calibration run measures first.
import { DEFAULTS } from '../plan.ts';
import type { Search } from './api.ts';

/** The calibration run's seed, apart from every schedule's. */
const CALIBRATION = 0x7f4a7c15;

export const pct: Search = {
  name: 'pct',
  explorer(plan) {
    let expected: number | null = null;
    let k = 0;
    return {
      next: () => (expected === null ? { st: 'random', seed: plan.seed0 ^ CALIBRATION, probe: true } : { st: 'pct', seed: (plan.seed0 + k++) >>> 0, d: plan.depth, e: expected }),
      record(o) {
        expected ??= Math.max(16, o.sched?.steps ?? DEFAULTS.expected);
      },
    };
  },
};
