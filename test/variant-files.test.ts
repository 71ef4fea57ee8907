// Variants as files: each built-in version is its predecessor plus its changes, and a user's patch
// is the same kind of file, run with every tool through `--variant ./file.ts` (child processes).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VARIANTS, VARIANT_NAMES, derive, register_user_variant, variant_by_name } from '../src/variants/index.ts';
import { FSM_IO_HELPERS, driver_for } from '../src/driver/fsm.ts';
import { SCH_QUIESCE, io_todo_by_rule, io_todo_under_io_mutex } from '../src/driver/drv.ts';
import { encode_token } from '../src/sched/token.ts';
import { variant_file_hash } from '../src/variants/load.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/vfio-ccw-sim.mjs');
const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 400_000, cwd: ROOT });
// users' files outside the project: an ES module directory, importing the sources by absolute path
const dir = mkdtempSync(join(tmpdir(), 'vfio-ccw-variant-'));
writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
const API = JSON.stringify(join(ROOT, 'src/index.ts'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const one_line = (stderr: string): string => {
  const lines = stderr.trim().split('\n');
  expect(lines, stderr).toHaveLength(1);
  return lines[0]!;
};

describe('the built-in variants are files', () => {
  it('one file per registry entry, each deriving from its predecessor', () => {
    const files = readdirSync(join(ROOT, 'src/variants')).filter((f) => f.endsWith('.ts') && !['base_of.ts', 'baseline.ts', 'derive.ts', 'index.ts', 'load.ts', 'entry.ts', 'open_close.ts', 'refs.ts', 'registry.ts', 'types.ts'].includes(f));
    expect(files.sort()).toEqual(VARIANT_NAMES.map((n) => `${n}.ts`).sort());
    for (const v of VARIANTS) {
      const text = readFileSync(join(ROOT, 'src/variants', `${v.name}.ts`), 'utf8');
      if (v.base === null) expect(text).toMatch(/export default root\(/);
      else expect(text, v.name).toContain(`export default derive('${v.base}', {`);
      expect(v.base).toBe(v.based_on);
    }
  });

  it('v5.13 states only what the v5.13 series changed over v5.3', () => {
    const a = variant_by_name('v5.3')!;
    const b = variant_by_name('v5.13')!;
    expect(b.features).toEqual({
      ...a.features,
      err_out_sets_idle: true,
      write_resets_idle_on_error: false,
      per_fd_open: false,
      io_todo: { ...a.features.io_todo, idle: 'mdev+freed' },
      cp_rules: { ...a.features.cp_rules, init_busy_if_initialized: true },
    });
  });

  it('derive merges rule objects field by field and keeps the base', () => {
    const v = derive('v5.3', { features: { io_todo: { idle: 'mdev+freed' } } });
    const b = variant_by_name('v5.3')!;
    expect(v.base).toBe('v5.3');
    expect(v.fsm).toBe(b.fsm);
    expect(v.features).toEqual({ ...b.features, io_todo: { ...b.features.io_todo, idle: 'mdev+freed' } });
    expect(b.features.io_todo.idle).toBe('mdev+final'); // the base is untouched
    expect(() => derive('v9.9', {})).toThrow(/unknown base variant 'v9\.9'/);
  });

  it('the driver picks each function once: the form of the version, or the variant\'s own', () => {
    for (const v of VARIANTS) {
      const d = driver_for(v.name);
      expect(d.code.fsm_io_helper).toBe(FSM_IO_HELPERS[v.features.io_helper]);
      expect(d.code.vfio_ccw_sch_quiesce).toBe(SCH_QUIESCE[v.features.quiesce]);
      expect(d.code.vfio_ccw_sch_io_todo).toBe(v.features.io_todo_holds_io_mutex ? io_todo_under_io_mutex : io_todo_by_rule);
    }
    const mine = (): number => 0;
    const v = derive('v5.3', { code: { fsm_io_helper: mine } });
    register_user_variant({ ...v, name: '/nowhere/mine.ts' });
    const d = driver_for('/nowhere/mine.ts');
    expect(d.code.fsm_io_helper).toBe(mine);
    expect(d.code.vfio_ccw_sch_quiesce).toBe(SCH_QUIESCE['retry-once']);
    // and a variant derived from it inherits the replacement
    expect(derive(v, {}).code.fsm_io_helper).toBe(mine);
  });
});

describe('--variant ./file.ts (child processes)', () => {
  const race = (variant: string, scenario: string, budget: number, extra: string[] = []) =>
    run(['race', '--variant', variant, '--scenario', scenario, '--strategy', 'pct', '--budget', String(budget), '--seeds', '1', '--seed', '1', '--workers', '1', '--json', ...extra]);

  it('the serialize-idle patch over v5.3 closes I2 on S12: PCT finds it on v5.3, not on the patch, same seed and budget', () => {
    const base = race('v5.3', 'S12', 200, ['--target', '^I2$', '--seed', '3']);
    expect(base.status, base.stderr).toBe(1);
    expect((JSON.parse(base.stdout) as { findings: { id: string }[] }).findings.map((f) => f.id)).toContain('I2');
    const patched = race('./examples/patch-serialize-idle.ts', 'S12', 200, ['--target', '^I2$', '--seed', '3']);
    expect(patched.status, patched.stderr).toBe(0);
    const rep = JSON.parse(patched.stdout) as { variant: string; findings: { id: string }[] };
    expect(rep.variant).toBe(join(ROOT, 'examples/patch-serialize-idle.ts'));
    expect(rep.findings.map((f) => f.id)).not.toContain('I2');
  });

  it('the broken patch is caught: io_todo writes the I/O region without io_mutex (I1)', () => {
    const r = race('./examples/patch-broken-irb-copy.ts', 'S2', 60);
    expect(r.status, r.stderr).toBe(1);
    const rep = JSON.parse(r.stdout) as { findings: { id: string; message: string }[]; replay: string };
    const i1 = rep.findings.find((f) => f.id === 'I1');
    expect(i1?.message).toMatch(/region written at vfio_ccw_sch_io_todo .* io_mutex/);
  });

  it.each([
    ['a type error', 'bad-type.ts', `import { derive } from ${API};\n` + "export default derive('v5.3', { features: { io_todo: { idle: 'sometimes' } } });\n", /bad-type\.ts does not type-check: line 2: .*sometimes/],
    ['an unknown base', 'bad-base.ts', `import { derive } from ${API};\n` + "export default derive('v9.9', {});\n", /bad-base\.ts does not load: derive: unknown base variant 'v9\.9'/],
    ['no variant exported', 'bad-export.ts', 'export const x = 1;\n', /bad-export\.ts must default-export a variant/],
  ])('a variant file with %s: exit 2, one line naming the file', (_what, name, text, re) => {
    const p = file(name, text);
    const r = run(['stress', '--variant', p, '--duration', '1']);
    expect(r.status).toBe(2);
    expect(one_line(r.stderr)).toMatch(re);
  });

  it('a missing variant file: exit 2, one line', () => {
    const r = run(['stress', '--variant', './no-such-change.ts', '--duration', '1']);
    expect(r.status).toBe(2);
    expect(one_line(r.stderr)).toMatch(/no variant file '\.\/no-such-change\.ts'/);
  });

  it('replaying a token after its variant file changed says so in one line', () => {
    const p = file('changing.ts', `import { derive } from ${API};\n` + "export default derive('v6.2', { description: 'no change' });\n");
    const token = encode_token({ v: p, vh: variant_file_hash(p), s: 'S1', st: 'random', seed: 1, u: 1, it: 1 });
    const same = run(['replay', '--quiet', token]);
    expect(same.stderr).not.toMatch(/changed since/);
    writeFileSync(p, readFileSync(p, 'utf8') + '// edited\n');
    const changed = run(['replay', '--quiet', token]);
    const lines = changed.stderr.trim().split('\n').filter((l) => /changed since the token was made/.test(l));
    expect(lines, changed.stderr).toHaveLength(1);
    expect(lines[0]).toContain(p);
  });
});
