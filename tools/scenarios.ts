// --scenario / --mix option parsing: a built-in scenario by id or slug, or a user's own file.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { SCENARIOS, scenario_by_id_or_slug } from '../src/scenarios/index.ts';
import { looks_like_file } from '../src/scenarios/load.ts';

export { load_scenario } from '../src/scenarios/load.ts';

/** Synchronous check for the option parser; files are loaded later by load_scenario. */
export function scenarioArg(v: string): string {
  if (looks_like_file(v)) {
    if (!existsSync(resolve(v))) throw new InvalidArgumentError(`no scenario file '${v}'`);
    return v;
  }
  if (scenario_by_id_or_slug(v) === undefined) throw new InvalidArgumentError(`unknown scenario '${v}' (expected one of ${SCENARIOS.map((s) => `${s.id}/${s.slug}`).join(', ')}, or a .ts file)`);
  return v;
}

/** A parser of a comma list of scenarios for option `name` (each once, in the order given). */
export const scenarioListArg =
  (name: string) =>
  (v: string): string[] => {
    const xs = v.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
    if (xs.length === 0) throw new InvalidArgumentError(`${name} takes a comma list of scenarios`);
    return [...new Set(xs.map(scenarioArg))];
  };

export const mixArg = scenarioListArg('--mix');
