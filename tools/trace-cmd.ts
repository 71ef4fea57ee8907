// vfio-ccw-sim trace: run a scenario (or replay a token) with the tracer on and write the run as
// Chrome trace-event JSON.
import { writeFileSync } from 'node:fs';
import { load_scenario } from '../src/scenarios/load.ts';
import { run_spec } from '../src/sched/search.ts';
import { Rig } from '../src/system/rig.ts';
import { EXIT, exit_for } from './errors.ts';
import type { Io } from './io.ts';
import { check_output_path } from './paths.ts';
import { token_spec } from './replay.ts';
import { header } from './schema.ts';
import { load_token_variant } from './options.ts';
import { export_chrome_trace } from './trace-export.ts';
import type { FaultConfig } from '../src/kernel/fault.ts';
import { coverage_buf, coverage_out } from './fault-cov.ts';

export interface TraceOpts {
  token?: string;
  variant: string;
  scenario: string;
  iterations: number;
  seed: number;
  /** subchannels (a token names its own) */
  devices?: number;
  out: string;
  json: boolean;
  /** fault injection of a run without a token (a token fixes its own) */
  fault?: FaultConfig;
  coverage?: boolean;
}

export async function trace_cmd(o: TraceOpts, io: Io): Promise<number> {
  check_output_path('--out', o.out);
  const spec = o.token !== undefined ? token_spec('trace', o.token) : null;
  if (spec !== null) await load_token_variant(spec, 'trace', io.err);
  const scenario = await load_scenario(spec?.s ?? o.scenario);
  const users = spec?.u ?? scenario.users.default;
  if (io.interrupted()) return EXIT.interrupted;
  const devices = spec !== null ? (spec.nd ?? 1) : (o.devices ?? 1);
  const rig = await Rig.start(users, [scenario.module], devices);
  const offKill = io.onKill(() => void rig.close());
  const offStop = io.onInterrupt(() => rig.request_stop());
  const cov = coverage_buf(o.coverage);
  try {
    const out =
      spec !== null
        ? await run_spec(rig, scenario, spec, ['invariants', 'trace'], undefined, cov)
        : await rig.run({ variant: o.variant, scenario, users, seed: o.seed, iterations: o.iterations, devices, detectors: ['invariants', 'trace'], ...(o.fault !== undefined ? { fault: o.fault } : {}), ...(cov !== undefined ? { coverage: cov } : {}) });
    const covered = cov !== undefined ? coverage_out([{ variant: spec?.v ?? o.variant, sab: cov }]) : null;
    const fault = spec?.fl ?? o.fault;
    const json = export_chrome_trace(out.trace);
    writeFileSync(o.out, JSON.stringify(json));
    // the rings keep the last events of each actor: say how many of the run's were overwritten
    const total = out.trace.reduce((m, e) => Math.max(m, e.seq + 1), 0);
    const dropped = Math.max(0, total - out.trace.length);
    const result = io.interrupted() ? 'interrupted' : out.report.result;
    if (o.json) io.out(JSON.stringify({ ...header('trace'), ...out.report, ...(covered !== null ? { coverage: covered.json } : {}), ...(fault !== undefined ? { fault } : {}), result, out: o.out, events: out.trace.length, dropped, trace_events: json.traceEvents.length }));
    else {
      io.out(`trace: ${out.trace.length} events, ${json.traceEvents.length} trace events, ${out.report.findings.length} finding(s) -> ${o.out}`);
      if (covered !== null) io.out(covered.text);
      if (dropped > 0) io.out(`trace: the rings wrapped: the file covers the last ${out.trace.length} of the run's ${total} events (${dropped} older ones dropped); fewer --iterations cover the whole run`);
      // the file covers the run until the signal: say so, as the other tools do
      if (result === 'interrupted') io.out('INTERRUPTED');
    }
    return exit_for(result);
  } finally {
    offStop();
    offKill();
    await rig.close();
  }
}
