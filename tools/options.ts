// Typed option parsers shared by every subcommand: a bad value is one line naming the option.
import { HW_CONFIG_DEFAULT, type HwConfig } from '../src/hw/config.ts';
import { InvalidArgumentError } from 'commander';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { try_resolve_variant } from '../src/variants/index.ts';
import { VariantFileError, load_variant_file, looks_like_variant_file } from '../src/variants/load.ts';
import { UsageError } from './errors.ts';

export function positiveNumber(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} takes a positive number, got '${v}'`);
    return n;
  };
}

export function nonNegativeNumber(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name} takes a number >= 0, got '${v}'`);
    return n;
  };
}

export function positiveInt(name: string, max = Number.MAX_SAFE_INTEGER) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0 || n > max) throw new InvalidArgumentError(`${name} takes a whole number from 1 to ${max}, got '${v}'`);
    return n;
  };
}

export function uint32(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new InvalidArgumentError(`${name} takes a whole number from 0 to 4294967295, got '${v}'`);
    return n;
  };
}

export function probability(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError(`${name} takes a probability from 0 to 1, got '${v}'`);
    return n;
  };
}

/**
 * --variant: a name, any kernel release inside a variant's range, or a user's variant file (here
 * only checked to exist; the CLI loads it before the command runs, see load_variant_options).
 */
export function variantName(v: string): string {
  if (looks_like_variant_file(v)) {
    if (!existsSync(resolve(v))) throw new InvalidArgumentError(`no variant file '${v}'`);
    return v;
  }
  const r = try_resolve_variant(v);
  if (!r.ok) throw new InvalidArgumentError(r.error);
  return r.variant.name;
}

/** A comma list out of a fixed set. */
/** Exactly one of `allowed`. */
export function oneValue<T extends string>(name: string, allowed: readonly T[]) {
  return (v: string): T => {
    if (!(allowed as readonly string[]).includes(v.trim())) throw new InvalidArgumentError(`${name}: unknown '${v}' (expected one of ${allowed.join(', ')})`);
    return v.trim() as T;
  };
}

export function oneOf<T extends string>(name: string, allowed: readonly T[]) {
  return (v: string): T[] => {
    const xs = v.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
    for (const x of xs) if (!(allowed as readonly string[]).includes(x)) throw new InvalidArgumentError(`${name}: unknown '${x}' (expected ${allowed.join(', ')} or none)`);
    return xs as T[];
  };
}

/**
 * Machine overrides, `key=value` pairs separated by commas: numbers (`p_pci=1`), µs ranges as
 * `min:max` (`start_latency_us=0:20`), `halt=ignore`, `hung=true`. Keys and types are those of
 * HwConfig; anything else is a usage error naming the option.
 */
export function hwOverrides(name: string) {
  return (v: string): Partial<HwConfig> => {
    const out: Record<string, unknown> = {};
    for (const part of v.split(',').map((x) => x.trim()).filter((x) => x.length > 0)) {
      const eq = part.indexOf('=');
      const key = eq < 0 ? part : part.slice(0, eq);
      const val = eq < 0 ? '' : part.slice(eq + 1);
      if (!Object.hasOwn(HW_CONFIG_DEFAULT, key)) throw new InvalidArgumentError(`${name}: unknown machine setting '${key}' (expected one of ${Object.keys(HW_CONFIG_DEFAULT).join(', ')})`);
      const def = (HW_CONFIG_DEFAULT as unknown as Record<string, unknown>)[key];
      const bad = (): never => {
        throw new InvalidArgumentError(`${name}: '${part}' is not a valid ${key}`);
      };
      if (Array.isArray(def) && key.endsWith('_us')) {
        const m = /^(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$/.exec(val);
        if (m === null || Number(m[1]) > Number(m[2])) bad();
        out[key] = [Number(m![1]), Number(m![2])];
      } else if (typeof def === 'number') {
        const n = Number(val);
        if (val === '' || !Number.isFinite(n) || n < 0 || (key.startsWith('p_') && n > 1)) bad();
        out[key] = n;
      } else if (typeof def === 'boolean') {
        if (val !== 'true' && val !== 'false') bad();
        out[key] = val === 'true';
      } else if (key === 'halt' || key === 'clear') {
        if (val !== 'answer' && val !== 'ignore') bad();
        out[key] = val;
      } else bad();
    }
    return out as Partial<HwConfig>;
  };
}

/**
 * Load the users' variant files a command names (--variant, one or a list) and put their absolute
 * paths, the names runs use, in place. A file that does not load or type-check is a usage error.
 */
export async function load_variant_options(cmd: { getOptionValue(k: string): unknown; getOptionValueSource(k: string): string | undefined; setOptionValueWithSource(k: string, v: unknown, source: string): unknown }): Promise<void> {
  const v = cmd.getOptionValue('variant');
  const one = async (x: string): Promise<string> => {
    if (!looks_like_variant_file(x)) return x;
    try {
      return (await load_variant_file(x)).name;
    } catch (e) {
      if (e instanceof VariantFileError) throw new UsageError(e.message);
      throw e;
    }
  };
  // keep where the value came from: a command may refuse an option the user gave (trace with a token)
  const set = (x: unknown): unknown => cmd.setOptionValueWithSource('variant', x, cmd.getOptionValueSource('variant') ?? 'default');
  if (typeof v === 'string') set(await one(v));
  else if (Array.isArray(v)) set(await Promise.all(v.map((x) => one(String(x)))));
}

/**
 * A token's variant: a user's file is loaded again (a usage error if it no longer loads), and a
 * file whose content changed since the token was made is said in one line on stderr.
 */
export async function load_token_variant(spec: { v: string; vh?: string }, cmd: string, warn: (s: string) => void): Promise<void> {
  if (!looks_like_variant_file(spec.v)) return;
  let hash: string | undefined;
  try {
    hash = (await load_variant_file(spec.v)).hash;
  } catch (e) {
    if (e instanceof VariantFileError) throw new UsageError(`${cmd}: ${e.message}`);
    throw e;
  }
  if (spec.vh !== undefined && hash !== spec.vh) warn(`${cmd}: variant file ${spec.v} changed since the token was made (sha256 ${spec.vh.slice(0, 12)}… now ${String(hash).slice(0, 12)}…); the schedule may not replay`);
}
