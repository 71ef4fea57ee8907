// vfio-ccw-sim replay TOKEN: re-run one schedule exactly, check that every step's kind matches
// the recorded run, and print its report with the full trace interleaving.
import { writeFileSync } from 'node:fs';
import { objName } from '../src/kernel/layout.ts';
import { HookName } from '../src/kernel/hook.ts';
import { load_scenario } from '../src/scenarios/load.ts';
import { check_replay, run_spec, shrink } from '../src/sched/search.ts';
import { decode_token, encode_token } from '../src/sched/token.ts';
import { Rig, type DetectorName, type RunOutcome } from '../src/system/rig.ts';
import type { TraceEvent } from '../src/trace/ring.ts';
import type { Io } from './stress.ts';
import { format_report_text, interleaving } from './text.ts';
import { UsageError } from './errors.ts';
import { load_token_variant } from './options.ts';

export interface ReplayOpts {
  token: string;
  detectors: DetectorName[];
  json: boolean;
  traceOut?: string;
  quiet: boolean;
}

export async function replay(o: ReplayOpts, io: Io): Promise<number> {
  const spec = decode_token(o.token);
  if (typeof spec === 'string') throw new UsageError(`replay: ${spec}`);
  await load_token_variant(spec, 'replay', io.err);
  const scenario = await load_scenario(spec.s);
  const rig = await Rig.start(spec.u, [scenario.module]);
  let out: RunOutcome;
  try {
    out = await run_spec(rig, scenario, spec, [...new Set<DetectorName>([...o.detectors, 'trace'])]);
  } finally {
    await rig.close();
  }
  const chk = check_replay(spec, out);
  if (o.traceOut !== undefined) {
    const { export_chrome_trace } = await import('./trace-export.ts');
    writeFileSync(o.traceOut, JSON.stringify(export_chrome_trace(out.trace)));
  }
  const report = { ...out.report, replay: { token: o.token, ok: chk.ok, message: chk.message, steps: out.sched?.steps ?? 0 } };
  if (o.json) io.out(JSON.stringify(report));
  else {
    io.out(`replay: ${spec.v} ${spec.s} ${spec.st} seed ${spec.seed}: ${chk.message}`);
    if (!o.quiet) {
      io.out('trace (one column per CPU):');
      io.out(interleaving(out.trace.slice(-200).map((e) => line(e))).join('\n'));
    }
    if (out.report.findings.length > 0) io.out(format_report_text(out.report));
    if (o.traceOut !== undefined) io.out(`trace: ${o.traceOut}`);
    io.out(out.report.result === 'pass' ? 'SUCCESS' : 'FAILURE');
  }
  if (!chk.ok) return 3;
  return out.report.result === 'pass' ? 0 : 1;
}

export const line = (e: TraceEvent): string => `${e.seq} a${e.actor} ${HookName[e.kind]} ${objName(e.obj)} @${e.site}`;

/** Shrink a failing token and render the result as a CPU0/CPU1 table of the events before the failure. */
export async function shrink_and_show(token: string, target: string | undefined, detectors: readonly DetectorName[]): Promise<{ token: string; steps: number; preemptions: number; table: string }> {
  const spec = decode_token(token);
  if (typeof spec === 'string') throw new Error(spec);
  const scenario = await load_scenario(spec.s);
  const rig = await Rig.start(spec.u, [scenario.module]);
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
    const own = fs.find((x) => x.id === f.id && x.trace !== undefined);
    const shown = own ?? fs.find((x) => x.trace !== undefined);
    const rows = shown?.trace ?? s.outcome.trace.slice(-30).map(line);
    const head = own === undefined && shown !== undefined ? [`(${f.id} has no trace of its own: the interleaving of ${shown.id}, in the same run)`] : [];
    return { token: encode_token(s.spec), steps: s.outcome.sched?.steps ?? 0, preemptions: s.outcome.sched?.preemptions ?? 0, table: [...head, ...interleaving(rows)].join('\n') };
  } finally {
    await rig.close();
  }
}
