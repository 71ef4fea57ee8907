// race, replay and trace as a user runs them (child processes), and the trace of the S12 failure
// on v5.3 checked against the trace-event format's rules.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { interrupt } from './helpers/cli.ts';

const BIN = new URL('../bin/vfio-ccw-sim.mjs', import.meta.url).pathname;
const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 240_000 });
const tmp = (): string => mkdtempSync(join(tmpdir(), 'vfio-ccw-sim-'));

interface Ev {
  name: string;
  ph: string;
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  id?: number;
  args?: { name?: string };
}

/** The trace-event format's rules (JSON object format) that Perfetto and chrome://tracing rely on. */
function check_trace_format(j: unknown): string[] {
  const errs: string[] = [];
  if (typeof j !== 'object' || j === null || !Array.isArray((j as { traceEvents?: unknown }).traceEvents)) return ['no traceEvents array'];
  const evs = (j as { traceEvents: Ev[] }).traceEvents;
  const known = new Set(['X', 'B', 'E', 'i', 'I', 's', 't', 'f', 'M', 'C']);
  const flows = new Map<number, { s: number; f: number }>();
  for (const [k, e] of evs.entries()) {
    if (typeof e.name !== 'string' || typeof e.ph !== 'string' || !known.has(e.ph)) errs.push(`event ${k}: bad name or phase`);
    if (typeof e.ts !== 'number' || !Number.isFinite(e.ts) || e.ts < 0) errs.push(`event ${k}: bad ts`);
    if (!Number.isInteger(e.pid) || !Number.isInteger(e.tid)) errs.push(`event ${k}: pid/tid not integers`);
    if (e.ph === 'X' && (typeof e.dur !== 'number' || e.dur < 0)) errs.push(`event ${k}: X without dur >= 0`);
    if (e.ph === 'M' && typeof e.args?.name !== 'string') errs.push(`event ${k}: metadata without args.name`);
    if (e.ph === 's' || e.ph === 'f') {
      if (!Number.isInteger(e.id)) errs.push(`event ${k}: flow without id`);
      const p = flows.get(e.id!) ?? { s: 0, f: 0 };
      p[e.ph]++;
      flows.set(e.id!, p);
    }
  }
  for (const [id, p] of flows) if (p.s !== 1 || p.f > 1) errs.push(`flow ${id}: ${p.s} starts, ${p.f} finishes`);
  // Complete slices on one thread must nest: no partial overlap.
  const byTid = new Map<number, Ev[]>();
  for (const e of evs) if (e.ph === 'X') byTid.set(e.tid, [...(byTid.get(e.tid) ?? []), e]);
  for (const [tid, xs] of byTid) {
    xs.sort((a, b) => a.ts - b.ts || b.dur! - a.dur!);
    const stack: Ev[] = [];
    for (const e of xs) {
      while (stack.length > 0 && stack.at(-1)!.ts + stack.at(-1)!.dur! <= e.ts + 1e-9) stack.pop();
      const top = stack.at(-1);
      if (top !== undefined && e.ts + e.dur! > top.ts + top.dur! + 1e-6) errs.push(`tid ${tid}: '${e.name}' overlaps '${top.name}' without nesting`);
      stack.push(e);
    }
  }
  return errs;
}

