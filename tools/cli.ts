// vfio-ccw-sim: one executable, one subcommand per tool.
// Exit codes (tools/errors.ts): 0 passed, 1 a finding, 2 bad usage or user file, 3 internal error,
// 4 interrupted (the report is still written), 5 skipped (nothing applicable).
import type { HwConfig } from '../src/hw/config.ts';
import { DEFAULTS, type BoundBy } from '../src/sched/plan.ts';
import { SEARCH_NAMES } from '../src/sched/explore/index.ts';
import { writeFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { format_variant_table, variants_json } from '../src/variants/index.ts';
import { ALL_DETECTORS, type DetectorName } from '../src/system/rig.ts';
import { SCENARIOS } from '../src/scenarios/index.ts';
import { ScenarioError } from '../src/scenarios/load.ts';
import { source_version } from '../src/sched/token.ts';
import { benchDetectors, benchIo, benchLockstat, benchPrimitives, benchSched, benchStartup, formatBench, type BenchRow } from './bench.ts';
import { header } from './schema.ts';
import { hwOverrides, nonNegativeNumber, oneOf, oneValue, positiveInt, positiveNumber, probability, uint32, variantName, load_variant_options } from './options.ts';
import { mixArg, scenarioArg, scenarioListArg } from './scenarios.ts';
import { devicesOption, scenario_for_devices } from './devices.ts';
import { benchDevices } from './bench-devices.ts';
import { stress } from './stress.ts';
import type { Io } from './io.ts';
import { lockstat } from './lockstat.ts';
import { DEFAULT_HOLD_SAMPLE, DEFAULT_WAIT_SAMPLE } from '../src/detect/lockstat.ts';
import { EXIT, EXIT_TEXT, UsageError } from './errors.ts';
import { handle_signals, quiet_on_epipe, type Interrupt, type StopSignal } from './signals.ts';
import { race, TARGET_MORE } from './race.ts';
import { replay } from './replay.ts';
import { trace_cmd } from './trace-cmd.ts';
import { parse_shard, type Shard } from './shard.ts';
import { merge } from './merge.ts';
import { fuzz } from './fuzz.ts';
import { baselineOption, type BaselineChoice } from './baseline.ts';
import { check, DEFAULT_BUDGET } from './check.ts';
import { base_of } from '../src/variants/base_of.ts';
import { scenario_by_id_or_slug } from '../src/scenarios/index.ts';
import type { Scenario } from '../src/scenarios/types.ts';
import { availableParallelism } from 'node:os';
import { coverageOption, failNthOption, failRateOption, withFault } from './fault-cov.ts';


export { EXIT, UsageError };

/** The process' own streams and signals; `sig` is installed first thing, so a signal during start-up counts too. */
function realIo(sig: Interrupt): Io {
  return {
    out: (s) => void process.stdout.write(s + '\n'),
    err: (s) => void process.stderr.write(s + '\n'),
    onInterrupt: (fn) => sig.on(fn),
    interrupted: () => sig.stopped(),
    onKill: (fn) => sig.on_kill(fn),
  };
}

/** --target: a regular expression, checked here so a bad one is a usage error. */
function regexArg(v: string): string {
  try {
    new RegExp(v);
  } catch (e) {
    throw new InvalidArgumentError(`--target: not a regular expression: ${(e as Error).message.replace(/^Invalid regular expression: /, '')}`);
  }
  return v;
}

/** --variant for race and stress: a comma list, each once. */
function variantList(v: string): string[] {
  return [...new Set(v.split(',').map((x) => variantName(x.trim())))];
}

function scenarioList(v: string): Scenario[] {
  return v.split(',').map((x) => {
    const sc = scenario_by_id_or_slug(x.trim());
    if (sc === undefined) throw new InvalidArgumentError(`--scenarios: unknown scenario '${x.trim()}' (expected S1…S13 or a slug)`);
    return sc;
  });
}

/** What stress and race share after their own options, in help order: baseline, faults, coverage, the report file and how it prints. */
function reportOptions(cmd: Command, help: { report: string; json: string; quiet: string }): Command {
  return cmd
    .addOption(baselineOption())
    .addOption(failNthOption())
    .addOption(failRateOption())
    .addOption(coverageOption())
    .addOption(new Option('--report <file>', 'write the JSON report here').default(help.report))
    .option('--json', help.json)
    .option('--quiet', help.quiet)
    .option('--verbose', 'interleavings also show harness steps (the scenario\'s own code) and machine marks');
}

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
    .version(`vfio-ccw-sim ${source_version()}`, '-V, --version', 'print the version (package version + a hash of the sources, as replay tokens record it)')
    .hook('preAction', async (_program, action) => load_variant_options(action))
    .option('--list-variants', 'print the driver variants (kernel versions) and exit')
    .option('--list-scenarios', 'print the built-in scenarios and exit')
    .option('--json', 'with --list-variants or --list-scenarios: print them as JSON')
    .addHelpText('after', `\n${EXIT_TEXT}`)
    .action((o: { listVariants?: boolean; listScenarios?: boolean; json?: boolean }) => {
      if (o.listVariants === true) io.out(o.json === true ? JSON.stringify(variants_json(), null, 2) : format_variant_table());
      else if (o.listScenarios === true) io.out(o.json === true ? JSON.stringify(scenarios_json(), null, 2) : format_scenarios());
      else {
        program.outputHelp();
        throw new UsageError(`a subcommand is required (${program.commands.map((c) => c.name()).join(', ')}; --help lists them)`);
      }
    });

  const stressCmd = program
    .command('stress')
    .description('free-running parallel stress of the driver (locktorture style): stat lines, a report file, SUCCESS or FAILURE')
    .addOption(new Option('--variant <list>', 'driver variant(s), comma separated: a name, a kernel release inside its range (e.g. v6.8), or a variant file (./my-change.ts); several run each scenario in turn on the same threads').argParser(variantList).default(['mainline'], 'mainline'))
    .addOption(new Option('--scenario <id>', 'scenario: S1…S13, its slug, or a .ts file exporting `scenario` and `user`').argParser(scenarioArg).default('S2'))
    .addOption(new Option('--mix <list>', 'run several scenarios in turn (comma list); overrides --scenario').argParser(mixArg))
    .addOption(new Option('--users <n>', 'user worker threads (default: the scenario\'s)').argParser(positiveInt('--users', 8)))
    .addOption(devicesOption())
    .addOption(new Option('--duration <s>', 'seconds to run (the whole run ends within duration + grace)').argParser(positiveNumber('--duration')).default(5))
    .addOption(new Option('--grace <s>', 'a run still going this long past --duration, with progress, is reported as a livelock and stopped').argParser(positiveNumber('--grace')).default(10))
    .addOption(new Option('--iterations <n>', 'stop each run after n I/O cycles instead of at the deadline').argParser(positiveInt('--iterations')))
    .addOption(new Option('--stutter <s>', 'restart the workload every s seconds (a fresh run each time, state reset)').argParser(positiveNumber('--stutter')))
    .addOption(new Option('--stat-interval <s>', 'seconds between stat lines').argParser(positiveNumber('--stat-interval')).default(1))
    .addOption(new Option('--seed <n>', 'seed of the machine\'s and the users\' decisions').argParser(uint32('--seed')).default(1))
    .addOption(new Option('--delay-inject <p>', 'probability of a short seeded delay at each hook point (widens race windows)').argParser(probability('--delay-inject')))
    .addOption(new Option('--hw <settings>', "machine overrides on top of the scenario's, e.g. p_pci=1,start_latency_us=0:20").argParser(hwOverrides('--hw')))
    .addOption(detectorsOption());
  reportOptions(stressCmd, { report: 'reports/stress.json', json: 'print one JSON object instead of text', quiet: 'no periodic stat lines' })
    .action(async (o: Record<string, unknown>, cmd: Command) => {
      const variants = o.variant as string[];
      const code = await stress(
        {
          variant: variants[0]!,
          ...(variants.length > 1 ? { variants } : {}),
          scenario: scenario_for_devices(cmd, o.scenario as string, o.devices as number),
          devices: o.devices as number,
          ...(o.mix !== undefined ? { mix: o.mix as string[] } : {}),
          ...(o.users !== undefined ? { users: o.users as number } : {}),
          duration: o.duration as number,
          grace: o.grace as number,
          ...(o.iterations !== undefined ? { iterations: o.iterations as number } : {}),
          ...(o.stutter !== undefined ? { stutter: o.stutter as number } : {}),
          statInterval: o.statInterval as number,
          seed: o.seed as number,
          ...(o.delayInject !== undefined ? { delayInject: o.delayInject as number } : {}),
          ...(o.hw !== undefined ? { hw: o.hw as Partial<HwConfig> } : {}),
          detectors: o.detectors as DetectorName[],
          baseline: o.baseline as BaselineChoice,
          json: o.json === true,
          report: o.report as string,
          quiet: o.quiet === true || o.json === true,
          verbose: o.verbose === true,
          ...withFault(o),
          coverage: o.coverage === true,
        },
        io,
      );
      process.exitCode = code;
    });

  const raceCmd = program
    .command('race')
    .description('search schedules in controlled mode (a portfolio on piscina); stop at the first failure and print its report and replay token')
    .addOption(new Option('--variant <list>', 'driver variant(s), comma separated (names, kernel releases or variant files)').argParser(variantList).default(['mainline'], 'mainline'))
    .addOption(new Option('--scenario <list>', 'scenario(s), comma separated: S1…S13, a slug, or a .ts file (several: searched one after another on the same threads)').argParser(scenarioListArg('--scenario')).default(['S12'], 'S12'))
    .addOption(new Option('--strategy <list>', `${SEARCH_NAMES.join(', ')} (dfs: bounded exhaustive; dpor: dfs with partial-order reduction, what dfs runs unless --no-dpor); comma list for a portfolio`).argParser(oneOf<string>('--strategy', SEARCH_NAMES)).default(['pct'], 'pct'))
    .addOption(new Option('--depth <d>', 'PCT depth (bug depth it targets)').argParser(positiveInt('--depth', 16)).default(DEFAULTS.depth))
    .addOption(new Option('--bound <n>', 'dfs: the bound (preemptions, or delays with --bound-by delays)').argParser(positiveInt('--bound', 8)).default(DEFAULTS.bound))
    .addOption(new Option('--bound-by <kind>', 'dfs: count preemptions, or delays (every departure from the default scheduler: small enough to exhaust long scenarios)').argParser(oneValue<BoundBy>('--bound-by', ['preemptions', 'delays'])).default(DEFAULTS.bound_by))
    .option('--no-dpor', 'dfs: try every alternative within the bound (no partial-order reduction)')
    .addOption(new Option('--hw <settings>', "machine overrides on top of the scenario's, e.g. p_pci=1,start_latency_us=0:20 (kept in every token)").argParser(hwOverrides('--hw')))
    .addOption(new Option('--budget <n>', 'schedules to try at most (over the whole portfolio)').argParser(positiveInt('--budget')).default(DEFAULTS.budget))
    .addOption(new Option('--seeds <n>', 'independent seed streams per strategy and variant').argParser(positiveInt('--seeds', 1000)).default(DEFAULTS.seeds))
    .addOption(new Option('--seed <n>', 'first seed').argParser(uint32('--seed')).default(DEFAULTS.seed))
    .addOption(new Option('--workers <n>', 'parallel searches (piscina threads; 1 runs the search on the main thread)').argParser(positiveInt('--workers', 16)).default(2))
    .addOption(new Option('--shard <i/N>', 'run shard i of N of the jobs (seed streams x strategies x variants); "auto" reads JOB_COMPLETION_INDEX and VFIO_CCW_SIM_SHARDS (or auto/N)').argParser((v: string) => parse_shard(v)))
    .addOption(new Option('--users <n>', 'user worker threads').argParser(positiveInt('--users', 8)).default(DEFAULTS.users))
    .addOption(devicesOption())
    .addOption(new Option('--iterations <n>', 'I/O cycles per schedule (for looping scenarios)').argParser(positiveInt('--iterations')).default(DEFAULTS.iterations))
    .addOption(new Option('--target <regex>', 'only findings whose id matches count as the failure (e.g. I2)').argParser(regexArg))
    .addOption(new Option('--more <n>', 'with --target: schedules every stream still runs after the first failure, to list the other orders the target is met in (0: none)').argParser(uint32('--more')).default(TARGET_MORE))
    .option('--all', 'run the whole budget instead of stopping at the first failure')
    .option('--no-shrink', 'do not shrink the failing schedule')
    .addOption(new Option('--detectors <list>', `detectors (${ALL_DETECTORS.join(', ')}); "none" for none`).argParser((v: string) => (v === 'none' ? [] : oneOf<DetectorName>('--detectors', ALL_DETECTORS)(v))).default(['invariants', 'trace'], 'invariants,trace'));
  reportOptions(raceCmd, { report: 'reports/race.json', json: 'print one JSON object', quiet: 'no progress on stderr' })
    .action(async (o: Record<string, unknown>, cmd: Command) => {
      const scenarios = (o.scenario as string[]).map((s) => scenario_for_devices(cmd, s, o.devices as number));
      process.exitCode = await race(
        {
          plan: {
            variants: o.variant as string[],
            ...(scenarios.length > 1 ? { scenarios } : {}),
            searches: o.strategy as string[],
            seeds: o.seeds as number,
            seed: o.seed as number,
            budget: o.budget as number,
            common: {
              scenario: scenarios[0]!,
              users: o.users as number,
              iterations: o.iterations as number,
              depth: o.depth as number,
              bound: o.bound as number,
              bound_by: o.boundBy as BoundBy,
              dpor: o.dpor !== false,
              ...(o.hw !== undefined ? { hw: o.hw as Record<string, unknown> } : {}),
              detectors: o.detectors as DetectorName[],
              ...(o.target !== undefined ? { target: o.target as string, more: o.more as number } : {}),
              stop_at_first: o.all !== true,
            },
          },
          devices: o.devices as number,
          workers: o.workers as number,
          ...(o.shard !== undefined ? { shard: o.shard as Shard } : {}),
          baseline: o.baseline as BaselineChoice,
          shrink: o.shrink !== false,
          ...withFault(o),
          coverage: o.coverage === true,
          json: o.json === true,
          report: o.report as string,
          quiet: o.quiet === true || o.json === true,
          verbose: o.verbose === true,
        },
        io,
      );
    });

  program
    .command('merge')
    .description("combine the reports of a campaign's shards (race --shard i/N) into one: findings merged by signature, budgets and counts summed")
    .argument('<reports...>', 'the shard reports (JSON), every shard 1..N once')
    .addOption(new Option('--out <file>', 'write the merged report here').default('reports/merged.json'))
    .option('--json', 'print one JSON object')
    .action((reports: string[], o: { out: string; json?: boolean }) => {
      process.exitCode = merge({ reports, out: o.out, json: o.json === true }, io);
    });

  program
    .command('check')
    .description('the verdict on a change: every applicable scenario on the variant and its base under random, PCT, DFS (DPOR, one delay) and a delay-injected free run; each finding new, fixed or unchanged; exit 1 only when something is new')
    .addOption(new Option('--variant <name>', 'the variant under test').argParser(variantName).makeOptionMandatory())
    .addOption(new Option('--base <name>', 'the variant to compare with (default: the one --variant derives from)').argParser(variantName))
    .addOption(new Option('--scenarios <list>', 'only these scenarios, comma separated (default: all)').argParser(scenarioList))
    .addOption(new Option('--budget <n>', 'schedules per scenario and strategy').argParser(positiveInt('--budget', 100_000)).default(DEFAULT_BUDGET))
    .addOption(new Option('--jobs <n>', 'cells of the matrix in flight (piscina threads)').argParser(positiveInt('--jobs', 64)).default(availableParallelism()))
    .addOption(new Option('--seed <n>', 'first seed of every strategy, the same on both variants').argParser(uint32('--seed')).default(1))
    .addOption(devicesOption())
    .addOption(baselineOption())
    .addOption(new Option('--junit <file>', 'also write JUnit XML: one test case per scenario x variant'))
    .addOption(new Option('--report <file>', 'write the JSON report here').default('reports/check.json'))
    .option('--json', 'print one JSON object {result, variant, base, new, fixed, unchanged, jobs, budget, …}')
    .option('--quiet', 'no progress on stderr')
    .action(async (o: Record<string, unknown>) => {
      const variant = o.variant as string;
      const base = (o.base as string | undefined) ?? base_of(variant);
      if (base === undefined) throw new UsageError(`check: ${variant} derives from no variant; name one with --base`);
      process.exitCode = await check(
        {
          variant,
          base,
          scenarios: (o.scenarios as Scenario[] | undefined) ?? SCENARIOS,
          budget: o.budget as number,
          jobs: o.jobs as number,
          seed: o.seed as number,
          devices: o.devices as number,
          baseline: o.baseline as BaselineChoice,
          detectors: ALL_DETECTORS,
          json: o.json === true,
          ...(o.junit !== undefined ? { junit: o.junit as string } : {}),
          report: o.report as string,
          quiet: o.quiet === true || o.json === true,
          progress: process.stderr.isTTY === true,
        },
        io,
      );
    });

  program
    .command('replay')
    .description('re-run one schedule from its replay token, check it step by step, and print its trace')
    .argument('<token>', 'a replay token (vcs1.…) printed by race')
    .addOption(new Option('--detectors <list>', `detectors (${ALL_DETECTORS.join(', ')})`).argParser((v: string) => (v === 'none' ? [] : oneOf<DetectorName>('--detectors', ALL_DETECTORS)(v))).default(['invariants', 'trace'], 'invariants,trace'))
    .addOption(new Option('--trace-out <file>', 'also write the run as Chrome trace-event JSON (Perfetto)'))
    .addOption(coverageOption())
    .option('--json', 'print one JSON object')
    .option('--quiet', 'no trace table')
    .option('--verbose', 'interleavings also show harness steps (the scenario\'s own code) and machine marks')
    .action(async (token: string, o: Record<string, unknown>) => {
      process.exitCode = await replay({ token, detectors: o.detectors as DetectorName[], coverage: o.coverage === true, json: o.json === true, quiet: o.quiet === true, verbose: o.verbose === true, ...(o.traceOut !== undefined ? { traceOut: o.traceOut as string } : {}) }, io);
    });

  program
    .command('trace')
    .description('export a run as Chrome trace-event JSON that Perfetto and chrome://tracing open')
    .argument('[token]', 'a replay token; without one, a free-mode run of --scenario')
    .addOption(new Option('--variant <name>', 'driver variant, or a variant file').argParser(variantName).default('mainline'))
    .addOption(new Option('--scenario <id>', 'scenario').argParser(scenarioArg).default('S2'))
    .addOption(new Option('--iterations <n>', 'I/O cycles').argParser(positiveInt('--iterations')).default(20))
    .addOption(new Option('--seed <n>', 'seed').argParser(uint32('--seed')).default(1))
    .addOption(devicesOption())
    .addOption(new Option('--out <file>', 'where to write the JSON').default('reports/trace.json'))
    .addOption(failNthOption())
    .addOption(failRateOption())
    .addOption(coverageOption())
    .option('--json', 'print one JSON object (the run report, the file written, events kept and dropped)')
    .action(async (token: string | undefined, o: Record<string, unknown>, cmd: Command) => {
      if (token !== undefined) {
        const given = ['variant', 'scenario', 'iterations', 'seed', 'devices', 'failNth', 'failRate'].filter((k) => cmd.getOptionValueSource(k) === 'cli').map((k) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`));
        if (given.length > 0) throw new UsageError(`trace: a token fixes the run; --${given[0]} cannot change it (drop it, or drop the token)`);
      }
      process.exitCode = await trace_cmd({ ...(token !== undefined ? { token } : {}), variant: o.variant as string, scenario: scenario_for_devices(cmd, o.scenario as string, o.devices as number), iterations: o.iterations as number, seed: o.seed as number, devices: o.devices as number, out: o.out as string, json: o.json === true, ...withFault(o), coverage: o.coverage === true }, io);
    });

  program
    .command('lockstat')
    .description("lock statistics of a free-mode run (lock_stat's columns per lock class and call site, contention points, trylock failures and -EAGAIN retries, latency histograms)")
    .addOption(new Option('--variant <name>', 'driver variant, a kernel release inside its range (e.g. v6.8), or a variant file (./my-change.ts)').argParser(variantName).default('mainline'))
    .addOption(new Option('--scenario <id>', 'scenario: S1…S13, its slug, or a .ts file exporting `scenario` and `user`').argParser(scenarioArg).default('S2'))
    .addOption(new Option('--users <n>', "user worker threads (default: the scenario's)").argParser(positiveInt('--users', 8)))
    .addOption(devicesOption())
    .addOption(new Option('--duration <s>', 'seconds to run').argParser(positiveNumber('--duration')).default(5))
    .addOption(new Option('--iterations <n>', 'stop after n I/O cycles instead of at the deadline').argParser(positiveInt('--iterations')))
    .addOption(new Option('--seed <n>', "seed of the machine's and the users' decisions").argParser(uint32('--seed')).default(1))
    .addOption(new Option('--sample <n>', 'time the hold of one acquisition in n per actor (counts stay exact)').argParser(positiveInt('--sample', 0x7fffffff)).default(DEFAULT_HOLD_SAMPLE))
    .addOption(new Option('--wait-sample <n>', 'time the wait of one contention in n per actor').argParser(positiveInt('--wait-sample', 0x7fffffff)).default(DEFAULT_WAIT_SAMPLE))
    .addOption(new Option('--top <n>', 'contention points to list').argParser(positiveInt('--top', 1000)).default(10))
    .addOption(failNthOption())
    .addOption(failRateOption())
    .addOption(coverageOption())
    .option('--fast-hw', 'the machine answers at once (profile the software path, not device latency)')
    .option('--json', 'print one JSON object (schema at the top of tools/lockstat.ts)')
    .option('--quiet', 'no progress on stderr')
    .action(async (o: Record<string, unknown>, cmd: Command) => {
      process.exitCode = await lockstat(
        {
          variant: o.variant as string,
          scenario: scenario_for_devices(cmd, o.scenario as string, o.devices as number),
          devices: o.devices as number,
          ...(o.users !== undefined ? { users: o.users as number } : {}),
          duration: o.duration as number,
          ...(o.iterations !== undefined ? { iterations: o.iterations as number } : {}),
          seed: o.seed as number,
          sample: o.sample as number,
          waitSample: o.waitSample as number,
          top: o.top as number,
          fastHw: o.fastHw === true,
          ...withFault(o),
          coverage: o.coverage === true,
          json: o.json === true,
          progress: o.quiet !== true && o.json !== true && process.stderr.isTTY === true,
        },
        io,
      );
    });

  program
    .command('fuzz')
    .description('syzkaller-style fuzzing of the device\'s user interface: generated calls on N user threads, coverage, a corpus, minimised findings with replay tokens')
    .addOption(new Option('--variant <name>', 'driver variant, or a kernel release inside its range').argParser(variantName).default('mainline'))
    .addOption(new Option('--seed <n>', 'seed of the generated programs and the machine').argParser(uint32('--seed')).default(1))
    .addOption(new Option('--calls <n>', 'calls to run in all (over every user)').argParser(positiveInt('--calls')).default(20000))
    .addOption(new Option('--duration <s>', 'stop after this many seconds even if --calls is not reached').argParser(positiveNumber('--duration')).default(3600))
    .addOption(new Option('--users <n>', 'user threads running programs at the same time').argParser(positiveInt('--users', 8)).default(3))
    .addOption(devicesOption('; every call names one of them (now and then one past the last: its FD cannot be opened)'))
    .addOption(new Option('--batch <n>', 'calls per user per run (default 1000 free, 25 controlled)').argParser(positiveInt('--batch', 100000)))
    .addOption(new Option('--strategy <name>', 'free (parallel) or a controlled schedule: random, pct').argParser(oneValue<'free' | 'random' | 'pct'>('--strategy', ['free', 'random', 'pct'])).default('free'))
    .addOption(new Option('--corpus <dir>', 'keep programs that reach new coverage here, and start from those already there'))
    .option('--baseline', 'also run the built-in scenarios on the variant and print their coverage beside the fuzzer\'s; mark findings no scenario showed')
    .addOption(new Option('--baseline-duration <s>', 'seconds per scenario in --baseline').argParser(positiveNumber('--baseline-duration')).default(2))
    .option('--no-minimise', 'keep failing programs as they were found')
    .option('--lifecycle', 'also generate the mdev lifecycle calls (mdev_probe, mdev_remove): a remove waits on the users\' FDs as the vfio core does')
    .addOption(new Option('--replay <token>', 'run a fuzz token\'s program again and report its findings'))
    .addOption(new Option('--repeat <n>', 'with --replay in free mode: tries before giving up').argParser(positiveInt('--repeat', 1000)).default(3))
    .addOption(failNthOption())
    .addOption(failRateOption())
    .addOption(new Option('--target <regex>', 'only findings whose signature matches count (and are minimised), e.g. I16').argParser((v: string) => {
      try {
        return new RegExp(v);
      } catch {
        throw new InvalidArgumentError(`--target: '${v}' is not a regular expression`);
      }
    }))
    .addOption(detectorsOption())
    .addOption(new Option('--report <file>', 'write the JSON report here').default('reports/fuzz.json'))
    .option('--json', 'print one JSON object instead of text')
    .option('--quiet', 'no progress lines')
    .action(async (o: Record<string, unknown>, cmd: Command) => {
      // a token names its devices
      if (o.replay !== undefined && cmd.getOptionValueSource('devices') === 'cli') throw new UsageError('fuzz: --replay: the token fixes the devices; --devices cannot change it');
      process.exitCode = await fuzz(
        {
          variant: o.variant as string,
          seed: o.seed as number,
          calls: o.calls as number,
          duration: o.duration as number,
          users: o.users as number,
          devices: o.devices as number,
          ...(o.batch !== undefined ? { batch: o.batch as number } : {}),
          strategy: o.strategy as 'free' | 'random' | 'pct',
          ...(o.corpus !== undefined ? { corpus: o.corpus as string } : {}),
          baseline: o.baseline === true,
          baselineDuration: o.baselineDuration as number,
          detectors: o.detectors as DetectorName[],
          minimise: o.minimise !== false,
          ...(o.lifecycle === true ? { lifecycle: true } : {}),
          ...(o.replay !== undefined ? { replay: o.replay as string } : {}),
          repeat: o.repeat as number,
          ...withFault(o),
          ...(o.target !== undefined ? { target: o.target as RegExp } : {}),
          report: o.report as string,
          json: o.json === true,
          quiet: o.quiet === true || o.json === true || process.stderr.isTTY !== true,
        },
        io,
      );
    });

  program
    .command('bench')
    .description('measure the port beside a raw Atomics baseline run in the same process, as ratios')
    .argument('[what]', 'primitives | io | sched | detectors | lockstat | startup | devices', 'primitives')
    .addOption(new Option('--variant <name>', 'driver variant for bench io').argParser(variantName).default('mainline'))
    .addOption(new Option('--rounds <n>', 'rounds per measurement (the median is reported)').argParser(positiveInt('--rounds', 1000)).default(5))
    .addOption(new Option('--scale <x>', 'multiplies the iteration counts').argParser(positiveNumber('--scale')).default(1))
    .option('--json', 'print one JSON object')
    .action(async (what: string, o: { rounds: number; scale: number; json?: boolean; variant: string }) => {
      const benches = { primitives: benchPrimitives, io: benchIo, sched: benchSched, detectors: benchDetectors, lockstat: benchLockstat, startup: benchStartup, devices: benchDevices } as const;
      if (!(what in benches)) throw new UsageError(`bench: unknown benchmark '${what}' (expected: ${Object.keys(benches).join(', ')})`);
      const rows = await benches[what as keyof typeof benches](o);
      if (o.json === true) io.out(JSON.stringify(bench_json(what, rows, o.rounds)));
      else io.out(formatBench(`bench ${what} (median of ${o.rounds} rounds; ratio = ours / raw)`, rows));
    });
  for (const c of program.commands) c.addHelpText('after', `\n${EXIT_TEXT}`);
  return program;
}

/** bench --json: the base report with the rows; no verdict (a missed target is `met: false` in its row). */
function bench_json(what: string, rows: BenchRow[], rounds: number): Record<string, unknown> {
  return { ...header('bench'), result: 'pass', findings: [], stats: {}, bench: what, rounds, rows };
}

function scenarios_json(): { id: string; slug: string; title: string; users: { min: number; default: number } }[] {
  return SCENARIOS.map((s) => ({ id: s.id, slug: s.slug, title: s.title, users: { min: s.users.min, default: s.users.default } }));
}

function format_scenarios(): string {
  const w = Math.max(...SCENARIOS.map((s) => s.slug.length));
  return ['id   ' + 'slug'.padEnd(w) + '  what', ...SCENARIOS.map((s) => `${s.id.padEnd(5)}${s.slug.padEnd(w)}  ${s.title}`)].join('\n');
}

/**
 * Run the command line. Without an `io`, the process' own: the signal handlers go in first, so a
 * signal during start-up is seen by the command (it reports that nothing ran), and a closed
 * stdout (`| head`) ends the process quietly.
 */
export async function main(argv: string[], io?: Io, early?: () => StopSignal | null): Promise<number> {
  let sig: Interrupt | null = null;
  if (io === undefined) {
    sig = handle_signals({ err: (s) => void process.stderr.write(s + '\n') });
    // a signal while the entry was still loading this code (bin/vfio-ccw-sim.mjs caught it)
    const before = early?.() ?? null;
    if (before !== null) sig.raise(before);
    quiet_on_epipe(process.stdout);
    quiet_on_epipe(process.stderr);
    // a handshake for tests and wrappers: from now on a signal is the command's to report
    const ready = process.env['VFIO_CCW_SIM_READY_FILE'];
    if (ready !== undefined && ready !== '') writeFileSync(ready, String(process.pid));
  }
  try {
    return await run(argv, io ?? realIo(sig!));
  } finally {
    sig?.dispose();
  }
}

async function run(argv: string[], io: Io): Promise<number> {
  const program = build(io);
  // `help <cmd>` is `<cmd> --help`
  if (argv[0] === 'help') argv = argv.length > 1 ? [argv[1]!, '--help'] : ['--help'];
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
    if (e instanceof UsageError || e instanceof ScenarioError) {
      io.err(`vfio-ccw-sim: ${e.message.split('\n')[0]}`);
      return EXIT.usage;
    }
    // one line; the stack on request (it is for us, not for the user)
    const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
    io.err(`vfio-ccw-sim: internal error: ${msg}${process.env['VFIO_CCW_SIM_DEBUG'] === '1' ? `\n${(e as Error)?.stack ?? ''}` : ' (VFIO_CCW_SIM_DEBUG=1 shows the stack)'}`);
    return EXIT.internal;
  }
}

export { nonNegativeNumber };
