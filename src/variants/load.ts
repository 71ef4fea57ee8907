// A user's variant file: `--variant ./my-change.ts`. The file default-exports a variant made with
// `derive` from the public API. Main type-checks and imports it; every worker of the run imports
// it again through entry.ts (as user scenario files are loaded), under the same name: the file's
// absolute path. The content hash goes into replay tokens.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { register_user_variant, try_resolve_variant, variant_by_name, user_variants } from './index.ts';
import type { Variant } from './types.ts';
import type TS from 'typescript';
import { load_user_module } from '../scenarios/load.ts';

export const looks_like_variant_file = (s: string): boolean => s.endsWith('.ts') || s.endsWith('.js') || s.endsWith('.mjs') || s.startsWith('.') || s.startsWith('/');

/** A variant file that cannot be used: the message is one line naming the file. */
export class VariantFileError extends Error {}

export function variant_file_hash(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** The first type error of `path` (checked with the project's strict options), or null. */
async function type_error(path: string): Promise<string | null> {
  let ts: typeof TS;
  try {
    ts = (await import('typescript')).default;
  } catch {
    return null; // no compiler installed next to the package: load without the check
  }
  const cfg = ts.findConfigFile(new URL('../..', import.meta.url).pathname, ts.sys.fileExists);
  const base = cfg === undefined ? {} : ts.parseJsonConfigFileContent(ts.readConfigFile(cfg, ts.sys.readFile).config, ts.sys, resolve(cfg, '..')).options;
  // ES modules wherever the file lives; only this file's own diagnostics (the project is checked by tsc)
  const program = ts.createProgram([path], {
    ...base, noEmit: true, skipLibCheck: true, noUnusedLocals: false, noUnusedParameters: false,
    module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, moduleDetection: ts.ModuleDetectionKind.Force,
  });
  const sf = program.getSourceFile(path);
  const diags = [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)].filter((x) => x.category === ts.DiagnosticCategory.Error);
  const d = diags[0];
  if (d === undefined) return null;
  const where = d.file !== undefined && d.start !== undefined ? `line ${d.file.getLineAndCharacterOfPosition(d.start).line + 1}: ` : '';
  return where + ts.flattenDiagnosticMessageText(d.messageText, ' ');
}

function is_variant(x: unknown): x is Variant {
  const v = x as Partial<Variant> | null | undefined;
  return typeof v === 'object' && v !== null && typeof v.fsm === 'string' && typeof v.features === 'object' && typeof v.code === 'object' && typeof v.base === 'string';
}

/**
 * Import a user's variant file and make it known to this thread under its absolute path.
 * `check` (main): the file is type-checked first. Errors are one line naming the file.
 */
export async function load_variant_file(arg: string, opts: { check: boolean } = { check: true }): Promise<Variant> {
  const path = resolve(arg);
  if (!existsSync(path)) throw new VariantFileError(`variant file ${arg}: no such file`);
  const hash = variant_file_hash(path);
  const known = variant_by_name(path);
  if (known !== undefined && known.hash === hash) return known;
  if (opts.check) {
    const err = await type_error(path);
    if (err !== null) throw new VariantFileError(`variant file ${arg} does not type-check: ${err}`);
  }
  let m: { default?: unknown; variant?: unknown };
  try {
    // bundled like a scenario file: it loads from any directory, and its errors name file and line
    m = (await load_user_module(path)).exports as typeof m;
  } catch (e) {
    // the loader names "<file>:<line>: …"; say it once, as this file's line
    const msg = (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
    const at = /^(.*?):(\d+): (?:threw while loading: )?(.*)$/.exec(msg);
    throw new VariantFileError(at !== null && at[1] === path ? `variant file ${arg} does not load: ${at[3]} (line ${at[2]})` : `variant file ${arg} does not load: ${msg}`);
  }
  const v = m.default ?? m.variant;
  if (!is_variant(v)) throw new VariantFileError(`variant file ${arg} must default-export a variant made with derive('<base>', { … })`);
  const user: Variant = { ...v, name: path, path, hash };
  register_user_variant(user);
  return user;
}

/**
 * A variant named on the command line or in a token: a built-in name, a kernel release, or a
 * file. Returns the variant's name as runs use it (a file's absolute path).
 */
export async function load_variant(arg: string, opts: { check: boolean } = { check: true }): Promise<Variant> {
  if (looks_like_variant_file(arg)) return load_variant_file(arg, opts);
  const r = try_resolve_variant(arg);
  if (!r.ok) throw new VariantFileError(r.error);
  return r.variant;
}

/** Modules each actor worker preloads so that it knows the user variants this thread knows. */
export function user_variant_modules(): string[] {
  return user_variants().map((v) => `${new URL('./entry.ts', import.meta.url).href}?file=${encodeURIComponent(v.name)}`);
}
