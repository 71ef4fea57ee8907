// Issue 13, row by row: each row of its table run as a child process, the way CI runs the tool.
// Every test checks the exit code, that stderr is one line with no stack trace where the tool
// complains, the report where one is promised, and that no process is left behind.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, cli, interrupt, noLeftover, oneLine, readJson, tmp } from './helpers/cli.ts';

const EXAMPLE = join(ROOT, 'examples/my-scenario.ts');

describe('signals: an interrupted run never passes', () => {
  it.each(['SIGINT', 'SIGTERM', 'SIGHUP'] as const)('stress under %s: an interrupted report, exit 4', async (sig) => {
    const file = join(tmp(), 'r.json');
    const r = await interrupt(['stress', '--duration', '60', '--stat-interval', '0.2', '--detectors', 'none', '--report', file], sig, { out: /I\/O starts/ });
    expect(r.status, r.stderr).toBe(4);
    expect(oneLine(r)).toMatch(new RegExp(`${sig}: stopping`));
    expect(r.stdout.trim().split('\n').at(-1)).toBe('INTERRUPTED');
    expect(readJson(file)).toMatchObject({ result: 'interrupted', tool: 'stress' });
    noLeftover(r.pid);
  });

  it('race under SIGTERM: an interrupted report, exit 4, never "no failure found"', async () => {
    const file = join(tmp(), 'r.json');
    const r = await interrupt(['race', '--scenario', 'S2', '--strategy', 'random', '--budget', '100000', '--all', '--no-shrink', '--detectors', 'none', '--report', file], 'SIGTERM', { err: /search job/ });
    expect(r.status, r.stderr).toBe(4);
    expect(r.stdout).not.toMatch(/no failure found within the budget|SUCCESS/);
    expect(readJson(file)).toMatchObject({ result: 'interrupted', tool: 'race' });
    noLeftover(r.pid);
  });

  it('race on S9 stops after SIGINT even while a long schedule runs (the report is not held by it)', async () => {
    const file = join(tmp(), 'r.json');
    const r = await interrupt(['race', '--scenario', 'S9', '--budget', '100000', '--report', file], 'SIGINT', { err: /search job/ });
    expect(r.status, r.stderr).toBe(4);
    expect(readJson(file)).toMatchObject({ result: 'interrupted' });
    noLeftover(r.pid);
  });

  it('a signal during start-up: a report saying nothing ran, exit 4', async () => {
    const file = join(tmp(), 'r.json');
    const r = await interrupt(['stress', '--duration', '60', '--report', file], 'SIGINT', { readyFile: true });
    expect(r.status, r.stderr).toBe(4);
    const rep = readJson<{ result: string; runs: number }>(file);
    expect(rep).toMatchObject({ result: 'interrupted', runs: 0 });
    noLeftover(r.pid);
  });

  it('a signal while the entry still loads the code: the command reports that nothing ran, exit 4', async () => {
    const file = join(tmp(), 'r.json');
    const r = await interrupt(['stress', '--duration', '60', '--report', file], 'SIGTERM', { readyFile: 'entry' });
    expect(r.status, r.stderr).toBe(4);
    expect(readJson<{ result: string; runs: number }>(file)).toMatchObject({ result: 'interrupted', runs: 0 });
    noLeftover(r.pid);
  });

  it('a second signal exits at once with 4, without waiting for the report', async () => {
    const d = tmp();
    const child = spawn(process.execPath, [BIN, 'stress', '--duration', '60', '--stat-interval', '0.2', '--detectors', 'none', '--report', join(d, 'r.json')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const exited = new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
    await new Promise<void>((res, rej) => {
      const t = setTimeout(() => rej(new Error('no stat line')), 120_000);
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('I/O starts')) {
          clearTimeout(t);
          res();
        }
      });
    });
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString();
      // the second signal once the first was seen
      if (err.includes('stopping')) child.kill('SIGINT');
    });
    child.kill('SIGTERM');
    expect(await exited).toBe(4);
    noLeftover(child.pid!);
  });
});

