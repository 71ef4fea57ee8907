// Bounded exhaustive search (DFS), stateless: every schedule is a forced prefix of choices that the
// deterministic scheduler replays from the start, then the non-preemptive default. The tree along
// the current path keeps, per decision, the alternatives still to try and those already taken;
// the bound (preemptions or delays) prunes alternatives that would spend more than it allows.
import { default_pick, is_preemption } from '../strategy.ts';
import type { Decision } from '../decision.ts';
import type { BoundBy, SearchPlan } from '../plan.ts';
import type { Explorer, Search } from './api.ts';

/** What taking `alt` at decision `d` costs against the bound. */
export function bound_cost(d: Pick<Decision, 'cur' | 'mask' | 'kind'>, alt: number, by: BoundBy): number {
  if (by === 'delays') return alt !== default_pick(d.cur, d.mask, d.kind) ? 1 : 0;
  return is_preemption(d, alt) ? 1 : 0;
}

interface Node {
  mask: number;
  cur: number;
  kind: number;
  pick: number;
  /** bound spent before this decision */
  pre: number;
  /** alternatives to try here */
  todo: number;
  done: number;
}

/**
 * DFS over the decisions of the runs so far. `alternatives` gives, per decision of a finished run,
 * the actors worth trying there (every enabled one for plain DFS; DPOR's backtrack sets); `latest`
 * takes the highest actor of a decision first, else the lowest.
 */
export function dfs_explorer(plan: SearchPlan, alternatives: (ds: readonly Decision[]) => readonly number[], latest: boolean): Explorer {
  const nodes: Node[] = [];
  let started = false;
  return {
    next() {
      if (!started) {
        started = true;
        return { st: 'prefix', seed: plan.seed0, f: [] };
      }
      for (let k = nodes.length - 1; k >= 0; k--) {
        const n = nodes[k]!;
        let cand = n.todo & ~n.done & n.mask;
        while (cand !== 0) {
          const alt = latest ? 31 - Math.clz32(cand) : 31 - Math.clz32(cand & -cand);
          cand &= ~(1 << alt);
          n.done |= 1 << alt;
          if (n.pre + bound_cost(n, alt, plan.bound_by) > plan.bound) continue;
          nodes.length = k + 1;
          n.pick = alt;
          return { st: 'prefix', seed: plan.seed0, f: nodes.map((x) => x.pick) };
        }
      }
      return null;
    },
    // The run followed the prefix `next` gave (the path so far), then went on by default.
    record(o) {
      const ds = o.sched?.decisions ?? [];
      for (let k = nodes.length; k < ds.length; k++) {
        const d = ds[k]!;
        const prev = nodes[k - 1];
        const pre = prev === undefined ? 0 : prev.pre + bound_cost(prev, prev.pick, plan.bound_by);
        nodes.push({ mask: d.mask, cur: d.cur, kind: d.kind, pick: d.pick, pre, todo: 0, done: 1 << d.pick });
      }
      const alts = alternatives(ds);
      for (let k = 0; k < alts.length && k < nodes.length; k++) nodes[k]!.todo |= alts[k]!;
    },
  };
}

/**
 * Plain DFS: every alternative within the bound. The highest actor first, deepest decision first:
 * the order of the stack of prefixes it was written as before, so budgets cut it where they did.
 */
export const dfs: Search = {
  name: 'dfs',
  explorer: (plan) => dfs_explorer(plan, (ds) => ds.map((d) => d.mask), true),
};
