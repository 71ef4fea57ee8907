// The README's commands, run as written (with bounded budgets), each against the exit code the
// README states beside it. The commands are extracted from every ```sh block, so a command added
// to the README later is run here too; one without a stated exit code fails this test.
//
// Conventions the README follows (and this test reads):
//   - a command line in a ```sh block ends with a comment that states its exit code: `# exit 1: …`;
//     a free-mode run, whose meeting a race is up to the host's scheduler, states both: `# exit 1 or 0`
//   - `vfio-ccw-sim …` is the installed command; `npm run <script> -- …` runs package.json's script
//   - a token written `vcs1.…` stands for the token the README's last failing race printed
//   - `npm ci` (the install) and `npm test` (this suite) are not run from inside the suite
// Budgets are bounded so the whole file stays short: --duration at most 1 s, --budget at most
// 300 schedules, --iterations at most 20, --seeds and --workers at most 2, --calls at most 3000;
// stress and lockstat get --duration 1 when the README gives neither; bench gets --rounds 1
// --scale 0.02.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, ROOT, noLeftover, tmp } from './helpers/cli.ts';

const NOT_RUN = new Set(['npm ci', 'npm test']);

export interface ReadmeCommand {
  line: string;
  argv: string[];
  /** the exit codes the README states (a free-mode run: the one with a race first, then without) */
  exit: number[] | null;
}

/** Every command of every ```sh block, with the exit code its comment states. */
export function readme_commands(md: string): ReadmeCommand[] {
  const out: ReadmeCommand[] = [];
  for (const m of md.matchAll(/^```sh\n([\s\S]*?)^```/gm)) {
    for (const raw of m[1]!.replace(/\\\n/g, ' ').split('\n')) {
      const hash = raw.indexOf(' #');
      const cmd = (hash >= 0 ? raw.slice(0, hash) : raw).trim();
      if (cmd === '' || cmd.startsWith('#')) continue;
      const comment = hash >= 0 ? raw.slice(hash + 2) : '';
      const exit = /\bexit (\d)(?: or (\d))?\b/.exec(comment);
      for (const part of cmd.split('&&').map((x) => x.trim())) {
        if (NOT_RUN.has(part)) continue;
        out.push({ line: part, argv: part.split(/\s+/), exit: exit !== null ? exit.slice(1).filter((x) => x !== undefined).map(Number) : null });
      }
    }
  }
  return out;
}

const cap = (argv: string[], opt: string, max: number): void => {
  const k = argv.indexOf(opt);
  if (k >= 0 && Number(argv[k + 1]) > max) argv[k + 1] = String(max);
};

/** The command as this test runs it: the binary by path, the script expanded, budgets bounded. */
function bounded(c: ReadmeCommand, token: string): string[] {
  let argv = [...c.argv];
  if (argv[0] === 'npm' && argv[1] === 'run') {
    const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    const script = scripts[argv[2]!];
    expect(script, `package.json has the script ${argv[2]}`).toBeDefined();
    const rest = argv.slice(3);
    argv = [...script!.split(/\s+/), ...(rest[0] === '--' ? rest.slice(1) : rest)];
    expect(argv.slice(0, 2), 'scripts run the command').toEqual(['node', 'bin/vfio-ccw-sim.mjs']);
    argv = argv.slice(2);
  } else {
    expect(argv[0], c.line).toBe('vfio-ccw-sim');
    argv = argv.slice(1);
  }
  argv = argv.map((a) => (/^vcs1\.\S*…$/.test(a) ? token : a));
  cap(argv, '--duration', 1);
  cap(argv, '--budget', 300);
  cap(argv, '--iterations', 20);
  cap(argv, '--seeds', 2);
  cap(argv, '--workers', 2);
  cap(argv, '--calls', 3000);
  if ((argv[0] === 'stress' || argv[0] === 'lockstat') && !argv.includes('--duration') && !argv.includes('--iterations')) argv.push('--duration', '1');
  if (argv[0] === 'bench') argv.push('--rounds', '1', '--scale', '0.02');
  return argv;
}

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

describe('the README', () => {
  const cmds = readme_commands(README);

  it('states an exit code for every command it shows', () => {
    expect(cmds.length).toBeGreaterThan(5);
    expect(cmds.filter((c) => c.exit === null).map((c) => c.line)).toEqual([]);
  });

  it('finds a command added later, and its stated exit code', () => {
    const more = readme_commands('```sh\nvfio-ccw-sim stress --duration 9   # exit 1 or 0: free mode\nnpm ci && npm run bench -- io   # exit 0\n```\n');
    expect(more).toEqual([
      { line: 'vfio-ccw-sim stress --duration 9', argv: ['vfio-ccw-sim', 'stress', '--duration', '9'], exit: [1, 0] },
      { line: 'npm run bench -- io', argv: ['npm', 'run', 'bench', '--', 'io'], exit: [0] },
    ]);
  });

  // in a fresh directory, with the examples at hand as in a clone; in README order, so a race runs before the replay of its token
  const cwd = tmp();
  symlinkSync(join(ROOT, 'examples'), join(cwd, 'examples'));
  let token = '';
  for (const c of cmds) {
    it(`${c.line}  (exit ${c.exit?.join(' or ')})`, () => {
      const argv = bounded(c, token);
      const isRace = argv[0] === 'race';
      const report = join(cwd, `race-${Math.random().toString(36).slice(2)}.json`);
      if (isRace && !argv.includes('--report')) argv.push('--report', report);
      const r = spawnSync(process.execPath, [BIN, ...argv], { cwd, encoding: 'utf8', timeout: 180_000 });
      expect(c.exit, `${argv.join(' ')}\n${r.stderr}`).toContain(r.status);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      if (isRace && existsSync(report)) {
        const rep = JSON.parse(readFileSync(report, 'utf8')) as { replay?: string };
        if (rep.replay !== undefined) token = rep.replay;
      }
      noLeftover(r.pid);
    });
  }
});
