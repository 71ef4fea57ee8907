// Typed option parsers shared by every subcommand: a bad value is one line naming the option.
import { HW_CONFIG_DEFAULT, type HwConfig } from '../src/hw/config.ts';
import { InvalidArgumentError } from 'commander';
import { try_resolve_variant } from '../src/variants/registry.ts';

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

/** --variant: a name or any kernel release inside a variant's range. */
export function variantName(v: string): string {
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
