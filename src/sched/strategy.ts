// The strategy registry. A strategy is one file in ./strategies implementing `Strategy`
// (./strategies/api.ts); list it here and every tool, token and search can name it.
import { mulberry32 } from '../hw/prng.ts';
import { STRATEGY_SLOTS } from '../kernel/global.ts';
import type { SchedView } from './state.ts';
import type { Strategy } from './strategies/api.ts';
import { pct } from './strategies/pct.ts';
import { prefix } from './strategies/prefix.ts';
import { random } from './strategies/random.ts';
import { sparse } from './strategies/sparse.ts';

export { default_pick, is_preemption, type PickCtx, type Strategy } from './strategies/api.ts';

const LIST = [random, pct, prefix, sparse] as const;

export type StrategyName = (typeof LIST)[number]['name'];

/** By shared-memory id (the pick path). */
export const STRATEGIES: Readonly<Record<number, Strategy>> = Object.fromEntries(LIST.map((s) => [s.id, s]));
if (Object.keys(STRATEGIES).length !== LIST.length) throw new Error('two strategies share an id');
for (const s of LIST) if ((s.slots?.words ?? 0) > STRATEGY_SLOTS) throw new Error(`strategy ${s.name}: its slots take more than the ${STRATEGY_SLOTS} words of SchedArea.slots`);

export function strategy_by_name(name: string): Strategy | undefined {
  return LIST.find((s) => s.name === name);
}

/**
 * Main, before a schedule: the common shared state, then the strategy's own. `late` actors (an
 * idle executor that runs only once work is queued for it) are scanned but draw nothing from
 * the strategy: a run in which they never wake makes the decisions it made without them.
 */
export function init_strategy(v: SchedView, o: { strategy: StrategyName; seed: number; depth: number; expected: number; actors: number[]; late?: readonly number[]; forced?: readonly number[] }): void {
  const s = strategy_by_name(o.strategy);
  if (s === undefined) throw new Error(`unknown strategy '${o.strategy}'`);
  v.set('strategy', s.id);
  v.set('seed', o.seed);
  v.set('rng', o.seed | 0);
  v.set('hi', Math.max(...o.actors, ...(o.late ?? [])) + 1);
  const forced = o.forced ?? [];
  v.set('nforced', forced.length);
  forced.forEach((a, k) => v.set('forced', a, k));
  const r = mulberry32((o.seed ^ 0x5bd1e995) >>> 0);
  s.init?.(v, { seed: o.seed, depth: o.depth, expected: o.expected, actors: o.actors, rng: r });
}
