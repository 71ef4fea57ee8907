// Findings as text, in the kernel's style: a splat header per finding, its message, and the
// trace that led to it as a per-CPU interleaving.
import type { Report } from '../src/report/report.ts';
import type { RunOutcome } from '../src/system/rig.ts';

const ACTOR_NAMES: Record<number, string> = { 0: 'main', 1: 'irq', 2: 'todo' };
const actor_name = (a: number): string => ACTOR_NAMES[a] ?? `user${a - 3}`;

export function format_report_text(r: Report, _outs: readonly RunOutcome[] = []): string {
  const lines: string[] = [];
  for (const f of r.findings) {
    lines.push('==================================================================');
    const head = f.kind === 'lockdep' ? 'WARNING: possible locking bug' : f.kind === 'data-race' ? 'BUG: data-race' : f.kind === 'hang' ? 'INFO: task blocked' : f.kind === 'accounting' ? 'WARNING: accounting mismatch' : 'WARNING: invariant violated';
    lines.push(`${head}: ${f.id}${f.count !== undefined && f.count > 1 ? ` (x${f.count})` : ''}`);
    lines.push(`  ${f.message}`);
    if (f.actor !== undefined) lines.push(`  on CPU${f.actor} (${actor_name(f.actor)})`);
    if (f.trace !== undefined && f.trace.length > 0) {
      lines.push('  interleaving (oldest first):');
      lines.push(...interleaving(f.trace));
    }
  }
  lines.push('==================================================================');
  return lines.join('\n');
}

/** Trace lines "seq aN kind obj @site" laid out as one column per CPU. */
export function interleaving(trace: readonly string[]): string[] {
  const rows = trace.map((t) => {
    const m = /^(\d+) a(\d+) (.*)$/.exec(t);
    return m === null ? { cpu: -1, text: t } : { cpu: Number(m[2]), text: m[3]! };
  });
  const cpus = [...new Set(rows.map((r) => r.cpu).filter((c) => c >= 0))].sort((a, b) => a - b);
  const w = 44;
  const head = cpus.map((c) => `CPU${c} (${actor_name(c)})`.padEnd(w)).join('');
  const out = [`    ${head}`];
  for (const r of rows) {
    const col = cpus.indexOf(r.cpu);
    out.push(`    ${' '.repeat(w * Math.max(0, col))}${r.text.length > w - 2 ? r.text.slice(0, w - 3) + '…' : r.text}`);
  }
  return out;
}

/**
 * A trace as function calls: consecutive events of one CPU in one function collapse to one row,
 * a detector's warning stays a row of its own; the last `max` rows, one column per CPU.
 */
export function function_interleaving(trace: readonly string[], max = 16): string[] {
  const rows: string[] = [];
  let last = '';
  for (const t of trace) {
    const m = /^(\d+) a(\d+) (\S+) \S+ @(.*?)(?: \(\d+\))?$/.exec(t);
    if (m === null) continue;
    const [, seq, cpu, kind, site] = m;
    const fn = kind === 'warn' ? `!! ${site!.split(':')[0]}` : site!;
    const k = `${cpu} ${fn}`;
    if (k === last) continue;
    last = k;
    rows.push(`${seq} a${cpu} ${fn}`);
  }
  return interleaving(rows.slice(-max));
}
