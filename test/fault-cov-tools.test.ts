// Fault injection (--fail-nth, --fail-rate) and --coverage on every tool that runs the driver, not
// only fuzz: the option reaches the run, the JSON says so (and fits its schema), a race token keeps
// its faults so replay fails the same call, and coverage is always in check.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TOOL_SCHEMAS, type ToolName } from '../tools/schema.ts';
import { cli, oneLine, tmp } from './helpers/cli.ts';

interface Cov {
  variant: string;
  cells: { reached: number };
  errnos: { list: string[] };
}
interface WithCov {
  coverage?: Cov[];
  fault?: unknown;
  replay?: string;
}

const parse = (tool: ToolName, out: string): WithCov => {
  const o = JSON.parse(out) as WithCov;
  const r = TOOL_SCHEMAS[tool].safeParse(o);
  expect(r.success, r.success ? '' : JSON.stringify(r.error.issues.slice(0, 3))).toBe(true);
  return o;
};

// mainline's first cp allocation is the chain of the first start: the start answers -ENOMEM
const NTH = ['--fail-nth', 'cp_alloc:1'];

describe('fault injection and coverage on every tool', () => {
  const d = tmp();

  it('stress: the failed allocation is the start\'s -ENOMEM in the coverage it reports', () => {
    const r = cli(['stress', '--scenario', 'S2', '--duration', '1', '--detectors', 'invariants', ...NTH, '--coverage', '--json', '--report', join(d, 's.json')]);
    expect([0, 1], r.stderr).toContain(r.status);
    const o = parse('stress', r.stdout);
    expect(o.fault).toEqual({ nth: { site: 'cp_alloc', n: 1 }, seed: 1 });
    expect(o.coverage![0]!.cells.reached).toBeGreaterThan(0);
    expect(o.coverage![0]!.errnos.list).toContain('write:io -ENOMEM');
    // without the fault, no start fails that way
    const clean = parse('stress', cli(['stress', '--scenario', 'S2', '--duration', '1', '--detectors', 'invariants', '--coverage', '--json', '--report', join(d, 's2.json')]).stdout);
    expect(clean.fault).toBeUndefined();
    expect(clean.coverage![0]!.errnos.list).not.toContain('write:io -ENOMEM');
  });

  it('race keeps the faults in its token; replay fails the same call', () => {
    // v5.3 S12's I2 gives the failing schedule a token to keep the faults in
    const r = cli(['race', '--variant', 'v5.3', '--scenario', 'S12', '--target', 'I2', '--seeds', '1', '--workers', '1', ...NTH, '--coverage', '--no-shrink', '--json', '--report', join(d, 'r.json')]);
    expect([0, 1], r.stderr).toContain(r.status);
    const o = parse('race', r.stdout);
    expect(o.coverage![0]!.errnos.list).toContain('write:io -ENOMEM');
    expect(o.replay).toBeDefined();
    const p = cli(['replay', o.replay!, '--coverage', '--json']);
    expect([0, 1], p.stderr).toContain(p.status);
    const q = parse('replay', p.stdout);
    expect(q.fault).toEqual({ nth: { site: 'cp_alloc', n: 1 }, seed: 1 });
    expect(q.coverage![0]!.errnos.list).toContain('write:io -ENOMEM');
    // a token fixes its run: trace refuses to change its faults
    const t = cli(['trace', o.replay!, '--fail-rate', '0.5', '--out', join(d, 't.json')]);
    expect(t.status).toBe(2);
    expect(oneLine(t)).toMatch(/--fail-rate cannot change it/);
  });

  it('trace and lockstat take them too', () => {
    const t = cli(['trace', '--scenario', 'S2', '--iterations', '3', ...NTH, '--coverage', '--json', '--out', join(d, 't.json')]);
    expect([0, 1], t.stderr).toContain(t.status);
    expect(parse('trace', t.stdout).coverage![0]!.errnos.list).toContain('write:io -ENOMEM');
    const l = cli(['lockstat', '--duration', '1', '--fail-rate', '0.05', '--coverage', '--json']);
    expect(l.status, l.stderr).toBe(0);
    const o = parse('lockstat', l.stdout);
    expect(o.fault).toEqual({ rate: 0.05, seed: 1 });
    expect(o.coverage![0]!.cells.reached).toBeGreaterThan(0);
  });

  it('a bad site is one line and exit 2, on every tool', () => {
    for (const tool of ['stress', 'race', 'lockstat', 'trace', 'fuzz']) {
      const r = cli([tool, '--fail-nth', 'heap:1']);
      expect(r.status, tool).toBe(2);
      expect(oneLine(r)).toMatch(/unknown site 'heap'/);
    }
  });
});
