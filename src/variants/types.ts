// The types of a variant: one selectable driver, stated in src/variants/<name>.ts as its
// predecessor plus its changes (derive.ts). Data only; the driver code reads `features`, and
// `code` replaces a driver function where a version (or a user's patch) changes its C.
import type { FsmName } from '../driver/fsm_tables.ts';
import type { CpRules } from '../driver/cp.ts';
import type { DriverCode } from '../driver/private.ts';
import type { IoTodoRule, VariantFeatures } from '../driver/features.ts';

/** The driver's side of a variant: the rules its code switches on and the functions it may replace. */
export type { CpRules, DriverCode, IoTodoRule, VariantFeatures };

// ---------------------------------------------------------------------------------------------
// Types

export const VARIANT_NAMES = [
  'morel-2018',
  'v4.12',
  'v4.18',
  'v5.0',
  'v5.2',
  'v5.3',
  'v5.13',
  'gunthorpe-2021',
  'v6.0',
  'v6.1',
  'v6.2',
  'v6.3',
  'mainline',
] as const;
export type VariantName = (typeof VARIANT_NAMES)[number];

/** The spec's letter for each variant: a label in the registry only; code names a version by its variant name. */
export type SpecLabel = 'A' | 'B1' | 'B2' | 'B3' | 'C' | 'C53' | 'D' | 'F' | 'E0' | 'E1' | 'E2' | 'G' | 'H'; // H: the current tree (after the spec was written)

/** Mainline releases "vX.Y"; `to: null` = still current. */
export interface KernelRange {
  readonly from: string;
  readonly to: string | null;
}

export interface CommitRef {
  /** abbreviated upstream commit id as the spec gives it */
  readonly id: string;
  readonly subject: string;
  readonly note?: string;
}

export interface MailRef {
  /** the mail's label in the spec, e.g. "M-D4" */
  readonly label: string;
  readonly subject: string;
  readonly note?: string;
}

export interface Variant {
  /** a built-in name, or for a user's file its absolute path */
  readonly name: string;
  readonly label: SpecLabel;
  /** mainline releases it covers; null for an unmerged proposal or a user's patch */
  readonly kernel: KernelRange | null;
  readonly merged: boolean;
  /** the release whose code `features` describe (for a range: our choice, see `inferred`; for a proposal: its base) */
  readonly models: string;
  readonly description: string;
  /** the variant `changes` is relative to (null for the first mainline driver) */
  readonly based_on: string | null;
  /** the same as `based_on`: the variant this one derives from (a check's default base) */
  readonly base: string | null;
  readonly changes: readonly string[];
  readonly commits: readonly CommitRef[];
  readonly mails: readonly MailRef[];
  /** whole-file kernel sources the variant rests on */
  readonly sources: readonly string[];
  /** facts the spec marks [inferred]/[not verified], and how we read them; choices we made */
  readonly inferred: readonly string[];
  readonly fsm: FsmName;
  readonly features: VariantFeatures;
  /** driver functions this variant replaces (inherited by the variants derived from it) */
  readonly code: Readonly<Partial<DriverCode>>;
  /** a user's variant file: its absolute path and the sha256 of its content */
  readonly path?: string;
  readonly hash?: string;
}
