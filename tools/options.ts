// Typed option parsers shared by every subcommand: a bad value is one line naming the option.
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
