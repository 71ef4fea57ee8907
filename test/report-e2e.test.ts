// Reports on real runs (issue 10, items 3 and 4): signatures do not depend on the seed, the v5.3
// S12 I2 report tells the seed's race in CPU columns, and stress prints one splat per cause with
// no signature twice in its JSON.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rig } from '../src/system/rig.ts';
import { scenario as s12 } from '../src/scenarios/s12-clear-then-start.ts';
import { search } from '../src/sched/search.ts';
import type { Finding } from '../src/report/report.ts';

const BIN = new URL('../bin/vfio-ccw-sim.mjs', import.meta.url).pathname;
const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 240_000 });
const tmp = (): string => mkdtempSync(join(tmpdir(), 'vfio-ccw-sim-'));
const RULE = '==================================================================';

const unique = (fs: readonly Finding[]): boolean => new Set(fs.map((f) => f.signature)).size === fs.length;

describe('signatures across seeds', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await Rig.start(1, [s12.module]);
  });
  afterAll(() => rig.close());

  it('two seed streams of the same controlled search name the same findings the same way', async () => {
    const sigs = async (seed0: number): Promise<string[]> => {
      const r = await search(rig, { variant: 'v5.3', scenario: s12, users: 1, iterations: 2, strategy: 'pct', depth: 3, budget: 20, seed0, bound: 2, detectors: ['invariants', 'trace', 'race'], stopAtFirst: false });
      expect(r.found.every((f) => f.finding.signature !== undefined)).toBe(true);
      return r.found.map((f) => f.finding.signature!).sort();
    };
    const a = await sigs(77);
    const b = await sigs(1_000_004);
    expect(a.length).toBeGreaterThan(5);
    expect(a).toContain('invariant I2 in vfio_ccw_sch_io_todo');
    expect(a).toContain('data-race: fsm_irq / vfio_ccw_sch_io_todo (private->irb)');
    expect(b).toEqual(a);
  }, 600_000);
});

describe('race --variant v5.3 --scenario S12 --target I2', () => {
  it('prints the clear, its interrupt, the start, its helper and the work item in CPU columns, names whole; no signature twice in the JSON', () => {
    const d = tmp();
    const file = join(d, 'race.json');
    const p = run(['race', '--variant', 'v5.3', '--scenario', 'S12', '--target', 'I2', '--quiet', '--no-shrink', '--report', file]);
    expect(p.status).toBe(1);
    const splat = p.stdout.split(RULE)[1]!;
    expect(splat).toMatch(/WARNING: invariant violated: I2/);
    const fl = splat.split('  in detail:')[0]!.split('\n');
    const head = fl.findIndex((l) => /^ {4}CPU\d/.test(l));
    const lines = fl.slice(head + 1).filter((l) => l.trim().endsWith(')') || l.includes('<- preempted'));
    const at = (name: string): { row: number; col: number }[] =>
      lines.flatMap((l, row) => (l.includes(` ${name}()`) || l.trimStart().startsWith(`${name}()`) ? [{ row, col: l.indexOf(`${name}()`) }] : []));
    const first = (name: string): { row: number; col: number } => {
      const x = at(name)[0];
      expect(x, `${name}() in the interleaving`).toBeDefined();
      return x!;
    };
    const clear = first('fsm_do_clear');
    const irq = first('fsm_irq');
    const req = first('fsm_io_request');
    const helper = first('fsm_io_helper');
    const todo = at('vfio_ccw_sch_io_todo');
    // in order: the clear, its interrupt, the new start (and its helper); the work item sets IDLE after the start began
    expect(clear.row).toBeLessThan(irq.row);
    expect(irq.row).toBeLessThan(req.row);
    expect(req.row).toBeLessThan(helper.row);
    expect(todo[todo.length - 1]!.row).toBeGreaterThan(req.row);
    // in CPU columns: the user's three in one column, the interrupt and the work item each in its own
    expect(req.col).toBe(clear.col);
    expect(helper.col).toBe(clear.col);
    expect(new Set([clear.col, irq.col, todo[0]!.col]).size).toBe(3);
    // whole names, wherever they stand
    expect(p.stdout).not.toMatch(/\S…$/m);
    const rep = JSON.parse(readFileSync(file, 'utf8')) as { findings: Finding[]; first_failure: { findings: Finding[] } };
    expect(unique(rep.findings)).toBe(true);
    expect(unique(rep.first_failure.findings)).toBe(true);
    const i2 = rep.first_failure.findings.find((f) => f.signature === 'invariant I2 in vfio_ccw_sch_io_todo')!;
    expect(i2.interleaving!.map((x) => x.function)).toEqual(expect.arrayContaining(['fsm_do_clear', 'fsm_irq', 'fsm_io_request', 'vfio_ccw_sch_io_todo', 'fsm_io_helper']));
    expect(i2.interleaving!.some((x) => x.function.startsWith('scenario_'))).toBe(false);
  }, 300_000);
});

describe('stress on mainline S2 (a short, bounded run)', () => {
  it('prints at most one splat per cause; its JSON holds no signature twice', () => {
    const d = tmp();
    const file = join(d, 'stress.json');
    const p = run(['stress', '--variant', 'mainline', '--scenario', 'S2', '--duration', '2', '--quiet', '--report', file]);
    expect([0, 1]).toContain(p.status);
    const rep = JSON.parse(readFileSync(file, 'utf8')) as { findings: Finding[] };
    expect(unique(rep.findings)).toBe(true);
    expect(rep.findings.every((f) => typeof f.signature === 'string' && typeof f.cause === 'string')).toBe(true);
    const causes = new Set(rep.findings.map((f) => f.cause));
    const splats = p.stdout.split(RULE).slice(1, -1);
    expect(splats.length).toBe(causes.size);
    // every finding is either a splat's head or listed beneath it
    for (const f of rep.findings) expect(p.stdout).toContain(f.signature!);
  }, 300_000);
});
