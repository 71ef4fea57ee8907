// A campaign split over shards: race --shard i/N takes a deterministic share of the jobs, and
// merge puts the shards' reports back together as the unsharded run (child processes).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { signature_of } from '../src/report/signature.ts';
import { TOOL_SCHEMAS } from '../tools/schema.ts';
import { parse_shard, shard_jobs } from '../tools/shard.ts';
import type { Finding } from '../src/report/report.ts';

const BIN = new URL('../bin/vfio-ccw-sim.mjs', import.meta.url).pathname;

function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += String(d)));
    c.stderr.on('data', (d: Buffer) => (err += String(d)));
    c.on('exit', (code) => resolve({ code, out, err }));
  });
}

interface Rep {
  result: string;
  findings: Finding[];
  stats: { schedules: number };
  budget: number;
  shard?: { index: number; total: number };
}
const load = (f: string): Rep => JSON.parse(readFileSync(f, 'utf8')) as Rep;
const keys = (r: Rep): string[] => [...new Set(r.findings.map((f) => f.signature ?? signature_of(f)))].sort();

describe('--shard and merge', () => {
  it('parses i/N and auto (JOB_COMPLETION_INDEX is 0-based); a bad value names the option', () => {
    expect(parse_shard('2/3')).toEqual({ index: 2, total: 3 });
    expect(parse_shard('auto', { JOB_COMPLETION_INDEX: '0', VFIO_CCW_SIM_SHARDS: '4' })).toEqual({ index: 1, total: 4 });
    expect(parse_shard('auto/5', { JOB_COMPLETION_INDEX: '4' })).toEqual({ index: 5, total: 5 });
    for (const [v, env] of [['0/3', {}], ['4/3', {}], ['x', {}], ['auto', {}], ['auto', { JOB_COMPLETION_INDEX: '1' }], ['auto/2', { JOB_COMPLETION_INDEX: '2' }]] as const) {
      expect(() => parse_shard(v, env), v).toThrow(/--shard/);
    }
  });

  it('every job lands in exactly one shard', () => {
    const jobs = Array.from({ length: 11 }, (_, k) => k);
    const parts = [1, 2, 3].map((index) => shard_jobs(jobs, { index, total: 3 }));
    expect(parts.flat().sort((a, b) => a - b)).toEqual(jobs);
    expect(parts.map((p) => p.length)).toEqual([4, 4, 3]);
  });

  it('race --all unsharded and as 1/3, 2/3, 3/3: merge gives the same signatures and schedule count', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vfio-ccw-sim-shard-'));
    // v5.3 on S12 has findings within a few schedules; --all runs every job's whole share
    const args = ['race', '--baseline', 'none', '--variant', 'v5.3', '--scenario', 'S12', '--strategy', 'random,pct,dfs', '--all', '--budget', '9', '--seeds', '3', '--no-shrink', '--quiet', '--workers', '1'];
    const whole = await run([...args, '--report', join(dir, 'all.json')]);
    expect(whole.code, whole.err).toBe(1);
    const shards = await Promise.all([1, 2, 3].map((i) => run([...args, '--shard', `${i}/3`, '--report', join(dir, `s${i}.json`)])));
    for (const s of shards) expect([0, 1], s.err).toContain(s.code);
    // a shard missing: no merged verdict, one line, exit 2
    const part = await run(['merge', join(dir, 's1.json'), join(dir, 's3.json'), '--out', join(dir, 'part.json')]);
    expect(part.code).toBe(2);
    expect(part.err.trim().split('\n')).toHaveLength(1);
    expect(part.err).toMatch(/shard\(s\) 2 of 3 missing/);
    const m = await run(['merge', ...[1, 2, 3].map((i) => join(dir, `s${i}.json`)), '--out', join(dir, 'merged.json')]);
    expect(m.code, m.err).toBe(1);
    const a = load(join(dir, 'all.json'));
    const merged = load(join(dir, 'merged.json'));
    expect(a.findings.length).toBeGreaterThan(0);
    expect(keys(merged)).toEqual(keys(a));
    expect(merged.stats.schedules).toBe(a.stats.schedules);
    expect(merged.budget).toBe(a.budget);
    expect(merged.result).toBe('fail');
    // the merged report is a report like the others: one schema checks it
    expect(TOOL_SCHEMAS.merge.safeParse(merged).success).toBe(true);
    expect([1, 2, 3].map((i) => load(join(dir, `s${i}.json`)).shard)).toEqual([1, 2, 3].map((index) => ({ index, total: 3, jobs_total: 9 })));
    // a report from another campaign is refused
    writeFileSync(join(dir, 'other.json'), JSON.stringify({ ...load(join(dir, 's2.json')), seed: 99 }));
    const mixed = await run(['merge', join(dir, 's1.json'), join(dir, 'other.json'), join(dir, 's3.json')]);
    expect(mixed.code).toBe(2);
    expect(mixed.err).toMatch(/another campaign/);
  }, 600_000);
});
