// A fuzz campaign: generated programs run on the rig, batch after batch; the programs that reach
// new coverage go to the corpus and are mutated; every finding keeps the program that showed it
// (as a replay token) and can be minimised.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rig, type DetectorName, type RunOutcome } from '../system/rig.ts';
import type { FaultConfig } from '../kernel/fault.ts';
import type { Finding } from '../report/report.ts';
import { Rng, mix, fnv1a } from '../hw/prng.ts';
import { variant_by_name } from '../variants/index.ts';
import { alloc_coverage, merge_coverage, W } from './coverage.ts';
import { fuzz_scenario } from './exec.ts';
import { count_calls, DEFAULT_MIX, gen_programs, mutate, type Programs } from './gen.ts';
import { finding_key } from './finding-key.ts';
import { decode_token, encode_token, type FuzzToken } from './token.ts';
import { is_lifecycle_op } from './syscalls.ts';
import { DEFAULTS } from '../sched/plan.ts';
import { ddmin } from './ddmin.ts';
import { default_pick } from '../sched/strategy.ts';
import { SCHED_LOG } from '../kernel/global.ts';

export interface FuzzFinding extends Omit<Finding, 'kind'> {
  kind: Finding['kind'] | 'errno' | 'exception';
  signature?: string;
  /** replay token of the program that showed it */
  token: string;
  /** calls in that program (after minimisation, if it ran) */
  calls: number;
}

export interface CampaignOpts {
  variant: string;
  seed: number;
  /** total calls to run (over every user) */
  calls: number;
  /** seconds; the campaign ends at whichever comes first */
  duration: number;
  users: number;
  /** subchannels of every run (1 when absent): the users' calls name one of them */
  devices?: number;
  /** calls per user per run */
  batch: number;
  detectors: readonly DetectorName[];
  corpus?: string;
  sched?: { strategy: 'random' | 'pct' };
  /** fault injection in every run */
  fault?: FaultConfig;
  minimise: boolean;
  /** runs minimisation may spend over every finding */
  minimise_runs: number;
  /** only findings whose key matches count */
  target?: RegExp;
  /** generate the mdev lifecycle calls (mdev_probe, mdev_remove) too */
  lifecycle?: boolean;
  progress?: (s: CampaignProgress) => void;
  /** set to stop (Ctrl-C): the campaign ends after the run in progress */
  stop?: { requested: boolean };
}

export interface CampaignProgress {
  runs: number;
  calls: number;
  secs: number;
  corpus: number;
  findings: number;
}

export interface CampaignResult {
  runs: number;
  calls: number;
  secs: number;
  corpus: number;
  coverage: SharedArrayBuffer;
  findings: FuzzFinding[];
  interrupted: boolean;
  hangs: number;
}

/** A rig finding as the fuzzer reports it: the users' failed `fuzz.` checks are errno or exception findings. */
export function classify(f: Finding, token: string, calls: number): FuzzFinding {
  const m = /^fuzz\.(errno|exception):(.*)$/.exec(f.id);
  if (m !== null) return { ...f, kind: m[1] as 'errno' | 'exception', id: m[2]!, token, calls };
  return { ...f, token, calls };
}

/** Some program closes an FD (of device `dev`, when given): a close, or a remove that unplugs them. */
export const closes_of = (p: Programs, dev?: number): boolean => p.some((u) => u.some((c) => (c.op === 'close_fd' || c.op === 'mdev_remove') && (dev === undefined || (c.d ?? 0) === dev)));

/** The devices of a run some program closes an FD of (the per-device `closes` of exec.ts). */
const closes_on = (p: Programs, devices: number): number[] => Array.from({ length: devices }, (_, d) => d).filter((d) => closes_of(p, d));

/** The program creates or removes the mdev: FDs go through the vfio core's references, users answer REQ. */
export const lifecycle_of = (p: Programs): boolean => p.some((u) => u.some((c) => is_lifecycle_op(c.op)));

export async function run_token(rig: Rig, t: FuzzToken, detectors: readonly DetectorName[], coverage?: SharedArrayBuffer): Promise<RunOutcome> {
  return rig.run({
    variant: t.variant,
    scenario: fuzz_scenario,
    users: t.users,
    seed: t.seed,
    detectors,
    params: { prog: JSON.stringify(t.programs), closes: closes_of(t.programs), fault: t.fault !== undefined, ...(t.nd !== undefined ? { closes_on: JSON.stringify(closes_on(t.programs, t.nd)) } : {}), ...(lifecycle_of(t.programs) ? { lifecycle: true } : {}) },
    ...(t.nd !== undefined ? { devices: t.nd } : {}),
    ...(t.fault !== undefined ? { fault: t.fault } : {}),
    iterations: 1e9,
    // a bound on the calls, not a target: the users stop at the deadline; a run still going
    // 15 s past it is a livelock (a quiesce that never ends)
    duration_s: 30 + count_calls(t.programs) / t.users / 50,
    grace_ms: 15_000,
    hang_ms: 20_000,
    ...(coverage !== undefined ? { coverage } : {}),
    ...(t.sched !== undefined ? { sched: { strategy: t.sched.strategy, seed: t.sched.seed, depth: DEFAULTS.depth, expected: DEFAULTS.expected, max_steps: 400_000, ...(t.sched.forced !== undefined ? { forced: t.sched.forced } : {}) } } : {}),
  });
}