describe('paths are checked before the run', () => {
  it.each([
    [['stress', '--report', '/etc/passwd/x.json'], '--report'],
    [['race', '--report', '/etc/passwd/x.json'], '--report'],
    [['trace', '--out', '/etc/passwd/x.json'], '--out'],
    [['replay', 'vcs1.x', '--trace-out', '/etc/passwd/x.json'], '--trace-out'],
  ])('%j: exit 2, one line naming the option, nothing run', (args, opt) => {
    const r = cli(args);
    expect(r.status).toBe(2);
    expect(oneLine(r)).toMatch(new RegExp(`${opt}: cannot write '/etc/passwd/x.json'`));
    expect(r.stdout).toBe('');
    noLeftover(r.pid);
  });
});

describe('user files', () => {
  // the README's example scenario, as a user copies it: `import … from 'vfio-ccw-sim'`
  const readmeExample = (): string => {
    // the scenario example (the README also shows variant files in ts blocks)
    const m = /```ts\n(import [^\n]*from 'vfio-ccw-sim';(?:(?!```)[\s\S])*?export const scenario[\s\S]*?)```/.exec(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    expect(m, 'the README shows a scenario').not.toBeNull();
    return m![1]!.replace(/\/\* … [^*]*\*\//g, 'env.client.wait_final?.();');
  };

  it.each([
    ['a .ts file in a directory with no package.json (CommonJS)', 'scenario.ts', null],
    ['a .mts file in a CommonJS project', 'scenario.mts', { name: 'user-project', type: 'commonjs' }],
    ['a .ts file in a module project', 'scenario.ts', { name: 'user-project', type: 'module' }],
  ])('the example scenario runs outside the repository: %s', (_what, name, pkg) => {
    const d = tmp();
    if (pkg !== null) writeFileSync(join(d, 'package.json'), JSON.stringify(pkg));
    // the example file itself, with the import a user of the package writes
    writeFileSync(join(d, name), readFileSync(EXAMPLE, 'utf8'));
    const r = cli(['stress', '--scenario', `./${name}`, '--iterations', '5', '--detectors', 'none', '--json', '--report', join(d, 'r.json')], { cwd: d });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ scenario: 'my-attention', result: 'pass' });
    expect(readmeExample()).toMatch(/export function user/);
    noLeftover(r.pid);
  });

  const bad = (body: string): string => {
    const d = tmp();
    writeFileSync(join(d, 'bad.ts'), body);
    return join(d, 'bad.ts');
  };

  it.each([
    ['a syntax error', "import type { Scenario } from 'vfio-ccw-sim';\nexport const scenario: Scenario = {\n  id: 'x',,\n};\n", /bad\.ts:3: /],
    ['no exports', 'export const nothing = 1;\n', /bad\.ts: does not export `scenario` .* and `user`/],
    ['a throw at import', "export const a = 1;\n\nthrow new Error('not today');\n", /bad\.ts:3: threw while loading: not today/],
  ])('a scenario file with %s: exit 2, one line naming the file and line', (_what, body, re) => {
    const f = bad(body);
    const r = cli(['stress', '--scenario', f, '--duration', '1']);
    expect(r.status).toBe(2);
    expect(oneLine(r)).toMatch(re);
    noLeftover(r.pid);
  });

  it('a user program that throws during a run is a scenario error, kept apart from the findings, with the user\'s stack', () => {
    const d = tmp();
    copyFileSync(EXAMPLE, join(d, 'x.ts'));
    const src = readFileSync(EXAMPLE, 'utf8')
      .replace(/from '\.\.\/src\/index\.ts'/, "from 'vfio-ccw-sim'")
      .replace(/(export function user\([^)]*\)[^{]*\{)/, "$1\n  if (args.user >= 0) throw new Error('my bug');");
    writeFileSync(join(d, 'x.ts'), src);
    const line = src.split('\n').findIndex((l) => l.includes("throw new Error('my bug')")) + 1;
    const file = join(d, 'r.json');
    const r = cli(['stress', '--scenario', join(d, 'x.ts'), '--iterations', '5', '--detectors', 'invariants', '--report', file]);
    expect(r.status, r.stderr).toBe(2);
    expect(oneLine(r)).toContain(`${join(d, 'x.ts')}:${line}: the scenario threw during the run: my bug`);
    const rep = readJson<{ findings: { id: string }[]; scenario_errors: { where: string; stack: string }[] }>(file);
    expect(rep.findings.map((f) => f.id)).not.toContain('user-failed');
    expect(rep.scenario_errors[0]!.where).toBe(`${join(d, 'x.ts')}:${line}`);
    expect(rep.scenario_errors[0]!.stack).toMatch(/my bug/);
    // the stack names the user's file and line, not the bundle's
    expect(rep.scenario_errors[0]!.stack).toContain(`${join(d, 'x.ts')}:${line}:`);
    noLeftover(r.pid);
  });
});

describe('bounds and verdicts', () => {
  it('--grace is an option shown in --help, and bounds a livelocked run (v4.12 S8)', () => {
    expect(cli(['stress', '--help']).stdout).toMatch(/--grace <s>/);
    const file = join(tmp(), 'r.json');
    const r = cli(['stress', '--variant', 'v4.12', '--scenario', 'S8', '--duration', '1', '--grace', '1', '--detectors', 'none', '--quiet', '--report', file]);
    const rep = readJson<{ result: string; findings: { id: string; message: string }[] }>(file);
    expect(r.status).toBe(rep.result === 'fail' ? 1 : 0);
    // if it livelocks, the report says so after the grace given, not after a fixed minute
    for (const f of rep.findings.filter((x) => x.id === 'livelock')) expect(f.message).toMatch(/still running 1 s past the deadline/);
    noLeftover(r.pid);
  });

  it("race --target '[': exit 2, one line", () => {
    const r = cli(['race', '--target', '[']);
    expect(r.status).toBe(2);
    expect(oneLine(r)).toMatch(/--target/);
  });

  it('stress with nothing applicable (v4.12 S12): SKIPPED, exit 5', () => {
    const file = join(tmp(), 'r.json');
    const r = cli(['stress', '--variant', 'v4.12', '--scenario', 'S12', '--report', file]);
    expect(r.status, r.stderr).toBe(5);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('SKIPPED');
    expect(readJson(file)).toMatchObject({ result: 'skipped' });
    noLeftover(r.pid);
  });

  it('race with nothing applicable (v4.12 S12): exit 5', () => {
    const file = join(tmp(), 'r.json');
    const r = cli(['race', '--variant', 'v4.12', '--scenario', 'S12', '--report', file, '--quiet']);
    expect(r.status, r.stderr).toBe(5);
    expect(readJson(file)).toMatchObject({ result: 'skipped' });
  });

  it('lockstat gives no verdict: exit 0 and no SUCCESS or FAILURE, whatever the workload checked', () => {
    const r = cli(['lockstat', '--duration', '1', '--quiet']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/^(SUCCESS|FAILURE)$/m);
    noLeftover(r.pid);
  });

  it('trace says what the rings dropped, and refuses options a token fixes', () => {
    const d = tmp();
    const r = cli(['trace', '--scenario', 'S2', '--iterations', '20', '--json', '--out', join(d, 't.json')]);
    expect([0, 1], r.stderr).toContain(r.status);
    const j = JSON.parse(r.stdout) as { events: number; dropped: number; out: string };
    expect(j.events).toBeGreaterThan(0);
    expect(existsSync(j.out)).toBe(true);
    const t = cli(['trace', '--scenario', 'S2', '--iterations', '20', '--out', join(d, 't2.json')]);
    if (j.dropped > 0) expect(t.stdout).toMatch(/the rings wrapped: .* older ones dropped/);
    const v = cli(['trace', 'vcs1.x', '--variant', 'v5.3', '--out', join(d, 't3.json')]);
    expect(v.status).toBe(2);
    expect(oneLine(v)).toMatch(/--variant cannot change it/);
  });
});

describe('tokens', () => {
  let token = '';
  beforeAll(() => {
    const file = join(tmp(), 'r.json');
    cli(['race', '--variant', 'v5.3', '--scenario', 'S12', '--budget', '200', '--seeds', '1', '--workers', '1', '--target', 'I2', '--no-shrink', '--quiet', '--report', file]);
    token = readJson<{ replay: string }>(file).replay;
  }, 180_000);

  it('a token with characters appended is refused as damaged: exit 2', () => {
    for (const t of [token + 'A', token + 'xyz', token.slice(0, -1), token + '!']) {
      const r = cli(['replay', t]);
      expect(r.status, t).toBe(2);
      expect(oneLine(r)).toMatch(/damaged/);
    }
  });

  it('a token made on other sources: "made on X, this is Y", exit 2', () => {
    const body = JSON.parse(inflateRawSync(Buffer.from(token.slice(5), 'base64url')).toString()) as { sv: string };
    const here = body.sv;
    const other = 'vcs1.' + deflateRawSync(Buffer.from(JSON.stringify({ ...body, sv: '0.0.1+000000000000' }))).toString('base64url');
    const r = cli(['replay', other]);
    expect(r.status).toBe(2);
    expect(oneLine(r)).toContain(`made on 0.0.1+000000000000, this is ${here}`);
    expect(cli(['--version']).stdout.trim()).toBe(`vfio-ccw-sim ${here}`);
  });

  it('replay TOKEN | head: a closed pipe ends it quietly', async () => {
    const child = spawn(process.execPath, [BIN, 'replay', token], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    // like head -1: read the first chunk, then close the pipe
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
    expect([0, 1]).toContain(code);
    expect(err).toBe('');
    noLeftover(child.pid!);
  });
});

describe('the command itself', () => {
  it('no arguments: every command named, exit 2', () => {
    const r = cli([]);
    expect(r.status).toBe(2);
    const l = oneLine(r);
    for (const c of ['stress', 'race', 'replay', 'trace', 'lockstat', 'bench']) expect(l).toContain(c);
  });

  it('--version, help <cmd>, --list-scenarios', () => {
    expect(cli(['--version']).stdout).toMatch(/^vfio-ccw-sim \d+\.\d+\.\d+\+[0-9a-f]{12}\n$/);
    const h = cli(['help', 'race']);
    expect(h.status).toBe(0);
    expect(h.stdout).toMatch(/Usage: vfio-ccw-sim race/);
    const s = cli(['--list-scenarios']);
    expect(s.status).toBe(0);
    for (let k = 1; k <= 13; k++) expect(s.stdout).toMatch(new RegExp(`^S${k} `, 'm'));
    expect((JSON.parse(cli(['--list-scenarios', '--json']).stdout) as unknown[]).length).toBe(13);
  });

  it('--help shows defaults as values, and the exit codes, at every level', () => {
    for (const a of [[], ['stress'], ['race'], ['replay'], ['trace'], ['lockstat'], ['bench']]) {
      const r = cli([...a, '--help']);
      expect(r.status).toBe(0);
      expect(r.stdout).not.toMatch(/\["/);
      expect(r.stdout).toMatch(/4 interrupted/);
      expect(r.stdout).toMatch(/5 skipped/);
    }
    expect(cli(['race', '--help']).stdout).toMatch(/default: mainline/);
  });

  it('npm run bench -- io runs', () => {
    const r = spawnSync('npm', ['run', '--silent', 'bench', '--', 'io', '--rounds', '1', '--scale', '0.02', '--json'], { cwd: ROOT, encoding: 'utf8', timeout: 180_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ tool: 'bench', bench: 'io' });
  });
});
