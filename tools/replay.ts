// vfio-ccw-sim replay TOKEN: re-run one schedule exactly, check that every step's kind matches
// the recorded run, and print its report with the full trace interleaving.
import { writeFileSync } from 'node:fs';
import { objName } from '../src/kernel/layout.ts';
import { load_scenario } from '../src/scenarios/load.ts';
import { check_replay, run_spec, shrink } from '../src/sched/search.ts';
import { decode_token, encode_token, version_mismatch, type ScheduleSpec } from '../src/sched/token.ts';
import { Rig, type DetectorName, type RunOutcome } from '../src/system/rig.ts';
import type { Io } from './io.ts';
import { RESULT_WORD } from './stress.ts';
import { findings_json, format_finding, format_report_text, format_steps, fsm_names, trace_steps } from '../src/report/index.ts';
import { EXIT, UsageError, exit_for } from './errors.ts';
import { check_output_path } from './paths.ts';
import { header } from './schema.ts';
import { load_token_variant } from './options.ts';
import { coverage_buf, coverage_out } from './fault-cov.ts';

export interface ReplayOpts {
  token: string;
  detectors: DetectorName[];
  json: boolean;
  traceOut?: string;
  quiet: boolean;
  /** show harness steps and machine marks */
  verbose?: boolean;
  /** report coverage (the token fixes any fault injection) */
  coverage?: boolean;
}

/** A token's schedule, or a usage error: damaged, or made on other sources than these. */
export function token_spec(tool: string, token: string): ScheduleSpec {
  const spec = decode_token(token);
  if (typeof spec === 'string') throw new UsageError(`${tool}: ${spec}`);
  const other = version_mismatch(spec);
  if (other !== null) throw new UsageError(`${tool}: ${other}`);
  return spec;
}

export async function replay(o: ReplayOpts, io: Io): Promise<number> {
  if (o.traceOut !== undefined) check_output_path('--trace-out', o.traceOut);
  const spec = token_spec('replay', o.token);
  await load_token_variant(spec, 'replay', io.err);
  const scenario = await load_scenario(spec.s);
  if (io.interrupted()) return EXIT.interrupted;
  const rig = await Rig.start(spec.u, [scenario.module], spec.nd ?? 1);
  const offKill = io.onKill(() => void rig.close());
  let out: RunOutcome;
  const cov = coverage_buf(o.coverage);
  try {
    out = await run_spec(rig, scenario, spec, [...new Set<DetectorName>([...o.detectors, 'trace'])], undefined, cov);
  } finally {
    offKill();
    await rig.close();
  }
  const chk = check_replay(spec, out);
  if (o.traceOut !== undefined) {
    const { export_chrome_trace } = await import('./trace-export.ts');
    writeFileSync(o.traceOut, JSON.stringify(export_chrome_trace(out.trace)));
  }
  // one schedule is short: a signal during it still lets it finish, but the verdict is not earned
  const result = io.interrupted() ? 'interrupted' : out.report.result;
  const covered = cov !== undefined ? coverage_out([{ variant: spec.v, sab: cov }]) : null;
  const report = { ...header('replay'), ...out.report, ...(covered !== null ? { coverage: covered.json } : {}), ...(spec.fl !== undefined ? { fault: spec.fl } : {}), result, findings: findings_json(out.report.findings, { verbose: o.verbose === true }), replay: { token: o.token, ok: chk.ok, message: chk.message, steps: out.sched?.steps ?? 0 } };
  if (o.json) io.out(JSON.stringify(report));
  else {
    io.out(`replay: ${spec.v} ${spec.s} ${spec.st} seed ${spec.seed}: ${chk.message}`);
    if (!o.quiet) {
      io.out('trace (one column per CPU):');
      io.out(format_steps(trace_steps(out.trace.slice(-200), { obj: objName, controlled: true, ...fsm_of(spec.v) }), o.verbose === true, '    ', true).join('\n'));
    }
    if (out.report.findings.length > 0) io.out(format_report_text(out.report, { verbose: o.verbose === true }));
    if (o.traceOut !== undefined) io.out(`trace: ${o.traceOut}`);
    if (covered !== null) io.out(covered.text);
    io.out(RESULT_WORD[result]);
  }
  // the same sources and a different run: a bug of ours (the scheduler is not deterministic)
  if (!chk.ok) return EXIT.internal;
  return exit_for(result);
}

const fsm_of = (variant: string): { fsm?: NonNullable<ReturnType<typeof fsm_names>> } => {
  const n = fsm_names(variant);
  return n !== undefined ? { fsm: n } : {};
};

/** Shrink a failing token and render the finding of the shrunk run: its interleaving in CPU columns and the rows under it. */
export async function shrink_and_show(token: string, target: string | undefined, detectors: readonly DetectorName[], verbose = false): Promise<{ token: string; steps: number; preemptions: number; table: string }> {
  const spec = token_spec('shrink', token);
  const scenario = await load_scenario(spec.s);
  const rig = await Rig.start(spec.u, [scenario.module], spec.nd ?? 1);
  try {
    const det = [...new Set<DetectorName>([...detectors, 'trace'])];
    const first = await run_spec(rig, scenario, spec, det);
    const re = target !== undefined ? new RegExp(target) : null;
    const f = first.report.findings.find((x) => re === null || re.test(x.id));
    if (f === undefined) return { token, steps: first.sched?.steps ?? 0, preemptions: first.sched?.preemptions ?? 0, table: '(the token did not fail on replay)' };
    const s = await shrink(rig, scenario, spec, first, f.id, det);
    // The finding's own interleaving (an accounting line of the same id has none). A scenario
    // check has none either: show the first detector finding of the same run, named.
    const fs = s.outcome.report.findings;
    const has = (x: (typeof fs)[number]): boolean => x.steps !== undefined && x.steps.length > 0;
    const own = fs.find((x) => x.id === f.id && has(x));
    const shown = own ?? fs.find(has);
    const head = own === undefined && shown !== undefined ? [`(${f.id} has no interleaving of its own: that of ${shown.id}, in the same run)`] : [];
    const body = shown !== undefined ? format_finding(shown, { verbose }) : ['(no trace)'];
    return { token: encode_token(s.spec), steps: s.outcome.sched?.steps ?? 0, preemptions: s.outcome.sched?.preemptions ?? 0, table: [...head, ...body].join('\n') };
  } finally {
    await rig.close();
  }
}
