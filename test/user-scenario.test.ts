// A user's own scenario file (examples/my-scenario.ts) runs with the tools, as the README shows.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = new URL('../bin/vfio-ccw-sim.mjs', import.meta.url).pathname;
const EXAMPLE = new URL('../examples/my-scenario.ts', import.meta.url).pathname;

describe('a user scenario file', () => {
  it('runs with stress: its checks and its own invariant are part of the report', () => {
    const d = mkdtempSync(join(tmpdir(), 'vfio-ccw-sim-'));
    const r = spawnSync(process.execPath, [BIN, 'stress', '--scenario', EXAMPLE, '--iterations', '30', '--duration', '10', '--json', '--report', join(d, 'r.json'), '--detectors', 'invariants'], { encoding: 'utf8', timeout: 120_000 });
    expect([0, 1]).toContain(r.status);
    const o = JSON.parse(r.stdout) as { scenario: string; stats: Record<string, number>; findings: { id: string }[] };
    expect(o.scenario).toBe('my-attention');
    expect(o.stats['user.reads']).toBe(30);
    expect(o.stats['hw.unsolicited']).toBeGreaterThan(0);
    // nothing in this workload violates the scenario's own checks
    expect(o.findings.filter((f) => f.id.startsWith('my.'))).toEqual([]);
    expect(JSON.parse(readFileSync(join(d, 'r.json'), 'utf8')).scenario).toBe('my-attention');
  });

  it('a missing scenario file is a one-line usage error', () => {
    const r = spawnSync(process.execPath, [BIN, 'stress', '--scenario', './nope.ts'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/nope\.ts/);
  });
});
