// The built-in scenarios, in order S1 … S13: workloads of a QEMU guest and the host, each a scenario module.
import type { Scenario } from './types.ts';
import { scenario as s01 } from './s01-bring-up.ts';
import { scenario as s02 } from './s02-dasd-read-loop.ts';
import { scenario as s03 } from './s03-reserve-release.ts';
import { scenario as s04 } from './s04-timeout-clear.ts';
import { scenario as s05 } from './s05-halt-during-start.ts';
import { scenario as s06 } from './s06-eagain-contention.ts';
import { scenario as s07 } from './s07-device-gone.ts';
import { scenario as s08 } from './s08-close-in-flight.ts';
import { scenario as s09 } from './s09-crw-storm.ts';
import { scenario as s10 } from './s10-final-then-unsolicited.ts';
import { scenario as s11 } from './s11-unplug-request.ts';
import { scenario as s12 } from './s12-clear-then-start.ts';
import { scenario as s13 } from './s13-many-devices.ts';

export const SCENARIOS: readonly Scenario[] = [s01, s02, s03, s04, s05, s06, s07, s08, s09, s10, s11, s12, s13];

/** A scenario by id ("S4", "s4"), slug ("timeout-clear") or both ("S4-timeout-clear"). */
export function scenario_by_id_or_slug(arg: string): Scenario | undefined {
  const a = arg.toLowerCase();
  return SCENARIOS.find((s) => s.id.toLowerCase() === a || s.slug === a || `${s.id}-${s.slug}`.toLowerCase() === a);
}
