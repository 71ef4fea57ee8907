// The tools as a user runs them: child processes, their output and exit codes.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { interrupt } from './helpers/cli.ts';
import { VARIANT_NAMES } from '../src/variants/registry.ts';

const BIN = new URL('../bin/vfio-ccw-sim.mjs', import.meta.url).pathname;
const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });
const tmp = (): string => mkdtempSync(join(tmpdir(), 'vfio-ccw-sim-'));

describe('vfio-ccw-sim', () => {
  it('--help works at the top and for every subcommand', () => {
    for (const a of [['--help'], ['stress', '--help'], ['bench', '--help']]) {
      const r = run(a);
      expect(r.status, a.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/Usage: vfio-ccw-sim/);
    }
  });

  it.each([
    [['stress', '--duration', 'abc'], /--duration/],
    [['stress', '--users', '0'], /--users/],
    [['stress', '--variant', 'v3.1'], /variant|v3\.1/],
    [['stress', '--scenario', 'S99'], /scenario/],
    [['stress', '--seed', '-1'], /--seed/],
    [['stress', '--detectors', 'bogus'], /--detectors/],
    [['stress', '--delay-inject', '2'], /--delay-inject/],
    [['stress', '--hw', 'p_pci=2'], /--hw/],
    [['stress', '--hw', 'warp=9'], /--hw: unknown machine setting 'warp'/],
    [['race', '--hw', 'start_latency_us=5:1'], /--hw/],
    [['stress', '--frobnicate'], /frobnicate/],
    [['bench', 'nothing'], /nothing/],
    [['bogus'], /bogus/],
  ])('bad usage %j: one line naming the option, exit 2', (args, re) => {
    const r = run(args);
    expect(r.status).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(re);
  });

  it('--list-variants prints every variant, and as JSON', () => {
    const t = run(['--list-variants']);
    expect(t.status).toBe(0);
    for (const n of VARIANT_NAMES) expect(t.stdout).toContain(n);
    const j = JSON.parse(run(['--list-variants', '--json']).stdout) as { name: string }[];
    expect(j.map((v) => v.name)).toEqual([...VARIANT_NAMES]);
  });

  it('stress --json: one object with the stable keys, and a report file', () => {
    const d = tmp();
    const r = run(['stress', '--duration', '1', '--json', '--report', join(d, 'r.json'), '--detectors', 'invariants']);
    expect([0, 1]).toContain(r.status);
    const o = JSON.parse(r.stdout) as Record<string, unknown>;
    for (const k of ['result', 'variant', 'scenario', 'mode', 'findings', 'stats']) expect(o).toHaveProperty(k);
    expect(o.variant).toBe('mainline');
    expect((o.stats as Record<string, number>).io_cycles).toBeGreaterThan(0);
    expect(r.status).toBe(o.result === 'pass' ? 0 : 1);
    expect(JSON.parse(readFileSync(join(d, 'r.json'), 'utf8'))).toMatchObject({ variant: 'mainline', scenario: 'S2' });
  });

  it('stress --hw overrides the machine: with p_pci=1 every start has its intermediate interrupt', () => {
    const r = run(['stress', '--hw', 'p_pci=1', '--iterations', '40', '--json', '--detectors', 'none', '--report', join(tmp(), 'r.json')]);
    const o = JSON.parse(r.stdout) as { stats: Record<string, number> };
    expect(o.stats['hw.intermediate']).toBeGreaterThanOrEqual(o.stats['hw.starts']! - 1);
    expect(o.stats['hw.starts']).toBeGreaterThanOrEqual(40);
  });

  it('stress text: stat lines, a summary, and SUCCESS or FAILURE last', () => {
    const d = tmp();
    const r = run(['stress', '--duration', '2', '--stat-interval', '0.5', '--report', join(d, 'r.json'), '--detectors', 'none']);
    const lines = r.stdout.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('stress: ') && l.includes('I/O starts')).length).toBeGreaterThan(0);
    expect(r.stdout).toMatch(/I\/O cycles: \d+/);
    expect(r.stdout).toMatch(/-EAGAIN retries: \d+/);
    expect(r.stdout).toMatch(/interrupts: raised \d+, handled \d+, delivered \d+/);
    expect(['SUCCESS', 'FAILURE']).toContain(lines.at(-1));
    expect(r.status).toBe(lines.at(-1) === 'SUCCESS' ? 0 : 1);
  });

  it('Ctrl-C during a run stops the workers, still writes the report, and exits', async () => {
    const d = tmp();
    const file = join(d, 'r.json');
    // A handshake, not a sleep: interrupt once the first stat line shows the run is under way.
    const r = await interrupt(['stress', '--duration', '60', '--stat-interval', '0.2', '--report', file, '--detectors', 'none'], 'SIGINT', { out: /I\/O starts/ });
    // an interrupted run never passes: exit 4, result 'interrupted', and the report is written
    expect(r.status).toBe(4);
    expect(r.stderr).toMatch(/SIGINT: stopping/);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('INTERRUPTED');
    const rep = JSON.parse(readFileSync(file, 'utf8')) as { duration_s: number; result: string };
    expect(rep.result).toBe('interrupted');
    expect(rep.duration_s).toBeLessThan(60);
  });
});
