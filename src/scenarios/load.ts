// Load a scenario by id or slug, or from a user's own file (which exports `scenario` and `user`).
//
// A user's file is bundled with esbuild into one ES module before it is imported, so it loads the
// same way in any directory: as `.ts` or `.mts`, inside this repository or in a project with no
// `"type": "module"` (where a `.ts` file would otherwise be read as CommonJS and fail with
// ERR_REQUIRE_CYCLE_MODULE). Its own helper files are bundled with it; this package (imported as
// `vfio-ccw-sim` or by a relative path into it) and other packages stay outside the bundle, named
// by absolute URL, so the user's code shares the one instance of the kernel seam the workers run.
// Every error names the file and the line.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
import { builtinModules, createRequire, findSourceMap } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SCENARIOS, scenario_by_id_or_slug } from './index.ts';
import type { Scenario } from './types.ts';
import { import_user } from '../runtime/user-module.ts';
import { ROOT } from '../runtime/root.ts';

export const looks_like_file = (s: string): boolean => /\.(?:[cm]?ts|[cm]?js)$/.test(s) || s.startsWith('.') || s.startsWith('/');

/** A user file that cannot be used: the message is one line naming the file (and line where known). */
export class ScenarioError extends Error {}

// the package's root from the sources or from dist/ alike
const PKG_ROOT = resolve(fileURLToPath(ROOT));
const PKG_INDEX = resolve(PKG_ROOT, 'src/index.ts');
const inside_pkg = (p: string): boolean => {
  const r = relative(PKG_ROOT, p);
  return r !== '' && !r.startsWith('..') && !isAbsolute(r) && !r.startsWith('node_modules');
};

/** bundle URL -> the user's file it was built from */
const SOURCES = new Map<string, string>();

/** The user's file a loaded module URL stands for (the URL itself if it is not a bundle). */
export function user_source(url: string): string {
  return SOURCES.get(url) ?? (url.startsWith('file:') ? fileURLToPath(url) : url);
}

const line_of = (file: string, l: number | undefined): string => (l !== undefined ? `${file}:${l}` : file);

/** Bundle a user's TypeScript/JavaScript file into one ES module; returns its file URL. */
async function bundle(file: string): Promise<string> {
  const esbuild = await import('esbuild');
  const req = createRequire(file);
  // the source map names the user's files relative to the bundle's directory
  const dir = resolve(tmpdir(), 'vfio-ccw-sim-user');
  let out: string;
  try {
    const r = await esbuild.build({
      entryPoints: [file],
      bundle: true,
      write: false,
      outfile: resolve(dir, 'bundle.mjs'),
      format: 'esm',
      platform: 'node',
      target: 'node20',
      sourcemap: 'inline',
      sourcesContent: false,
      logLevel: 'silent',
      plugins: [
        {
          name: 'vfio-ccw-sim-externals',
          setup(b) {
            b.onResolve({ filter: /.*/ }, async (a) => {
              if (a.kind === 'entry-point' || a.pluginData === 'inner') return undefined;
              const spec = a.path;
              if (spec.startsWith('node:') || builtinModules.includes(spec)) return { path: spec, external: true };
              if (spec === 'vfio-ccw-sim') return { path: pathToFileURL(PKG_INDEX).href, external: true };
              if (spec.startsWith('.') || spec.startsWith('/')) {
                const r2 = await b.resolve(spec, { resolveDir: a.resolveDir, kind: a.kind, importer: a.importer, pluginData: 'inner' });
                if (r2.errors.length > 0) return { errors: r2.errors };
                return inside_pkg(r2.path) ? { path: pathToFileURL(r2.path).href, external: true } : { path: r2.path };
              }
              // another package: load it from where the user's file would
              try {
                return { path: pathToFileURL(req.resolve(spec)).href, external: true };
              } catch {
                return { path: spec, external: true };
              }
            });
          },
        },
      ],
    });
    out = r.outputFiles[0]!.text;
  } catch (e) {
    const errs = (e as { errors?: { text: string; location?: { file: string; line: number } | null }[] }).errors;
    const first = errs?.[0];
    if (first !== undefined) throw new ScenarioError(`${line_of(first.location?.file !== undefined ? resolve(first.location.file) : file, first.location?.line)}: ${first.text}`);
    throw new ScenarioError(`${file}: ${(e as Error).message.split('\n')[0]}`);
  }
  mkdirSync(dir, { recursive: true });
  const name = createHash('sha256').update(file).update('\0').update(out).digest('hex').slice(0, 16);
  const target = resolve(dir, `${name}.mjs`);
  // search jobs bundle the same file at once: write aside, then rename, so no import reads half a file
  const aside = `${target}.${process.pid}.${threadId}.tmp`;
  writeFileSync(aside, out);
  renameSync(aside, target);
  const url = pathToFileURL(target).href;
  SOURCES.set(url, file);
  return url;
}