/** True when `run` reached something `total` has not (and adds nothing). */
function new_coverage(run: SharedArrayBuffer, total: SharedArrayBuffer): boolean {
  const r = new Int32Array(run);
  const t = new Int32Array(total);
  for (let i = 0; i < r.length; i++) {
    if (i >= W.active && i < W.pairs) continue;
    if (r[i]! > 0 && t[i] === 0) return true;
  }
  return false;
}

/** A rig for the token's users and devices (a fuzz run always loads the fuzz module). */
export const rig_for_token = (t: Pick<FuzzToken, 'users' | 'nd'>): Promise<Rig> => Rig.start(t.users, [fuzz_scenario.module], t.nd ?? 1);

/** The corpus entries of `variant` made with `devices` devices (a program names devices by index). */
function load_corpus(dir: string, variant: string, devices: number): Programs[] {
  if (!existsSync(dir)) return [];
  const out: Programs[] = [];
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.json')).sort()) {
    try {
      const e = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { variant?: string; devices?: number; programs?: Programs };
      if (e.variant === variant && (e.devices ?? 1) === devices && Array.isArray(e.programs)) out.push(e.programs);
    } catch {
      // a damaged entry is skipped: the corpus is a cache, not an input the user wrote
    }
  }
  return out;
}

function save_corpus(dir: string, variant: string, devices: number, p: Programs): void {
  mkdirSync(dir, { recursive: true });
  const text = JSON.stringify({ variant, ...(devices > 1 ? { devices } : {}), programs: p });
  writeFileSync(join(dir, `${variant}-${fnv1a(0, text).toString(16).padStart(8, '0')}.json`), text + '\n');
}

export async function campaign(o: CampaignOpts): Promise<CampaignResult> {
  const v = variant_by_name(o.variant);
  if (v === undefined) throw new Error(`no variant ${o.variant}`);
  const f = v.features;
  const total = alloc_coverage();
  const devices = o.devices ?? 1;
  const nd = devices > 1 ? { nd: devices } : {};
  const corpus: Programs[] = o.corpus !== undefined ? load_corpus(o.corpus, o.variant, devices) : [];
  const r = new Rng(mix(o.seed, 0xc0a9));
  const found = new Map<string, FuzzFinding>();
  let rig = await rig_for_token({ users: o.users, ...nd });
  const t0 = performance.now();
  let runs = 0;
  let calls = 0;
  let hangs = 0;
  const secs = (): number => (performance.now() - t0) / 1000;
  try {
    // the budget counts the calls generated: a run whose users have no FD (an injected open
    // failure) makes none, and must still end the campaign
    let planned = 0;
    while (planned < o.calls && secs() < o.duration && o.stop?.requested !== true) {
      const seed = mix(o.seed, runs) >>> 0;
      const left = Math.max(1, Math.ceil((o.calls - planned) / o.users));
      const n = Math.min(o.batch, left);
      const shape = { devices, lifecycle: o.lifecycle === true };
      const programs = corpus.length > 0 && r.chance(0.5) ? mutate(f, corpus[r.range([0, corpus.length - 1])]!, seed, o.batch, shape) : gen_programs(f, seed, o.users, n, DEFAULT_MIX, shape);
      const t: FuzzToken = { variant: o.variant, seed, users: o.users, programs, ...nd, ...(o.sched !== undefined ? { sched: { strategy: o.sched.strategy, seed } } : {}), ...(o.fault !== undefined ? { fault: o.fault } : {}) };
      const cov = alloc_coverage();
      const out = await run_token(rig, t, o.detectors, cov);
      runs++;
      planned += count_calls(programs);
      calls += out.report.stats['user.fuzz.calls'] ?? 0;
      if (rig.dead) {
        hangs++;
        rig = await rig_for_token(t);
      }
      if (new_coverage(cov, total)) {
        corpus.push(programs);
        if (o.corpus !== undefined) save_corpus(o.corpus, o.variant, devices, programs);
      }
      merge_coverage(total, cov);
      let token: string | null = null;
      for (const x of out.report.findings) {
        token ??= encode_token(t);
        const ff = classify(x, token, count_calls(programs));
        const k = finding_key(ff);
        if (o.target !== undefined && !o.target.test(k)) continue;
        const seen = found.get(k);
        if (seen === undefined) found.set(k, ff);
        else seen.count = (seen.count ?? 1) + (ff.count ?? 1);
      }
      o.progress?.({ runs, calls, secs: secs(), corpus: corpus.length, findings: found.size });
    }
    const cut = o.stop?.requested === true;
    if (o.minimise && !cut) {
      // errno and exception findings first: they recur without a race; a total bound keeps it short
      const order = [...found].sort(([, a], [, b]) => Number(b.kind === 'errno' || b.kind === 'exception') - Number(a.kind === 'errno' || a.kind === 'exception'));
      let spent = 0;
      for (const [k, ff] of order) {
        if (spent >= o.minimise_runs || o.stop?.requested === true) break;
        const m = await minimise(rig, ff, k, o.detectors, Math.min(40, o.minimise_runs - spent), o.stop);
        spent += m.runs;
        rig = m.rig;
        found.set(k, m.finding);
      }
    }
    // a stop during the minimisation ends it too: the findings stay as found, the run is interrupted
    const interrupted = o.stop?.requested === true;
    return { runs, calls, secs: secs(), corpus: corpus.length, coverage: total, findings: [...found.values()], interrupted, hangs };
  } finally {
    await rig.close();
  }
}

