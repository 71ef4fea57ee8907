// The built-in scenarios (spec/client-and-hardware.md §8), in order.
import type { Scenario } from './types.ts';
import { scenario as s02 } from './s02-dasd-read-loop.ts';

export const SCENARIOS: readonly Scenario[] = [s02];

export function scenario_by_id_or_slug(arg: string): Scenario | undefined {
  const a = arg.toLowerCase();
  return SCENARIOS.find((s) => s.id.toLowerCase() === a || s.slug === a || `${s.id}-${s.slug}`.toLowerCase() === a);
}
