// vfio-ccw-sim: one executable, one subcommand per tool.
// Exit codes: 0 passed, 1 failure found, 2 bad usage, 3 internal error.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { benchPrimitives, formatBench } from './bench.ts';
import { stressPrimitives } from './stress-primitives.ts';

export const EXIT = { ok: 0, failure: 1, usage: 2, internal: 3 } as const;

export class UsageError extends Error {}

export function positiveNumber(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} takes a positive number, got '${v}'`);
    return n;
  };
}

export function positiveInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${name} takes a positive whole number, got '${v}'`);
    return n;
  };
}

function build(): Command {
  const program = new Command('vfio-ccw-sim')
    .description('Find concurrency bugs in the vfio-ccw driver: a TypeScript port on real worker threads, with stress, race search, replay, lock statistics and traces.')
    .exitOverride()
    .showSuggestionAfterError(false)
    .configureOutput({ outputError: (s, write) => write(s.split('\n')[0] + '\n') });

  program
    .command('bench')
    .description('measure the port beside a raw Atomics baseline run in the same process, as ratios')
    .argument('<what>', 'primitives')
    .addOption(new Option('--rounds <n>', 'rounds per measurement (the median is reported)').argParser(positiveInt('--rounds')).default(5))
    .addOption(new Option('--scale <x>', 'multiplies the iteration counts').argParser(positiveNumber('--scale')).default(1))
    .option('--json', 'print one JSON object')
    .action(async (what: string, o: { rounds: number; scale: number; json?: boolean }) => {
      if (what !== 'primitives') throw new UsageError(`bench: unknown benchmark '${what}' (expected: primitives)`);
      const rows = await benchPrimitives(o);
      if (o.json) console.log(JSON.stringify({ bench: what, rows }));
      else console.log(formatBench(`bench primitives (median of ${o.rounds} rounds; ratio = ours / raw)`, rows));
    });

  program
    .command('stress')
    .description('free-running parallel stress of the driver (locktorture style)')
    .addOption(new Option('--duration <s>', 'seconds to run').argParser(positiveNumber('--duration')).default(3))
    .action(async (o: { duration: number }) => {
      const ok = await stressPrimitives(o.duration, (s) => console.log(s));
      console.log(ok ? 'SUCCESS' : 'FAILURE');
      if (!ok) process.exitCode = EXIT.failure;
    });
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = build();
  if (argv.length === 0) {
    program.outputHelp();
    return EXIT.usage;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return process.exitCode === undefined ? EXIT.ok : Number(process.exitCode);
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.help' || e.code === 'commander.version') return EXIT.ok;
      return EXIT.usage;
    }
    if (e instanceof UsageError) {
      process.stderr.write(`vfio-ccw-sim: ${e.message}\n`);
      return EXIT.usage;
    }
    process.stderr.write(`vfio-ccw-sim: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return EXIT.internal;
  }
}
