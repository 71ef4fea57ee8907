// The search registry: one file per search in this folder, one line in this list.
import type { SearchPlan } from '../plan.ts';
import type { Explorer, Search } from './api.ts';
import { dfs } from './dfs.ts';
import { dpor } from './dpor.ts';
import { pct } from './pct.ts';
import { random } from './random.ts';

export type { Explorer, Schedule, Search } from './api.ts';

export const SEARCHES: readonly Search[] = [random, pct, dfs, dpor];

export const SEARCH_NAMES = SEARCHES.map((s) => s.name) as [string, ...string[]];

/** The explorer of a plan. `dfs` with reduction on (the default) is the dpor search. */
export function explorer_for(plan: SearchPlan, list: readonly Search[] = SEARCHES): Explorer {
  const name = plan.search === 'dfs' && plan.dpor ? 'dpor' : plan.search;
  const s = list.find((x) => x.name === name);
  if (s === undefined) throw new Error(`unknown search '${plan.search}' (${list.map((x) => x.name).join(', ')})`);
  return s.explorer(plan);
}
