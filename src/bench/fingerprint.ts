// The schedules' fingerprint: a hash over every schedule of a few searches (each decision, the
// step and preemption counts, the kind hash and its checks, virtual time, the findings and the
// run's counters). Work on the schedule's speed must leave it as it was: run it before and after
// a change and compare (`lines` says where two runs part).
import { createHash } from 'node:crypto';
import type { Scenario } from '../scenarios/types.ts';
import { plan } from '../sched/plan.ts';
import { search } from '../sched/search.ts';
import type { DetectorName, Rig, RunOutcome } from '../system/rig.ts';

export interface FingerprintRow {
  variant: string;
  search: string;
  schedules: number;
  /** sha256 of the search's lines, first 16 hex digits */
  hash: string;
}

export interface FingerprintOptions {
  variants: readonly string[];
  searches: readonly string[];
  /** schedules per (variant, search) */
  budget: number;
  seed: number;
  detectors: readonly DetectorName[];
}

/** One schedule as a line: everything the run decided and reported that does not depend on the wall clock. */
export function schedule_line(o: RunOutcome): string {
  const s = o.sched;
  const dec = (s?.decisions ?? []).map((d) => `${d.mask},${d.cur},${d.pick},${d.kind},${d.obj},${d.timed},${d.mark}`).join(';');
  const found = o.report.findings.map((f) => `${f.kind}:${f.id}:${f.signature ?? ''}:${f.count ?? ''}:${f.message}`).join('|');
  return `steps=${s?.steps} pre=${s?.preemptions} abort=${s?.abort} kh=${s?.kind_hash} checks=${s?.checks.join(',')} vnow=${s?.vnow} result=${o.report.result} findings=${found} stats=${JSON.stringify(o.report.stats)} dec=${dec}`;
}

/** Run each search on each variant (one rig, in order) and hash its schedules. */
export async function sched_fingerprint(rig: Rig, scenario: Scenario, opts: FingerprintOptions): Promise<{ rows: FingerprintRow[]; lines: string[] }> {
  const rows: FingerprintRow[] = [];
  const lines: string[] = [];
  for (const variant of opts.variants) {
    for (const name of opts.searches) {
      const h = createHash('sha256');
      let n = 0;
      const p = plan({ variant, scenario: scenario.id, search: name, budget: opts.budget, detectors: opts.detectors, seed0: opts.seed });
      await search(rig, scenario, p, {
        observe: (o, spec) => {
          const line = `${variant} ${name} ${n++} seed=${spec.seed} st=${spec.st} f=${(spec.f ?? []).join(',')} ${schedule_line(o)}`;
          h.update(`${line}\n`);
          lines.push(line);
        },
      });
      rows.push({ variant, search: name, schedules: n, hash: h.digest('hex').slice(0, 16) });
    }
  }
  return { rows, lines };
}
