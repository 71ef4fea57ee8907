// The build at install: the tools run dist/ only when it was built from the current sources; an
// edited source makes them run the sources (never stale code). On a copy of the package.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const ROOT = new URL('..', import.meta.url).pathname;

it('built code runs only while it matches the sources; after an edit the sources run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vfio-ccw-sim-build-'));
  for (const p of ['src', 'tools', 'bin', 'workers', 'package.json', 'package-lock.json']) cpSync(join(ROOT, p), join(dir, p), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  const node = (args: string[], env: Record<string, string> = {}) => spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8', timeout: 240_000, env: { ...process.env, ...env, VFIO_CCW_SIM_BUILD: env.VFIO_CCW_SIM_BUILD ?? '' } });
  const fresh = (): string => node(['--input-type=module', '-e', "const m = await import('./bin/dist.mjs'); process.stdout.write(String(m.fresh()))"]).stdout;
  expect(fresh()).toBe('false'); // no build yet
  const b = node(['bin/build.mjs']);
  expect(b.status, b.stderr).toBe(0);
  expect(fresh()).toBe('true');
  // the built CLI, edited behind the build's back, shows which code runs
  const built = join(dir, 'dist/src/variants/v4.12.js');
  writeFileSync(built, readFileSync(built, 'utf8').replace(/(['"])the initial driver:/, '$1BUILT initial driver:'));
  expect(node(['bin/vfio-ccw-sim.mjs', '--list-variants']).stdout).toMatch(/BUILT initial driver/);
  // a source edit: the stamp no longer matches, the sources run, with the edit
  const src = join(dir, 'src/variants/v4.12.ts');
  writeFileSync(src, readFileSync(src, 'utf8').replace(/(['"])the initial driver:/, '$1EDITED initial driver:'));
  expect(fresh()).toBe('false');
  const r = node(['bin/vfio-ccw-sim.mjs', '--list-variants']);
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/EDITED initial driver/);
  expect(r.stdout).not.toMatch(/BUILT/);
  // rebuilt: the built code runs again
  expect(node(['bin/build.mjs', '--quiet']).status).toBe(0);
  expect(fresh()).toBe('true');
  expect(node(['bin/vfio-ccw-sim.mjs', '--list-variants']).stdout).toMatch(/EDITED initial driver/);
}, 600_000);
