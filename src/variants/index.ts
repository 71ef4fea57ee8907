// The variant registry: every kernel version of spec/driver.md, one file each (src/variants/<name>.ts,
// each its predecessor plus its changes), and the users' own variant files once loaded (load.ts).
// Lookup by name or by kernel release. The files are found by listing this directory, so a new
// version is one new file: it comes after the DESIGN.md table's order (VARIANT_NAMES).
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { VARIANT_NAMES, type KernelRange, type Variant } from './types.ts';

export * from './types.ts';
export { derive, root, type FeatureChanges, type VariantChanges } from './derive.ts';

/** The modules of this directory that are not variants. */
const MACHINERY = new Set(['base_of', 'baseline', 'derive', 'entry', 'index', 'load', 'open_close', 'refs', 'registry', 'types']);
/** A module's name: the sources are .ts, the build in dist/ is .js */
const stem = (f: string): string | null => /^(.*)\.(?:ts|js)$/.exec(f)?.[1] ?? null;

async function load_built_ins(): Promise<Variant[]> {
  const here = new URL('.', import.meta.url);
  const files = readdirSync(fileURLToPath(here)).filter((f) => { const s = stem(f); return s !== null && !MACHINERY.has(s); }).sort();
  const out: Variant[] = [];
  for (const f of files) {
    const m = (await import(new URL(f, here).href)) as { default?: Variant };
    if (m.default === undefined || m.default.name !== stem(f)) throw new Error(`src/variants/${f}: must default-export the variant named '${stem(f)}'`);
    out.push(m.default);
  }
  const rank = (v: Variant): number => {
    const i = (VARIANT_NAMES as readonly string[]).indexOf(v.name);
    return i < 0 ? VARIANT_NAMES.length : i;
  };
  return out.sort((a, b) => rank(a) - rank(b));
}

/** Every built-in variant: DESIGN.md's table order, then any newer file by name. */
export const VARIANTS: readonly Variant[] = await load_built_ins();

// ---------------------------------------------------------------------------------------------
// Lookup

export interface KernelRelease {
  readonly major: number;
  readonly minor: number;
}

/** Last minor release of each finished major series (4.20, 5.19, 6.19: v7.0 followed); later majors are open. */
const LAST_MINOR: Readonly<Record<number, number>> = { 4: 20, 5: 19, 6: 19 };
const FIRST_RELEASE: KernelRelease = { major: 4, minor: 12 };

/**
 * "v5.15", "5.15", "v5.15.3", "v5.13-rc2" → {major, minor}. A stable point release or an -rc
 * belongs to its major.minor (an -rc has that release's merge window in it). Null if unparsable.
 */
export function parse_release(s: string): KernelRelease | null {
  const m = /^[vV]?(\d{1,2})\.(\d{1,2})(?:\.\d{1,4})?(?:-rc\d{1,2})?$/.exec(s.trim());
  if (m === null) return null;
  return { major: Number(m[1]), minor: Number(m[2]) };
}

export function compare_release(a: KernelRelease, b: KernelRelease): number {
  return a.major - b.major || a.minor - b.minor;
}

function release_of(s: string): KernelRelease {
  const r = parse_release(s);
  if (r === null) throw new Error(`registry: bad release ${s}`);
  return r;
}

export function in_range(r: KernelRelease, range: KernelRange): boolean {
  return compare_release(r, release_of(range.from)) >= 0 && (range.to === null || compare_release(r, release_of(range.to)) <= 0);
}

const BY_NAME: ReadonlyMap<string, Variant> = new Map(VARIANTS.map((v) => [v.name, v]));

/** Users' variant files loaded in this thread, by absolute path. */
const USER = new Map<string, Variant>();

/** Make a user's variant (already loaded, named by its absolute path) known to this thread. */
export function register_user_variant(v: Variant): void {
  USER.set(v.name, v);
}

/** The user variants loaded in this thread (the workers of a run load the same files). */
export function user_variants(): readonly Variant[] {
  return [...USER.values()];
}

export function variant_by_name(name: string): Variant | undefined {
  return BY_NAME.get(name) ?? USER.get(name);
}

export function format_range(k: KernelRange | null): string {
  if (k === null) return 'unmerged';
  if (k.to === null) return `${k.from}+`;
  return k.from === k.to ? k.from : `${k.from}-${k.to}`;
}

const VALID = `valid: ${VARIANTS.map((v) => v.name).join(', ')}, or a kernel release v4.12 or later (e.g. v5.15.3)`;

export type ResolveResult = { readonly ok: true; readonly variant: Variant } | { readonly ok: false; readonly error: string };

/**
 * A variant by exact name, or the merged variant whose kernel range contains a release
 * ('v5.12' → v5.3, '5.15' → v5.13, 'v6.8' → v6.3, 'v7.0' → mainline). The error is one line naming the valid names.
 */
export function try_resolve_variant(arg: string): ResolveResult {
  const byName = BY_NAME.get(arg);
  if (byName !== undefined) return { ok: true, variant: byName };
  const r = parse_release(arg);
  if (r === null) return { ok: false, error: `unknown variant '${arg}'; ${VALID}` };
  const last = LAST_MINOR[r.major];
  if (r.major < 4 || (last !== undefined && r.minor > last)) {
    return { ok: false, error: `'${arg}' is not a Linux release; ${VALID}` };
  }
  if (compare_release(r, FIRST_RELEASE) < 0) {
    return { ok: false, error: `'${arg}' predates vfio-ccw (first in v4.12); ${VALID}` };
  }
  const v = VARIANTS.find((x) => x.kernel !== null && in_range(r, x.kernel));
  if (v === undefined) return { ok: false, error: `no variant covers '${arg}'; ${VALID}` };
  return { ok: true, variant: v };
}

export class UnknownVariantError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnknownVariantError';
  }
}

/** As try_resolve_variant, but throws UnknownVariantError. */
export function resolve_variant(arg: string): Variant {
  const r = try_resolve_variant(arg);
  if (!r.ok) throw new UnknownVariantError(r.error);
  return r.variant;
}

// ---------------------------------------------------------------------------------------------
// Output for `variants` / `variants --json`

/** Plain text table: name, label, kernel range, description. */
export function format_variant_table(): string {
  const rows = [['name', 'label', 'kernel', 'description'], ...VARIANTS.map((v) => [v.name, v.label, format_range(v.kernel), v.description])];
  const width = [0, 1, 2].map((i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => (i < 3 ? cell.padEnd(width[i] ?? 0) : cell)).join('  ')).join('\n') + '\n';
}

export interface VariantJson extends Omit<Variant, 'code'> {
  readonly kernel_range: string;
  /** names of the driver functions the variant replaces */
  readonly code: readonly string[];
}

/** The registry as plain JSON data (for `--json`). */
export function variants_json(): VariantJson[] {
  return VARIANTS.map((v) => ({ ...v, code: Object.keys(v.code), kernel_range: format_range(v.kernel) }));
}
