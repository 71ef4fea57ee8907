// PCT (Burckhardt et al., ASPLOS 2010): random distinct priorities, run the highest-priority
// enabled actor; at d-1 change points spread over the expected steps, the running actor drops
// below everyone.
import type { Strategy } from './api.ts';

/** Consecutive picks of one actor before the fairness bound lowers it. */
const FAIR = 4096;

export const pct: Strategy = {
  name: 'pct',
  id: 2,
  init(v, o) {
    v.set('fair_low', -64);
    // priorities: a random permutation of d .. d+n-1 (all above the change-point values)
    const ps = o.actors.map((_, k) => o.depth + k);
    for (let k = ps.length - 1; k > 0; k--) {
      const j = o.rng() % (k + 1);
      [ps[k], ps[j]] = [ps[j]!, ps[k]!];
    }
    o.actors.forEach((a, k) => v.set('prio', ps[k]!, a));
    for (let k = 0; k < Math.max(0, o.depth - 1) && k < 16; k++) v.set('cps', 1 + (o.rng() % Math.max(1, o.expected)), k);
  },
  pick(c) {
    const v = c.v;
    const A = v.a;
    const w = v.w;
    const d = A[w.depth]!;
    for (let k = 0; k < d - 1; k++) {
      if (A[w.cps + k] === c.step && c.current >= 0) A[w.prio + c.current] = -(k + 1);
    }
    let best = -1;
    let bp = -Infinity;
    for (let a = 0, m = c.mask; m !== 0; a++, m >>>= 1) {
      if ((m & 1) === 0) continue;
      const p = A[w.prio + a]!;
      if (p > bp) {
        bp = p;
        best = a;
      }
    }
    // Fairness bound: an actor that polls without blocking (a spinning client thread) would
    // starve everyone below it forever; after FAIR consecutive picks it drops to the bottom.
    const run = best === c.current ? A[w.fair_run]! + 1 : 0;
    A[w.fair_run] = run;
    if (run >= FAIR && (c.mask & ~(1 << best)) !== 0) {
      v.set('prio', v.get('fair_low') - 1, best);
      v.set('fair_low', v.get('fair_low') - 1);
      v.set('fair_run', 0);
      return pct.pick(c);
    }
    return best;
  },
};
