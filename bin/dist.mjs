// Which code the entries run: the JavaScript built at install (dist/, see build.mjs) when it was
// built from exactly these sources, else the TypeScript sources through tsx. Never stale code:
// dist/STAMP holds a hash of every source file and the build script, checked before use.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ROOT = new URL('../', import.meta.url);
export const DIST = new URL('dist/', ROOT);
/** The compiled trees; user files outside them always load through tsx. */
export const TREES = ['src', 'tools'];
const ENV = 'VFIO_CCW_SIM_BUILD';

/** Hash of the sources the build compiles, in a fixed order, of the build script and of the lock file. */
export function source_hash() {
  const h = createHash('sha256');
  h.update(readFileSync(new URL('bin/build.mjs', ROOT)));
  // the third-party packages bundled into dist/vendor
  try {
    h.update(readFileSync(new URL('package-lock.json', ROOT)));
  } catch {
    // an installed package has no lock file; its dependencies change only with a reinstall, which rebuilds
  }
  for (const tree of TREES) {
    const dir = fileURLToPath(new URL(`${tree}/`, ROOT));
    for (const f of readdirSync(dir, { recursive: true }).map(String).sort()) {
      if (!f.endsWith('.ts')) continue;
      h.update(`\0${tree}/${f}\0`);
      h.update(readFileSync(dir + f));
    }
  }
  return h.digest('hex');
}

function stamp() {
  try {
    return readFileSync(new URL('STAMP', DIST), 'utf8').trim();
  } catch {
    return null;
  }
}

/**
 * True when dist/ was built from the current sources. Decided once per process tree: the first
 * thread hashes the sources and leaves the verdict in the environment its workers inherit.
 * VFIO_CCW_SIM_BUILD=sources forces the sources.
 */
export function fresh() {
  const known = process.env[ENV];
  if (known === 'sources') return false;
  const s = stamp();
  if (s === null) return false;
  if (known !== undefined && known === s) return true;
  const ok = s === source_hash();
  if (ok) process.env[ENV] = s;
  return ok;
}

/** Import `rel` (a path under the root, e.g. 'tools/cli.ts') from dist/ if fresh, else the source through tsx. */
export async function load(rel) {
  if (fresh()) return import(new URL(rel.replace(/\.ts$/, '.js'), DIST).href);
  const { register } = await import('tsx/esm/api');
  register();
  return import(new URL(rel, ROOT).href);
}
