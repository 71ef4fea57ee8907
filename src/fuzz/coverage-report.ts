// The numbers and the text table of a coverage buffer (coverage.ts), per variant.
import { FSM_TABLES, type FsmShape } from '../driver/fsm_tables.ts';
import { variant_by_name } from '../variants/index.ts';
import { errname } from '../uapi/errno.ts';
import { ENTRIES } from './entry.ts';
import { ERRS, W } from './coverage.ts';
import { calls_of, spec_errnos } from './syscalls.ts';

const E = ENTRIES.length;

export interface CoverageSummary {
  variant: string;
  cells: { reached: number; total: number; list: string[] };
  errnos: { reached: number; total: number; list: string[] };
  pairs: { reached: number; total: number; list: string[] };
  entries: { reached: number; total: number };
}


/** Where each call's answers are counted: the entry point it goes through. */
const CALL_ENTRY: Record<string, string> = {
  read_io: 'read:io', write_io: 'write:io', read_async: 'read:async', write_async: 'write:async', read_schib: 'read:schib', write_schib: 'write:schib',
  read_crw: 'read:crw', write_crw: 'write:crw', get_info: 'ioctl:GET_INFO', get_region_info: 'ioctl:GET_REGION_INFO', get_irq_info: 'ioctl:GET_IRQ_INFO',
  set_irqs: 'ioctl:SET_IRQS', reset: 'ioctl:RESET', bad_ioctl: 'ioctl:other', open_fd: 'open', dma_unmap: 'dma_unmap',
};

/** The numbers of a coverage buffer for a variant. */
export function summarize(sab: SharedArrayBuffer, variant: string): CoverageSummary {
  const a = new Int32Array(sab);
  const v = variant_by_name(variant);
  if (v === undefined) throw new Error(`no variant ${variant}`);
  const shape = FSM_TABLES[v.fsm] as FsmShape;
  const cells: string[] = [];
  shape.states.forEach((s, i) => shape.events.forEach((e, j) => {
    if (a[W.cells + i * 32 + j]! > 0) cells.push(`${s}×${e}`);
  }));
  // errnos: those the spec lists per call, reached through that call's entry point
  const listed = new Set<string>();
  for (const c of calls_of(v.features)) {
    const en = CALL_ENTRY[c.op];
    if (en === undefined) continue;
    for (const rc of spec_errnos(c, v.features)) listed.add(`${en} ${errname(rc)}`);
  }
  const errs: string[] = [];
  ENTRIES.forEach((en, i) => {
    for (let k = 1; k < ERRS; k++) if (a[W.rets + i * ERRS + k]! > 0 && listed.has(`${en} ${errname(-k)}`)) errs.push(`${en} ${errname(-k)}`);
  });
  const pairs: string[] = [];
  const seen = new Set<number>();
  for (let i = 0; i < E; i++) {
    for (let j = i; j < E; j++) {
      if (a[W.pairs + i * E + j]! > 0) {
        pairs.push(`${ENTRIES[i]}|${ENTRIES[j]}`);
        seen.add(i).add(j);
      }
    }
  }
  // entries reached: entered at least once (an answer counted, or seen in a pair)
  for (let i = 0; i < E; i++) for (let k = 0; k < ERRS; k++) if (a[W.rets + i * ERRS + k]! > 0) seen.add(i);
  return {
    variant,
    cells: { reached: cells.length, total: shape.states.length * shape.events.length, list: cells },
    errnos: { reached: errs.length, total: listed.size, list: errs },
    pairs: { reached: pairs.length, total: (E * (E + 1)) / 2, list: pairs },
    entries: { reached: seen.size, total: E },
  };
}

const pct = (r: number, t: number): string => `${r}/${t} (${t > 0 ? ((100 * r) / t).toFixed(0) : '0'}%)`;

/** A compact table: one row per measure, one column per run label. */
export function format_coverage(cols: { label: string; cov: CoverageSummary }[]): string {
  const rows: [string, (c: CoverageSummary) => string][] = [
    ['jump-table cells', (c) => pct(c.cells.reached, c.cells.total)],
    ['errno returns', (c) => pct(c.errnos.reached, c.errnos.total)],
    ['overlapping entry pairs', (c) => pct(c.pairs.reached, c.pairs.total)],
    ['entry points', (c) => pct(c.entries.reached, c.entries.total)],
  ];
  const head = ['coverage', ...cols.map((c) => c.label)];
  const body = rows.map(([n, f]) => [n, ...cols.map((c) => f(c.cov))]);
  const w = head.map((_, i) => Math.max(...[head, ...body].map((r) => r[i]!.length)));
  return [head, ...body].map((r) => r.map((x, i) => x.padEnd(w[i]!)).join('  ').trimEnd()).join('\n');
}
