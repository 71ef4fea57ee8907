// Load a scenario by id or slug, or from a user's own file (which exports `scenario` and `user`).
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SCENARIOS, scenario_by_id_or_slug } from './index.ts';
import type { Scenario } from './types.ts';
import { import_user } from '../runtime/user-module.ts';

export const looks_like_file = (s: string): boolean => s.endsWith('.ts') || s.endsWith('.js') || s.endsWith('.mjs') || s.startsWith('.') || s.startsWith('/');

export class ScenarioError extends Error {}

export async function load_scenario(arg: string): Promise<Scenario> {
  if (!looks_like_file(arg)) {
    const s = scenario_by_id_or_slug(arg);
    if (s === undefined) throw new ScenarioError(`unknown scenario '${arg}' (expected one of ${SCENARIOS.map((x) => `${x.id}/${x.slug}`).join(', ')}, or a .ts file)`);
    return s;
  }
  const url = pathToFileURL(resolve(arg)).href;
  const m = (await import_user(url)) as { scenario?: Scenario; user?: unknown };
  if (m.scenario === undefined || typeof m.user !== 'function') throw new ScenarioError(`${arg} must export \`scenario\` (a Scenario) and \`user\` (its program)`);
  return { ...m.scenario, module: url };
}

/** How a replay token names a scenario: its id, or for a user's own file its absolute path. */
export function scenario_ref(s: Scenario): string {
  return SCENARIOS.includes(s) ? s.id : fileURLToPath(s.module);
}
