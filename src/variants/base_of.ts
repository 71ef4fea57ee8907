// The variant a variant is compared against by default: the one it derives from.
import { variant_by_name } from './registry.ts';

/** The predecessor of a built-in variant, or undefined (the first one, or a name we do not know). */
export function base_of(variant: string): string | undefined {
  return variant_by_name(variant)?.based_on ?? undefined;
}