/** Where in the user's file an error was thrown: "file:line", through the bundle's source map. */
export function user_frame(stack: string | undefined, url: string): string | null {
  const file = user_source(url);
  const bundlePath = url.startsWith('file:') ? fileURLToPath(url) : url;
  for (const m of (stack ?? '').matchAll(/(file:\/\/\S+?|\/\S+?):(\d+):(\d+)/g)) {
    const p = m[1]!.startsWith('file:') ? fileURLToPath(m[1]!) : m[1]!;
    if (p === file) return `${file}:${m[2]}`;
    if (p !== bundlePath) continue;
    const entry = findSourceMap(bundlePath)?.findEntry(Number(m[2]) - 1, Number(m[3]) - 1) as { originalSource?: string; originalLine?: number } | undefined;
    if (entry?.originalSource !== undefined && entry.originalLine !== undefined) {
      const src = entry.originalSource.startsWith('file:') ? fileURLToPath(entry.originalSource) : resolve(dirname(bundlePath), entry.originalSource);
      return `${src}:${entry.originalLine + 1}`;
    }
    return file;
  }
  return null;
}

/** A stack from a worker, with the bundle's positions turned back into the user's file and line. */
export function map_stack(stack: string, url: string): string {
  const bundlePath = url.startsWith('file:') ? fileURLToPath(url) : url;
  const map = findSourceMap(bundlePath);
  if (map === undefined) return stack;
  return stack.replace(/(?:file:\/\/)?(\/[^\s():]+\.mjs):(\d+):(\d+)/g, (all, p: string, l: string, c: string) => {
    if (p !== bundlePath) return all;
    const e = map.findEntry(Number(l) - 1, Number(c) - 1) as { originalSource?: string; originalLine?: number; originalColumn?: number };
    if (e.originalSource === undefined || e.originalLine === undefined) return all;
    const src = e.originalSource.startsWith('file:') ? fileURLToPath(e.originalSource) : resolve(dirname(bundlePath), e.originalSource);
    return `${src}:${e.originalLine + 1}:${(e.originalColumn ?? 0) + 1}`;
  });
}

/** Load a user's module (a scenario, an invariant or a variant file): any directory, .ts or .mts; errors name the file and line. */
export async function load_user_module(arg: string): Promise<{ url: string; file: string; exports: Record<string, unknown> }> {
  const file = resolve(arg);
  try {
    readFileSync(file);
  } catch {
    throw new ScenarioError(`${arg}: no such file`);
  }
  const url = await bundle(file);
  // the bundle carries an inline source map: stacks then name the user's lines
  process.setSourceMapsEnabled(true);
  try {
    return { url, file, exports: await import_user(url) };
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    throw new ScenarioError(`${user_frame(err.stack, url) ?? file}: threw while loading: ${err.message.split('\n')[0]}`);
  }
}

export async function load_scenario(arg: string): Promise<Scenario> {
  if (!looks_like_file(arg)) {
    const s = scenario_by_id_or_slug(arg);
    if (s === undefined) throw new ScenarioError(`unknown scenario '${arg}' (expected one of ${SCENARIOS.map((x) => `${x.id}/${x.slug}`).join(', ')}, or a .ts file)`);
    return s;
  }
  const m = await load_user_module(arg);
  const sc = m.exports.scenario as Scenario | undefined;
  const missing = [sc === undefined || typeof sc !== 'object' ? '`scenario` (a Scenario)' : null, typeof m.exports.user !== 'function' ? '`user` (its program)' : null].filter((x) => x !== null);
  if (missing.length > 0) throw new ScenarioError(`${m.file}: does not export ${missing.join(' and ')}`);
  return { ...sc!, module: m.url };
}

/** Is this scenario a user's own file (loaded by load_scenario)? */
export const is_user_scenario = (s: Scenario): boolean => SOURCES.has(s.module);

/** How a replay token names a scenario: its id, or for a user's own file its absolute path. */
export function scenario_ref(s: Scenario): string {
  return SCENARIOS.includes(s) ? s.id : user_source(s.module);
}
