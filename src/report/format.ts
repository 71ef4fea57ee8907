// Findings as text, in the kernel's style: one splat per root cause (its header, message and
// interleaving in CPU columns, then the detailed rows), and the cause's other faces beneath it.
import type { Finding, Report } from './report.ts';
import { by_cause } from './cause.ts';
import { actor_name, format_function_level, format_steps, function_level, interleaving_json } from './interleave.ts';
import { signature_of } from './signature.ts';

export interface FormatOptions {
  /** show harness steps and machine marks too */
  verbose?: boolean;
}

const RULE = '==================================================================';

function header(f: Finding): string {
  switch (f.kind) {
    case 'lockdep':
      return 'WARNING: possible locking bug';
    case 'data-race':
      return 'BUG: data-race';
    case 'hang':
      return 'INFO: task blocked';
    case 'accounting':
      return 'WARNING: accounting mismatch';
    case 'invariant':
      return 'WARNING: invariant violated';
    case 'use-after-free':
      return f.id === 'null-ptr-deref' ? 'BUG: kernel NULL pointer dereference' : 'BUG: KASAN: use-after-free';
  }
}

const times = (f: Finding): string => (f.count !== undefined && f.count > 1 ? ` (x${f.count})` : '');

/** One finding's splat, without the rules around it. */
export function format_finding(f: Finding, o: FormatOptions = {}): string[] {
  const lines = [`${header(f)}: ${f.id}${times(f)}`, `  ${f.signature ?? signature_of(f)}`, `  ${f.message}`];
  if (f.actor !== undefined) lines.push(`  on CPU${f.actor} (${actor_name(f.actor)})`);
  if (f.seen !== undefined && f.seen.length > 0) lines.push(`  seen on: ${f.seen.map((s) => `${s.variant} ${s.scenario}`).join(', ')}`);
  if (f.token !== undefined) lines.push(`  replay: vfio-ccw-sim replay ${f.token}`);
  if (f.steps !== undefined && f.steps.length > 0) {
    const fl = function_level(f.steps, o.verbose === true);
    lines.push('  interleaving (oldest first):', ...format_function_level(fl));
    lines.push('  in detail:', ...format_steps(f.steps, o.verbose === true));
  } else if (f.trace !== undefined && f.trace.length > 0) lines.push('  trace (oldest first):', ...f.trace.map((t) => `    ${t}`));
  return lines;
}

/** The report's findings, one splat per cause, its other faces listed beneath. */
export function format_report_text(r: Pick<Report, 'findings'>, o: FormatOptions = {}): string {
  const lines: string[] = [];
  for (const [head, ...rest] of by_cause(r.findings)) {
    lines.push(RULE, ...format_finding(head!, o));
    if (rest.length > 0) {
      lines.push('  the same cause, also seen as:');
      for (const f of rest) lines.push(`    ${f.signature ?? signature_of(f)}${times(f)}: ${f.message}`);
    }
  }
  lines.push(RULE);
  return lines.join('\n');
}

/** Findings for JSON: the function-level interleaving as asked (harness steps only if verbose). */
export function findings_json(fs: readonly Finding[], o: FormatOptions = {}): Finding[] {
  if (o.verbose !== true) return [...fs];
  return fs.map((f) => (f.steps !== undefined && f.steps.length > 0 ? { ...f, interleaving: interleaving_json(function_level(f.steps, true)) } : f));
}
