// The run report: one JSON object per run, stable keys. Tools extend it; they never rename keys.

export const FINDING_KINDS = ['invariant', 'data-race', 'lockdep', 'hang', 'accounting', 'use-after-free'] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

export interface Finding {
  kind: FindingKind;
  /** spec invariant id (I1…I23), scenario check id (S2.one-final), detector id (ABBA, sleep-in-atomic…) */
  id: string;
  message: string;
  /** the actor that hit it, where known */
  actor?: number;
  /** trace events that led to it, oldest first (formatted) */
  trace?: string[];
  /** scenario check (false) vs detector finding */
  count?: number;
}

export interface Report {
  result: 'pass' | 'fail';
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

/** Merge findings that differ only in numbers (generations, counts), keeping the first and counting the rest. */
export function dedupe(findings: Finding[]): Finding[] {
  const out = new Map<string, Finding>();
  for (const f of findings) {
    const k = `${f.kind}:${f.id}:${f.message.replace(/\d+/g, '#')}`;
    const seen = out.get(k);
    if (seen === undefined) out.set(k, { ...f, count: f.count ?? 1 });
    else seen.count = (seen.count ?? 1) + (f.count ?? 1);
  }
  return [...out.values()];
}
