// Known findings: per built-in variant, the findings its model is known to show, each with why
// and the kernel's status. A run counts only the findings outside its baseline and lists the
// known ones it saw and the known ones it could have seen but did not. The lists live in
// ./baselines/<variant>.json; a user's list is a file of the same shape.
import { existsSync, readFileSync } from 'node:fs';
import type { Finding } from '../report/report.ts';
import { finding_key } from '../report/finding_key.ts';
import { parse_signature } from '../report/signature.ts';
import { ROOT } from '../runtime/root.ts';

export interface KnownFinding {
  /** the finding's signature (finding_key(), signature_of()'s forms) */
  key: string;
  /** the scenarios where it was seen when the list was made (empty: any) */
  scenarios: string[];
  /** one line: why the model shows it */
  why: string;
  /** 'open upstream', 'fixed in <version>' or 'flaw of this old version' */
  status: string;
}

export interface Baseline {
  /** 'none', 'known' (the variant's own list) or the file it was read from */
  source: string;
  known: KnownFinding[];
}

export const NO_BASELINE: Baseline = { source: 'none', known: [] };

const STATUS = /^(open upstream|fixed in \S.*|flaw of this old version)$/;

/** A baseline from JSON text `{ known: [{ key, scenarios?, why, status }] }`, or one line saying what is wrong. */
export function parse_baseline(text: string, source: string): Baseline | string {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch (e) {
    return `not JSON (${(e as Error).message.split('\n')[0]})`;
  }
  const list = (o as { known?: unknown } | null)?.known;
  if (!Array.isArray(list)) return 'expected an object with a "known" array';
  const known: KnownFinding[] = [];
  for (const [k, e] of list.entries()) {
    const x = e as Partial<KnownFinding> | null;
    if (typeof x?.key !== 'string' || x.key === '') return `known[${k}]: "key" must be a non-empty string`;
    // a key that is no signature would never match, and the run would count what the user meant to list
    if (parse_signature(x.key) === undefined) return `known[${k}]: "key" must be a signature as a report prints it (e.g. "invariant I2 in vfio_ccw_sch_io_todo"), not "${x.key}"`;
    if (typeof x.why !== 'string') return `known[${k}] (${x.key}): "why" must be a string`;
    if (typeof x.status !== 'string' || !STATUS.test(x.status)) return `known[${k}] (${x.key}): "status" must be "open upstream", "fixed in <version>" or "flaw of this old version"`;
    const sc = x.scenarios ?? [];
    if (!Array.isArray(sc) || sc.some((s) => typeof s !== 'string')) return `known[${k}] (${x.key}): "scenarios" must be a list of scenario ids`;
    known.push({ key: x.key, scenarios: sc, why: x.why, status: x.status });
  }
  return { source, known };
}

// the lists are data beside the sources: found from the package root, from the sources or dist/ alike
const DIR = new URL('src/variants/baselines/', ROOT);

/** The list shipped for a built-in variant (an empty one where none is shipped). */
export function known_baseline(variant: string): Baseline {
  const url = new URL(`${variant}.json`, DIR);
  if (!/^[\w.-]+$/.test(variant) || !existsSync(url)) return { source: 'known', known: [] };
  const b = parse_baseline(readFileSync(url, 'utf8'), 'known');
  if (typeof b === 'string') throw new Error(`src/variants/baselines/${variant}.json: ${b}`);
  return b;
}

export interface BaselineSplit {
  /** findings outside the baseline: the ones a result counts */
  counted: Finding[];
  /** known findings this run saw, with what it saw */
  known_seen: (KnownFinding & { finding: Finding })[];
  /** known findings of the scenarios run that this run did not see */
  known_not_seen: KnownFinding[];
}

/** Split a run's findings by a baseline; `scenarios` are the ones the run ran. */
export function split_by_baseline(findings: readonly Finding[], b: Baseline, scenarios: readonly string[]): BaselineSplit {
  const by = new Map(b.known.map((k) => [k.key, k]));
  const counted: Finding[] = [];
  const seen = new Map<string, KnownFinding & { finding: Finding }>();
  for (const f of findings) {
    // a key is one signature: a new function pair or site of a known id is a new finding
    const k = by.get(finding_key(f));
    if (k === undefined) counted.push(f);
    else if (!seen.has(k.key)) seen.set(k.key, { ...k, finding: f });
  }
  const ran = new Set(scenarios);
  const known_not_seen = b.known.filter((k) => !seen.has(k.key) && (k.scenarios.length === 0 || k.scenarios.some((s) => ran.has(s))));
  return { counted, known_seen: [...seen.values()], known_not_seen };
}
