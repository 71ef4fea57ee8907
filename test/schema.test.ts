// Every command's --json object against its schema in tools/schema.ts (one base, one extension
// per command). The runs are short: the shape is what is checked, not the numbers.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BaseReport, TOOL_SCHEMAS, type ToolName } from '../tools/schema.ts';
import { cli, readJson, tmp } from './helpers/cli.ts';

const check = (tool: ToolName, o: unknown): void => {
  const r = TOOL_SCHEMAS[tool].safeParse(o);
  expect(r.success, r.success ? '' : JSON.stringify(r.error.issues.slice(0, 3))).toBe(true);
  expect(BaseReport.safeParse(o).success).toBe(true);
};

describe('--json objects share one schema', () => {
  const d = tmp();
  let token = '';

  it('stress (the object and the report file)', () => {
    const r = cli(['stress', '--duration', '1', '--detectors', 'invariants', '--json', '--report', join(d, 's.json')]);
    expect([0, 1], r.stderr).toContain(r.status);
    check('stress', JSON.parse(r.stdout));
    check('stress', readJson(join(d, 's.json')));
  });

  it('race and replay', () => {
    const r = cli(['race', '--variant', 'v5.3', '--scenario', 'S12', '--budget', '100', '--seeds', '1', '--workers', '1', '--target', 'I2', '--json', '--report', join(d, 'r.json')]);
    expect([0, 1], r.stderr).toContain(r.status);
    const o = JSON.parse(r.stdout) as { replay?: string };
    check('race', o);
    check('race', readJson(join(d, 'r.json')));
    token = o.replay ?? '';
    expect(token).not.toBe('');
    const p = cli(['replay', token, '--json']);
    expect([0, 1], p.stderr).toContain(p.status);
    check('replay', JSON.parse(p.stdout));
  });

  it('trace', () => {
    const r = cli(['trace', '--iterations', '5', '--json', '--out', join(d, 't.json')]);
    expect([0, 1], r.stderr).toContain(r.status);
    check('trace', JSON.parse(r.stdout));
  });

  it('lockstat', () => {
    const r = cli(['lockstat', '--iterations', '20', '--json']);
    expect(r.status, r.stderr).toBe(0);
    check('lockstat', JSON.parse(r.stdout));
  });

  it('bench', () => {
    const r = cli(['bench', 'primitives', '--rounds', '1', '--scale', '0.02', '--json']);
    expect(r.status, r.stderr).toBe(0);
    check('bench', JSON.parse(r.stdout));
  });

  it('the schemas refuse what they do not describe', () => {
    const base = { tool: 'stress', version: '0.1.0+0', result: 'pass', findings: [], stats: {}, variant: 'mainline', scenario: 'S2', mode: 'free', runs: 1, scenarios: ['S2'] };
    expect(TOOL_SCHEMAS.stress.safeParse(base).success).toBe(true);
    expect(TOOL_SCHEMAS.stress.safeParse({ ...base, result: 'ok' }).success).toBe(false);
    expect(TOOL_SCHEMAS.stress.safeParse({ ...base, undocumented: 1 }).success).toBe(false);
    expect(TOOL_SCHEMAS.stress.safeParse({ ...base, version: undefined }).success).toBe(false);
    expect(TOOL_SCHEMAS.stress.safeParse({ ...base, findings: [{ kind: 'rumour', id: 'x', message: 'y' }] }).success).toBe(false);
  });
});