/** Does the program still show finding `key`? Free mode gets two tries (a race may not recur at once). */
async function shows(rig: Rig, t: FuzzToken, key: string, detectors: readonly DetectorName[]): Promise<{ yes: boolean; rig: Rig; out: RunOutcome | null }> {
  const tries = t.sched !== undefined ? 1 : 2;
  for (let k = 0; k < tries; k++) {
    const out = await run_token(rig, t, detectors);
    const hit = out.report.findings.some((x) => finding_key(classify(x, '', 0)) === key);
    if (rig.dead) rig = await rig_for_token(t);
    if (hit) return { yes: true, rig, out };
  }
  return { yes: false, rig, out: null };
}

/** The departures of a controlled run from the default scheduler: (decision index, actor) pairs. */
export function departures(out: RunOutcome): [number, number][] {
  const cs: [number, number][] = [];
  for (const [k, d] of (out.sched?.decisions ?? []).entries()) if (d.pick !== default_pick(d.cur === 0xff ? -1 : d.cur, d.mask, d.kind)) cs.push([k, d.pick]);
  return cs;
}

/**
 * Minimise a failing program: its calls (chunks, halving down to single calls, per user), then,
 * in controlled mode, its schedule: the run's departures from the default scheduler go through
 * ddmin, and what is left is a `sparse` schedule of a few preemption points that still shows the
 * finding. Bounded: at most `budget` runs.
 */
export async function minimise(rig0: Rig, ff: FuzzFinding, key: string, detectors: readonly DetectorName[], budget = 80, stop?: { requested: boolean }): Promise<{ finding: FuzzFinding; rig: Rig; runs: number }> {
  const t0 = decode_token(ff.token);
  if (typeof t0 === 'string') return { finding: ff, rig: rig0, runs: 0 };
  let rig = rig0;
  let best = t0;
  let runs = 0;
  const attempt = async (t: FuzzToken): Promise<RunOutcome | null> => {
    if (runs >= budget || stop?.requested === true) return null;
    runs++;
    const s = await shows(rig, t, key, detectors);
    rig = s.rig;
    if (s.yes) best = t;
    return s.out;
  };
  for (let u = 0; u < best.programs.length; u++) {
    for (let chunk = Math.ceil(best.programs[u]!.length / 2); chunk >= 1; chunk = chunk === 1 ? 0 : Math.ceil(chunk / 2)) {
      for (let i = 0; i < best.programs[u]!.length && runs < budget; ) {
        const p = best.programs.map((x, j) => (j === u ? [...x.slice(0, i), ...x.slice(i + chunk)] : x));
        if ((await attempt({ ...best, programs: p })) === null) i += chunk;
      }
    }
  }
  if (best.sched !== undefined && best.sched.strategy !== 'sparse' && runs < budget) {
    // the schedule of the minimised program as it ran: its departures are what ddmin shrinks
    const out = await attempt(best);
    const all = out !== null ? departures(out) : [];
    const sched = best.sched;
    const as_sparse = (cs: readonly [number, number][]): FuzzToken => ({ ...best, sched: { strategy: 'sparse', seed: sched.seed, forced: cs.flat() } });
    // the sparse strategy holds at most SCHED_LOG words of pairs
    if (out !== null && all.length <= SCHED_LOG / 2 && (await attempt(as_sparse(all))) !== null) {
      await ddmin(all, async (cs) => (await attempt(as_sparse(cs))) !== null);
    }
  }
  const n = count_calls(best.programs);
  return { finding: { ...ff, token: encode_token(best), calls: n }, rig, runs };
}
