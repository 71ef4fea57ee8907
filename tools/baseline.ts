// --baseline none|known|FILE for stress, race and check: which known findings a run does not count.
import { existsSync, readFileSync } from 'node:fs';
import { InvalidArgumentError, Option } from 'commander';
import { parse_signature } from '../src/report/signature.ts';
import { known_baseline, NO_BASELINE, parse_baseline, type Baseline, type BaselineSplit } from '../src/variants/baseline.ts';

/** What --baseline named: none, each variant's own list, or one file for every variant. */
export type BaselineChoice = 'none' | 'known' | Baseline;

export function baselineArg(v: string): BaselineChoice {
  if (v === 'none' || v === 'known') return v;
  if (!existsSync(v)) throw new InvalidArgumentError(`--baseline: no file '${v}' (expected none, known or a JSON file)`);
  const b = parse_baseline(readFileSync(v, 'utf8'), v);
  if (typeof b === 'string') throw new InvalidArgumentError(`--baseline: ${v}: ${b}`);
  return b;
}

export function baselineOption(): Option {
  return new Option('--baseline <list>', 'known findings not counted: none, known (the variant\'s own list) or a JSON file').argParser(baselineArg).default('known');
}

export function baseline_for(choice: BaselineChoice, variant: string): Baseline {
  if (choice === 'none') return NO_BASELINE;
  if (choice === 'known') return known_baseline(variant);
  return choice;
}

/** One known list over several variants (race, stress --variant a,b): the union of each one's. */
export function baseline_union(choice: BaselineChoice, variants: readonly string[]): Baseline {
  const bases = variants.map((v) => baseline_for(choice, v));
  return { source: bases[0]?.source ?? 'none', known: [...new Map(bases.flatMap((b) => b.known).map((k) => [k.key, k])).values()] };
}

/** The report's `baseline` key (absent with --baseline none, so that run's report is as before). */
export function baseline_json(b: Baseline, s: BaselineSplit): Record<string, unknown> {
  if (b.source === 'none') return {};
  return {
    baseline: {
      source: b.source,
      known_seen: s.known_seen.map((k) => ({ key: k.key, why: k.why, status: k.status, count: k.finding.count ?? 1, message: k.finding.message, ...((k.finding as { replay?: string }).replay !== undefined ? { replay: (k.finding as { replay?: string }).replay } : {}) })),
      known_not_seen: s.known_not_seen.map((k) => ({ key: k.key, why: k.why, status: k.status })),
    },
  };
}

/** The two lists as text, under a run's verdict. */
export function format_baseline(b: Baseline, s: BaselineSplit): string[] {
  if (b.source === 'none') return [];
  const out = [`known findings seen (baseline ${b.source}; not counted): ${s.known_seen.length}`];
  for (const k of s.known_seen) out.push(`  ${k.key}${(k.finding.count ?? 1) > 1 ? ` (x${k.finding.count})` : ''}: ${k.why} [${k.status}]`);
  out.push(`known findings not seen this run: ${s.known_not_seen.length}`);
  for (const k of s.known_not_seen) out.push(`  ${k.key}: ${k.why} [${k.status}]`);
  return out;
}

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The finding-id regex the search workers stop on: the user's --target as given (naming a finding
 * asks for it, known or not), else every id outside the baseline. The workers match on ids, so a
 * known signature's id is left out: a new signature of a known id does not stop a search, but the
 * run still counts it when it finds it.
 */
export function target_outside(b: Baseline, target: string | undefined): string | undefined {
  if (target !== undefined) return target;
  const ids = [...new Set(b.known.flatMap((k) => parse_signature(k.key)?.id ?? []))];
  return ids.length === 0 ? undefined : `^(?!(?:${ids.map(esc).join('|')})$)`;
}
