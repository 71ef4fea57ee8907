// vfio-ccw-sim trace: run a scenario (or replay a token) with the tracer on and write the run as
// Chrome trace-event JSON.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { load_scenario } from '../src/scenarios/load.ts';
import { run_spec } from '../src/sched/search.ts';
import { decode_token } from '../src/sched/token.ts';
import { Rig } from '../src/system/rig.ts';
import { UsageError } from './errors.ts';
import { load_token_variant } from './options.ts';
import type { Io } from './stress.ts';
import { export_chrome_trace } from './trace-export.ts';

export interface TraceOpts {
  token?: string;
  variant: string;
  scenario: string;
  iterations: number;
  seed: number;
  out: string;
}

export async function trace_cmd(o: TraceOpts, io: Io): Promise<number> {
  const spec = o.token !== undefined ? decode_token(o.token) : null;
  if (typeof spec === 'string') throw new UsageError(`trace: ${spec}`);
  if (spec !== null) await load_token_variant(spec, 'trace', io.err);
  const scenario = await load_scenario(spec?.s ?? o.scenario);
  const users = spec?.u ?? scenario.users.default;
  const rig = await Rig.start(users, [scenario.module]);
  try {
    const out =
      spec !== null
        ? await run_spec(rig, scenario, spec, ['invariants', 'trace'])
        : await rig.run({ variant: o.variant, scenario, users, seed: o.seed, iterations: o.iterations, detectors: ['invariants', 'trace'] });
    const json = export_chrome_trace(out.trace);
    mkdirSync(dirname(o.out), { recursive: true });
    writeFileSync(o.out, JSON.stringify(json));
    io.out(`trace: ${out.trace.length} events, ${json.traceEvents.length} trace events, ${out.report.findings.length} finding(s) -> ${o.out}`);
    return out.report.result === 'pass' ? 0 : 1;
  } finally {
    await rig.close();
  }
}
