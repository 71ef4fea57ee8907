// --scenario / --mix: a built-in scenario by id or slug, or a user's own scenario file.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidArgumentError } from 'commander';
import { SCENARIOS, scenario_by_id_or_slug } from '../src/scenarios/index.ts';
import type { Scenario } from '../src/scenarios/types.ts';

export const looks_like_file = (s: string): boolean => s.endsWith('.ts') || s.endsWith('.js') || s.endsWith('.mjs') || s.startsWith('.') || s.startsWith('/');

/** Synchronous check for the option parser; files are loaded later by load_scenario. */
export function scenarioArg(v: string): string {
  if (looks_like_file(v)) {
    if (!existsSync(resolve(v))) throw new InvalidArgumentError(`no scenario file '${v}'`);
    return v;
  }
  if (scenario_by_id_or_slug(v) === undefined) throw new InvalidArgumentError(`unknown scenario '${v}' (expected one of ${SCENARIOS.map((s) => `${s.id}/${s.slug}`).join(', ')}, or a .ts file)`);
  return v;
}

export function mixArg(v: string): string[] {
  const xs = v.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (xs.length === 0) throw new InvalidArgumentError('--mix takes a comma list of scenarios');
  return xs.map(scenarioArg);
}

export async function load_scenario(arg: string): Promise<Scenario> {
  if (!looks_like_file(arg)) {
    const s = scenario_by_id_or_slug(arg);
    if (s === undefined) throw new InvalidArgumentError(`unknown scenario '${arg}'`);
    return s;
  }
  const url = pathToFileURL(resolve(arg)).href;
  const m = (await import(url)) as { scenario?: Scenario; user?: unknown };
  if (m.scenario === undefined || typeof m.user !== 'function') throw new InvalidArgumentError(`${arg} must export \`scenario\` (a Scenario) and \`user\` (its program)`);
  return { ...m.scenario, module: url };
}
