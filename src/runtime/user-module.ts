// Import a user's own module (a scenario file) by URL. When this code runs from the build in
// dist/, a .ts file needs a compiler: tsx, with a resolve hook in front that sends the package's
// sources it imports to their built copies (bin/ts-hooks.mjs). Run from the sources, the entry
// (or vitest) already compiles .ts.
import { register } from 'node:module';
import { IN_DIST, ROOT } from './root.ts';

let hooked = false;
const DIST = new URL('dist/', ROOT).href;

/**
 * Register the hooks once, and only for a module outside dist/: a built module (every built-in
 * scenario) needs no compiler, and hooks make every later import in the thread a round trip to
 * the hooks thread (about a second of each worker's start-up).
 */
async function hook(url: string): Promise<void> {
  if (hooked || !IN_DIST || url.startsWith(DIST)) return;
  hooked = true;
  const root = ROOT.href;
  // tsx first: hooks registered later run first, so the redirect sees every specifier before it.
  const tsx = (await import('tsx/esm/api')) as { register: () => unknown };
  tsx.register();
  register(new URL('bin/ts-hooks.mjs', root), { data: { root, dist: DIST } });
}

export async function import_user(url: string): Promise<Record<string, unknown>> {
  // a user's bundle imports the package's .ts sources, which the hook sends to dist/
  await hook(url);
  return (await import(url)) as Record<string, unknown>;
}
