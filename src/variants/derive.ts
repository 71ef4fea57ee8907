// derive(base, changes): a variant stated as its predecessor plus what changed, as a kernel
// developer reads a patch series. Built-in variants (src/variants/<name>.ts) and a user's patch
// file are written the same way.
import type { FsmName } from '../driver/fsm_tables.ts';
import type { CommitRef, CpRules, DriverCode, IoTodoRule, KernelRange, MailRef, SpecLabel, Variant, VariantFeatures, VariantName } from './types.ts';

/** Features as a change states them: rule objects name only the fields that changed. */
export type FeatureChanges = Omit<Partial<VariantFeatures>, 'io_todo' | 'cp_rules'> & {
  readonly io_todo?: Partial<IoTodoRule>;
  readonly cp_rules?: Partial<CpRules>;
};

export interface VariantChanges {
  readonly name?: string;
  readonly label?: SpecLabel;
  readonly kernel?: KernelRange | null;
  readonly merged?: boolean;
  readonly models?: string;
  readonly description?: string;
  readonly changes?: readonly string[];
  readonly commits?: readonly CommitRef[];
  readonly mails?: readonly MailRef[];
  readonly sources?: readonly string[];
  readonly inferred?: readonly string[];
  readonly fsm?: FsmName;
  readonly features?: FeatureChanges;
  /** driver functions replaced by this variant's own */
  readonly code?: Readonly<Partial<DriverCode>>;
}

/** The first mainline driver states everything; the rest derive from it. */
export type RootVariant = Omit<Variant, 'base' | 'based_on' | 'code'>;

const BUILT_IN = new Map<string, Variant>();

/** The first variant made under a name is the one `derive(name, …)` builds on (a built-in file loads before any user file). */
function remember(v: Variant): Variant {
  if (!BUILT_IN.has(v.name)) BUILT_IN.set(v.name, v);
  return v;
}

/** A built-in variant by name, once its file has been loaded. */
export function built_in(name: string): Variant | undefined {
  return BUILT_IN.get(name);
}

export function root(v: RootVariant): Variant {
  return remember({ ...v, based_on: null, base: null, code: {} });
}

/**
 * `base` plus `changes`. Features and rule objects merge field by field, replaced functions add to
 * the base's; the description and the lists (changes, commits, …) are this variant's own.
 */
export function derive(base: VariantName | string | Variant, changes: VariantChanges): Variant {
  const b = typeof base === 'string' ? BUILT_IN.get(base) : base;
  if (b === undefined) throw new Error(`derive: unknown base variant '${String(base)}' (expected one of ${[...BUILT_IN.keys()].filter((n) => !n.includes('+')).join(', ')})`);
  const f = changes.features ?? {};
  const features: VariantFeatures = {
    ...b.features,
    ...f,
    io_todo: { ...b.features.io_todo, ...f.io_todo },
    cp_rules: { ...b.features.cp_rules, ...f.cp_rules },
  };
  return remember({
    name: changes.name ?? `${b.name}+patch`,
    label: changes.label ?? b.label,
    kernel: changes.kernel ?? null,
    merged: changes.merged ?? false,
    models: changes.models ?? b.models,
    description: changes.description ?? '',
    based_on: b.name,
    base: b.name,
    changes: changes.changes ?? [],
    commits: changes.commits ?? [],
    mails: changes.mails ?? [],
    sources: changes.sources ?? [],
    inferred: changes.inferred ?? [],
    fsm: changes.fsm ?? b.fsm,
    features,
    code: { ...b.code, ...changes.code },
  });
}