describe('race, replay, trace', () => {
  it('race finds I2 on v5.3 S12, prints the report and a token; replay reproduces it; its trace is valid trace-event JSON that shows the interleaving', () => {
    const d = tmp();
    const r = run(['race', '--variant', 'v5.3', '--scenario', 'S12', '--strategy', 'pct', '--budget', '200', '--seeds', '2', '--workers', '2', '--target', '^I2$', '--report', join(d, 'race.json'), '--quiet']);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/first failure: schedule \d+/);
    expect(r.stdout).toMatch(/WARNING: invariant violated: I2/);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('FAILURE');
    const rep = JSON.parse(readFileSync(join(d, 'race.json'), 'utf8')) as { replay: string; mode: string; findings: { id: string }[] };
    expect(rep.mode).toBe('controlled');
    expect(rep.replay).toMatch(/^vcs1\./);

    const out = join(d, 'trace.json');
    const p = run(['replay', rep.replay, '--trace-out', out, '--quiet']);
    expect(p.status).toBe(1);
    expect(p.stdout).toMatch(/every step's kind as recorded/);
    expect(p.stdout).toMatch(/I2/);
    const j = JSON.parse(readFileSync(out, 'utf8')) as { traceEvents: Ev[] };
    expect(check_trace_format(j)).toEqual([]);
    // the interleaving: the IRQ actor's fsm_irq, the todo actor's io_todo and the user's request, each on its own track
    const names = (tid: number) => j.traceEvents.filter((e) => e.tid === tid).map((e) => e.name).join('|');
    expect(names(1)).toMatch(/hard IRQ/);
    expect(names(2)).toMatch(/work private->io_work/);
    expect(names(3)).toMatch(/hold private->io_mutex/);
    expect(j.traceEvents.some((e) => e.ph === 's')).toBe(true);
    expect(j.traceEvents.filter((e) => e.ph === 'M').map((e) => e.args?.name)).toEqual(expect.arrayContaining(['irq (CPU1)', 'todo (CPU2)', 'user0 (CPU3)']));
  });

  it('race --strategy dfs exhausts a small scenario under DPOR, and the lost update it finds replays', () => {
    const d = tmp();
    const file = join(d, 'dfs.json');
    const scn = new URL('./fixtures/counter-scenario.ts', import.meta.url).pathname;
    const r = run(['race', '--scenario', scn, '--users', '2', '--iterations', '1', '--strategy', 'dfs', '--bound', '8', '--seeds', '1', '--workers', '1', '--budget', '500', '--all', '--no-shrink', '--detectors', 'none', '--report', file, '--quiet']);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/exhausted after \d+ schedules: every backtrack choice DPOR found within 8 preemption\(s\) was run/);
    const rep = JSON.parse(readFileSync(file, 'utf8')) as { stats: { schedules: number }; dfs: { exhausted: boolean[] }; findings: { id: string; replay: string }[] };
    expect(rep.dfs.exhausted).toEqual([true]);
    expect(rep.stats.schedules).toBeLessThan(60);
    const lost = rep.findings.find((f) => f.id === 'T.lost-update');
    expect(lost).toBeDefined();
    const p = run(['replay', lost!.replay, '--quiet']);
    expect(p.stdout).toMatch(/every step's kind as recorded/);
    expect(p.stdout).toMatch(/T\.lost-update/);
  });

  it('a shrunk scenario-check failure (mainline S12) shows the interleaving of the detector finding of the same run', () => {
    const d = tmp();
    const r = run(['race', '--variant', 'mainline', '--scenario', 'S12', '--target', '^S12.todo-frees-own-cp$', '--budget', '400', '--seeds', '1', '--workers', '1', '--detectors', 'invariants,trace', '--report', join(d, 'r.json'), '--quiet']);
    expect(r.status).toBe(1);
    const shrunk = r.stdout.slice(r.stdout.indexOf('shrunk to'));
    expect(shrunk).toMatch(/S12\.todo-frees-own-cp has no interleaving of its own: that of I3, in the same run/);
    expect(shrunk).toMatch(/CPU2 \(todo\)[\s\S]*cp_free: write cp->initialized[\s\S]*WARN I3 fires/);
    // the window opens early enough to show the cause: the clear and its interrupt
    const fl = shrunk.slice(0, shrunk.indexOf('in detail:'));
    expect(fl).toMatch(/fsm_do_clear\(\)[\s\S]*fsm_irq\(\)[\s\S]*cp_free\(\)/);
  });

  it('trace exports a free-mode run', () => {
    const d = tmp();
    const out = join(d, 't.json');
    const r = run(['trace', '--scenario', 'S2', '--iterations', '10', '--out', out]);
    expect([0, 1]).toContain(r.status);
    expect(r.stdout).toMatch(/trace: \d+ events/);
    expect(check_trace_format(JSON.parse(readFileSync(out, 'utf8')))).toEqual([]);
  });

  it.each([
    [['race', '--strategy', 'bogus'], /--strategy/],
    [['race', '--budget', '0'], /--budget/],
    [['race', '--depth', 'x'], /--depth/],
    [['race', '--target', 'I2', '--more', '-1'], /--more/],
    [['replay', 'not-a-token'], /token/],
    [['trace', '--iterations', '-3'], /--iterations/],
  ])('bad usage %j: one line, exit 2', (args, re) => {
    const r = run(args);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(re);
  });
});

describe('race and Ctrl-C', () => {
  it('an interrupted search stops its workers, still writes the report, and exits', async () => {
    const d = mkdtempSync(join(tmpdir(), 'vfio-ccw-sim-'));
    const file = join(d, 'r.json');
    // A handshake, not a sleep: interrupt once the search has announced itself.
    const r = await interrupt(['race', '--variant', 'mainline', '--scenario', 'S2', '--strategy', 'random', '--budget', '100000', '--all', '--no-shrink', '--report', file, '--detectors', 'none'], 'SIGINT', { err: /search job/ });
    // interrupted never passes: exit 4, result 'interrupted' (issue 13)
    expect(r.status).toBe(4);
    expect(r.stderr).toMatch(/SIGINT: stopping/);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('INTERRUPTED');
    const rep = JSON.parse(readFileSync(file, 'utf8')) as { stats: { schedules: number }; result: string };
    expect(rep.result).toBe('interrupted');
    expect(rep.stats.schedules).toBeLessThan(100_000);
  });
});
