// vfio-ccw-sim: one executable, one subcommand per tool.
// Exit codes: 0 passed, 1 failure found, 2 bad usage, 3 internal error.
import { Command, CommanderError, Option } from 'commander';
import { format_variant_table, variants_json } from '../src/variants/registry.ts';
import { ALL_DETECTORS, type DetectorName } from '../src/system/rig.ts';
import { benchIo, benchPrimitives, formatBench } from './bench.ts';
import { nonNegativeNumber, oneOf, positiveInt, positiveNumber, probability, uint32, variantName } from './options.ts';
import { mixArg, scenarioArg } from './scenarios.ts';
import { stress, type Io } from './stress.ts';

export const EXIT = { ok: 0, failure: 1, usage: 2, internal: 3 } as const;

export class UsageError extends Error {}

const realIo: Io = {
  out: (s) => process.stdout.write(s + '\n'),
  err: (s) => process.stderr.write(s + '\n'),
  onInterrupt(fn) {
    let n = 0;
    const h = (): void => {
      n++;
      if (n === 1) fn();
      else process.exit(130); // a second Ctrl-C: give up on the report
    };
    process.on('SIGINT', h);
    return () => process.off('SIGINT', h);
  },
};

function detectorsOption(): Option {
  return new Option('--detectors <list>', `detectors to run, comma separated (${ALL_DETECTORS.join(', ')}); "none" for none`)
    .argParser((v: string) => (v === 'none' ? [] : oneOf<DetectorName>('--detectors', ALL_DETECTORS)(v)))
    .default([...ALL_DETECTORS], 'all');
}

function build(io: Io): Command {
  const program = new Command('vfio-ccw-sim')
    .description('Find concurrency bugs in the vfio-ccw driver: a TypeScript port on real worker threads, with stress, race search, replay, lock statistics and traces.')
    .exitOverride()
    .enablePositionalOptions()
    .showSuggestionAfterError(false)
    .configureOutput({ outputError: (s, write) => write(s.split('\n')[0] + '\n') })
    .option('--list-variants', 'print the driver variants (kernel versions) and exit')
    .option('--json', 'with --list-variants: print them as JSON')
    .action((o: { listVariants?: boolean; json?: boolean }) => {
      if (o.listVariants !== true) {
        program.outputHelp();
        throw new UsageError('a subcommand is required (stress, bench; --help lists them)');
      }
      io.out(o.json === true ? JSON.stringify(variants_json(), null, 2) : format_variant_table());
    });

  program
    .command('stress')
    .description('free-running parallel stress of the driver (locktorture style): stat lines, a report file, SUCCESS or FAILURE')
    .addOption(new Option('--variant <name>', 'driver variant, or a kernel release inside its range (e.g. v6.8)').argParser(variantName).default('mainline'))
    .addOption(new Option('--scenario <id>', 'scenario: S1…S12, its slug, or a .ts file exporting `scenario` and `user`').argParser(scenarioArg).default('S2'))
    .addOption(new Option('--mix <list>', 'run several scenarios in turn (comma list); overrides --scenario').argParser(mixArg))
    .addOption(new Option('--users <n>', 'user worker threads (default: the scenario\'s)').argParser(positiveInt('--users', 8)))
    .addOption(new Option('--duration <s>', 'seconds to run').argParser(positiveNumber('--duration')).default(5))
    .addOption(new Option('--iterations <n>', 'stop each run after n I/O cycles instead of at the deadline').argParser(positiveInt('--iterations')))
    .addOption(new Option('--stutter <s>', 'restart the workload every s seconds (a fresh run each time, state reset)').argParser(positiveNumber('--stutter')))
    .addOption(new Option('--stat-interval <s>', 'seconds between stat lines').argParser(positiveNumber('--stat-interval')).default(1))
    .addOption(new Option('--seed <n>', 'seed of the machine\'s and the users\' decisions').argParser(uint32('--seed')).default(1))
    .addOption(new Option('--delay-inject <p>', 'probability of a short seeded delay at each hook point (widens race windows)').argParser(probability('--delay-inject')))
    .addOption(detectorsOption())
    .addOption(new Option('--report <file>', 'write the JSON report here').default('reports/stress.json'))
    .option('--json', 'print one JSON object instead of text')
    .option('--quiet', 'no periodic stat lines')
    .action(async (o: Record<string, unknown>) => {
      const code = await stress(
        {
          variant: o.variant as string,
          scenario: o.scenario as string,
          ...(o.mix !== undefined ? { mix: o.mix as string[] } : {}),
          ...(o.users !== undefined ? { users: o.users as number } : {}),
          duration: o.duration as number,
          ...(o.iterations !== undefined ? { iterations: o.iterations as number } : {}),
          ...(o.stutter !== undefined ? { stutter: o.stutter as number } : {}),
          statInterval: o.statInterval as number,
          seed: o.seed as number,
          ...(o.delayInject !== undefined ? { delayInject: o.delayInject as number } : {}),
          detectors: o.detectors as DetectorName[],
          json: o.json === true,
          report: o.report as string,
          quiet: o.quiet === true || o.json === true,
        },
        io,
      );
      process.exitCode = code;
    });

  program
    .command('bench')
    .description('measure the port beside a raw Atomics baseline run in the same process, as ratios')
    .argument('<what>', 'primitives | io')
    .addOption(new Option('--variant <name>', 'driver variant for bench io').argParser(variantName).default('mainline'))
    .addOption(new Option('--rounds <n>', 'rounds per measurement (the median is reported)').argParser(positiveInt('--rounds', 1000)).default(5))
    .addOption(new Option('--scale <x>', 'multiplies the iteration counts').argParser(positiveNumber('--scale')).default(1))
    .option('--json', 'print one JSON object')
    .action(async (what: string, o: { rounds: number; scale: number; json?: boolean; variant: string }) => {
      if (what !== 'primitives' && what !== 'io') throw new UsageError(`bench: unknown benchmark '${what}' (expected: primitives, io)`);
      const rows = what === 'io' ? await benchIo(o) : await benchPrimitives(o);
      if (o.json === true) io.out(JSON.stringify({ bench: what, rows }));
      else io.out(formatBench(`bench ${what} (median of ${o.rounds} rounds; ratio = ours / raw)`, rows));
    });
  return program;
}

export async function main(argv: string[], io: Io = realIo): Promise<number> {
  const program = build(io);
  const first = argv[0];
  if (first !== undefined && !first.startsWith('-') && !program.commands.some((c) => c.name() === first)) {
    io.err(`vfio-ccw-sim: unknown command '${first}' (expected ${program.commands.map((c) => c.name()).join(', ')})`);
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
      io.err(`vfio-ccw-sim: ${e.message}`);
      return EXIT.usage;
    }
    io.err(`vfio-ccw-sim: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return EXIT.internal;
  }
}

export { nonNegativeNumber };
