// Fault injection (--fail-nth, --fail-rate) and coverage (--coverage) as every tool takes them
// (issue 14, items 3 and 4): the options, the FaultConfig they make, and coverage's JSON and text.
import { InvalidArgumentError, Option } from 'commander';
import { FAULT_SITES, parse_fail_nth, type FaultConfig } from '../src/kernel/fault.ts';
import { alloc_coverage } from '../src/fuzz/coverage.ts';
import { format_coverage, summarize, type CoverageSummary } from '../src/fuzz/coverage-report.ts';
import { probability } from './options.ts';

function failNth(v: string): FaultConfig {
  const r = parse_fail_nth(v, 0);
  if (typeof r === 'string') throw new InvalidArgumentError(`--fail-nth: ${r}`);
  return r;
}

export const failNthOption = (): Option => new Option('--fail-nth <site:n>', `fault injection: the nth call at a site fails in each actor (sites: ${FAULT_SITES.join(', ')})`).argParser(failNth);
export const failRateOption = (): Option => new Option('--fail-rate <p>', 'fault injection: every call at every site fails with probability p (seeded by --seed)').argParser(probability('--fail-rate'));

/** `{ fault }` as the options ask for it (seeded by --seed), or nothing. */
export function withFault(o: Record<string, unknown>): { fault?: FaultConfig } {
  if (o.failNth === undefined && o.failRate === undefined) return {};
  return { fault: { ...(o.failNth as FaultConfig | undefined), ...(o.failRate !== undefined ? { rate: o.failRate as number } : {}), seed: (o.seed as number | undefined) ?? 0 } };
}

export const coverageOption = (): Option => new Option('--coverage', 'report coverage: jump-table cells reached, errno returns, overlapping entry pairs');

/** A coverage buffer when `on`, else undefined (a run without one pays nothing). */
export const coverage_buf = (on: boolean | undefined): SharedArrayBuffer | undefined => (on === true ? alloc_coverage() : undefined);

/** Coverage's JSON (a summary per variant) and its text table, from one buffer per variant. */
export function coverage_out(bufs: readonly { variant: string; sab: SharedArrayBuffer }[]): { json: CoverageSummary[]; text: string } {
  const json = bufs.map((b) => summarize(b.sab, b.variant));
  return { json, text: format_coverage(json.map((c) => ({ label: c.variant, cov: c }))) };
}
