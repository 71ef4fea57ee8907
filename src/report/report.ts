// The run report: one JSON object per run, stable keys. Tools extend it; they never rename keys.
import type { TraceStep } from './interleave.ts';

export const FINDING_KINDS = ['invariant', 'data-race', 'lockdep', 'hang', 'accounting', 'use-after-free'] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

/** One side of a data race, as the detector recorded it. */
export interface RaceAccess {
  actor: number;
  function: string;
  op: 'read' | 'write';
  marked: boolean;
}

export interface Finding {
  kind: FindingKind;
  /** spec invariant id (I1…I23), scenario check id (S2.one-final), detector id (ABBA, sleep-in-atomic…) */
  id: string;
  message: string;
  /** the actor that hit it, where known */
  actor?: number;
  /** trace events that led to it, oldest first (formatted, harness steps included) */
  trace?: string[];
  /** times seen (a merged finding sums its parts) */
  count?: number;
  /** what the finding is, independent of run, seed, machine and line numbers (signature.ts) */
  signature?: string;
  /** the root cause it shares with other findings (cause.ts); the signature of the cause's head */
  cause?: string;
  /** the function-level interleaving, CPU by CPU, oldest first (harness steps left out) */
  interleaving?: { cpu: number; actor: string; function: string }[];
  /** the detailed rows behind `interleaving`, harness steps included and flagged */
  steps?: TraceStep[];
  /** data races: the field and its two accesses */
  race?: { field: string; first: RaceAccess; second: RaceAccess };
  /** scenarios and variants where it was seen */
  seen?: { scenario: string; variant: string }[];
  /** a replay token that reproduces it (controlled mode) */
  token?: string;
}

export interface Report {
  result: 'pass' | 'fail' | 'interrupted' | 'skipped';
  variant: string;
  scenario: string;
  mode: 'free' | 'controlled';
  findings: Finding[];
  stats: Record<string, number>;
  seed?: number;
  duration_s?: number;
  /** scenario steps that the variant cannot do */
  not_applicable?: string[];
}
