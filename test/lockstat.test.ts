// lockstat: statistics from real workers under known contention patterns, and the CLI as a
// child process (its JSON keys, its text, its usage errors).
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ActorKind, alloc_global, allocBuf, reset_global, type SharedBuf } from '../src/kernel/index.ts';
import { alloc_lockstat, read_lockstat, type LockstatData, type LockstatOptions } from '../src/detect/lockstat.ts';
import { ActorPool, prog, unwrap } from '../src/runtime/pool.ts';
import { AREA_INDEX, TestArea } from './programs/area.ts';

const P = new URL('./programs/lockstat.ts', import.meta.url);
let pool: ActorPool;
let g: SharedBuf;
let area: SharedBuf;

const run = async (actor: number, fn: string, args: unknown = null): Promise<unknown> => unwrap(await pool.run(actor, prog(P, fn), args));

/** Install lockstat on both actors, run `body`, uninstall, read. */
async function measured(o: LockstatOptions, body: () => Promise<void>): Promise<LockstatData> {
  const sab = alloc_lockstat(o);
  for (const a of [1, 2]) await run(a, 'lockstatOn', { sab });
  await body();
  for (const a of [1, 2]) await run(a, 'lockstatOff');
  return read_lockstat(sab);
}

const cls = (d: LockstatData, c: string) => d.classes.find((r) => r.class === c);
const site = (d: LockstatData, c: string, s: string) => d.sites.find((r) => r.class === c && r.site === s);

beforeAll(async () => {
  g = alloc_global();
  area = allocBuf(AREA_INDEX, TestArea.words);
  pool = await ActorPool.start([1, 2].map((id) => ({ id, kind: ActorKind.test, name: `ls${id}` })), g, [area], [P.href]);
});
afterAll(() => pool.close());
beforeEach(() => {
  area.i32.fill(0);
  reset_global(g);
});

describe('lockstat on real workers', () => {
  it('one contention: the waiter blocks on the holder exactly once', async () => {
    const d = await measured({ hold_sample: 1, wait_sample: 1 }, async () => {
      await Promise.all([run(1, 'holder'), run(2, 'waiter')]);
    });
    expect(cls(d, 'test.m')).toMatchObject({ contentions: 1, con_bounces: 1, acquisitions: 2, acq_bounces: 1, waittime_samples: 1, holdtime_samples: 2, trylock_failures: 0 });
    expect(site(d, 'test.m', 'waiter')).toMatchObject({ contentions: 1, con_bounces: 1, acquisitions: 1, contending: 0 });
    // The holder took it first (no previous holder: no bounce) and is the contending point.
    expect(site(d, 'test.m', 'holder')).toMatchObject({ contentions: 0, acquisitions: 1, acq_bounces: 0, contending: 1 });
    const row = cls(d, 'test.m')!;
    expect(row.waittime_min_us).toBeGreaterThan(0);
    expect(row.waittime_max_us).toBe(row.waittime_min_us);
    // Both workers' histograms were merged through the shared buffer: one timed wait in all.
    expect(d.wait_hist['test.m']?.totalCount).toBe(1);
    expect(d.dropped).toBe(0);
  });

  it('an uncontended lock: no contentions, exact acquisitions, one bounce when the other actor takes it', async () => {
    const d = await measured({}, async () => {
      await run(1, 'spinAlone', { n: 10, site: 'first' });
      await run(2, 'spinAlone', { n: 5, site: 'second' });
    });
    expect(cls(d, 'test.s')).toMatchObject({ contentions: 0, con_bounces: 0, acquisitions: 15, acq_bounces: 1, waittime_samples: 0 });
    expect(site(d, 'test.s', 'first')).toMatchObject({ acquisitions: 10, acq_bounces: 0 });
    expect(site(d, 'test.s', 'second')).toMatchObject({ acquisitions: 5, acq_bounces: 1 });
    expect(d.wait_hist['test.s']).toBeUndefined();
  });

  it('counts are exact while hold times are sampled', async () => {
    const d = await measured({ hold_sample: 4 }, async () => {
      await run(1, 'spinAlone', { n: 8, site: 'sampled' });
    });
    expect(cls(d, 'test.s')).toMatchObject({ acquisitions: 8, holdtime_samples: 2 });
    expect(d.hold_sample).toBe(4);
  });

  it('a failed trylock is counted at its site and is not an acquisition', async () => {
    let got = -1;
    const d = await measured({}, async () => {
      const [, r] = await Promise.all([run(1, 'holdForTrylock'), run(2, 'trylocker')]);
      got = r as number;
    });
    expect(got).toBe(0);
    expect(site(d, 'test.m', 'trylocker')).toMatchObject({ trylock_failures: 1, acquisitions: 0, contentions: 0 });
    expect(cls(d, 'test.m')).toMatchObject({ trylock_failures: 1, acquisitions: 1, contentions: 0 });
  });

  it('rejects a sampling rate below 1', () => {
    expect(() => alloc_lockstat({ hold_sample: 0 })).toThrow(/hold_sample/);
  });
});

const BIN = new URL('../bin/vfio-ccw-sim.mjs', import.meta.url).pathname;
const cli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });

describe('vfio-ccw-sim lockstat', () => {
  it('--json: one object with the documented keys, per-class rows for io_mutex and sch->lock', () => {
    const r = cli(['lockstat', '--duration', '1', '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe(''); // no progress unless stderr is a TTY
    const j = JSON.parse(r.stdout) as Record<string, unknown>;
    for (const k of ['tool', 'schema', 'result', 'variant', 'scenario', 'users', 'seed', 'mode', 'duration_s', 'io_cycles', 'io_cycles_per_s', 'time_unit', 'sampling', 'classes', 'sites', 'contention_points', 'contending_points', 'trylock', 'histograms', 'findings', 'lost']) {
      expect(j, k).toHaveProperty(k);
    }
    // a profiler gives no verdict (issue 13): 'pass' means the profile was taken
    expect(j.result).toBe('pass');
    expect(j).toMatchObject({ tool: 'lockstat', schema: 1, variant: 'mainline', scenario: 'S2', mode: 'free', time_unit: 'us' });
    const classes = j.classes as Record<string, unknown>[];
    const rowKeys = ['class', 'con_bounces', 'contentions', 'waittime_min_us', 'waittime_max_us', 'waittime_total_us', 'waittime_avg_us', 'waittime_samples', 'acq_bounces', 'acquisitions', 'holdtime_min_us', 'holdtime_max_us', 'holdtime_total_us', 'holdtime_avg_us', 'holdtime_samples', 'trylock_failures', 'contending'];
    for (const c of ['private.io_mutex', 'subchannel.lock']) {
      const row = classes.find((x) => x.class === c);
      expect(row, c).toBeDefined();
      expect(Object.keys(row!).sort()).toEqual([...rowKeys].sort());
      expect(row!.acquisitions as number).toBeGreaterThan(0);
    }
    const sites = j.sites as Record<string, unknown>[];
    expect(sites.some((s) => s.class === 'private.io_mutex' && s.site === 'vfio_ccw_mdev_write_io_region')).toBe(true);
    const h = j.histograms as { lock_wait: Record<string, unknown>; request_to_irb: Record<string, number> };
    expect(Object.keys(h.request_to_irb).sort()).toEqual(['count', 'max_us', 'mean_us', 'min_us', 'p50_us', 'p90_us', 'p99_9_us', 'p99_us']);
    expect(h.request_to_irb.count).toBeGreaterThan(0);
    expect(h.request_to_irb.p50_us!).toBeLessThanOrEqual(h.request_to_irb.p99_us!);
    const t = j.trylock as Record<string, unknown>;
    for (const k of ['failures', 'by_site', 'eagain_retries', 'eagain_by_op']) expect(t, k).toHaveProperty(k);
    expect(j.sampling).toMatchObject({ hold_every: 16, wait_every: 1 });
  });

  it('text: lock_stat columns, contention points, -EAGAIN retries, histograms, and no verdict', () => {
    const r = cli(['lockstat', '--iterations', '50', '--sample', '2', '--quiet']);
    expect(r.status, r.stderr).toBe(0);
    for (const col of ['class name', 'con-bounces', 'contentions', 'waittime-min', 'waittime-max', 'waittime-total', 'waittime-avg', 'acq-bounces', 'acquisitions', 'holdtime-min', 'holdtime-max', 'holdtime-total', 'holdtime-avg']) expect(r.stdout).toContain(col);
    expect(r.stdout).toMatch(/times are sampled \(1 in 2 acquisitions/);
    expect(r.stdout).toMatch(/^ *private\.io_mutex:/m);
    expect(r.stdout).toMatch(/^ *subchannel\.lock:/m);
    expect(r.stdout).toMatch(/top contention points/);
    expect(r.stdout).toMatch(/trylock failures: \d+/);
    expect(r.stdout).toMatch(/-EAGAIN retries \(client\): \d+/);
    expect(r.stdout).toMatch(/request -> IRB +n +\d+ +p50 +[\d.]+ +p90 +[\d.]+ +p99 +[\d.]+ +p99\.9 +[\d.]+/);
    // lockstat runs no detectors, so it says neither SUCCESS nor FAILURE (stress gives the verdict)
    expect(r.stdout).not.toMatch(/^(SUCCESS|FAILURE)$/m);
  });

  it('--help', () => {
    const r = cli(['lockstat', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Usage: vfio-ccw-sim lockstat/);
    expect(r.stdout).toMatch(/--sample/);
  });

  it.each([
    [['lockstat', '--duration', 'abc'], /--duration/],
    [['lockstat', '--sample', '0'], /--sample/],
    [['lockstat', '--wait-sample', 'x'], /--wait-sample/],
    [['lockstat', '--top', '-1'], /--top/],
    [['lockstat', '--users', '0'], /--users/],
    [['lockstat', '--scenario', 'S99'], /scenario/],
    [['lockstat', '--seed', '-1'], /--seed/],
    [['lockstat', '--frobnicate'], /frobnicate/],
  ])('bad usage %j: one line naming the option, exit 2', (args, re) => {
    const r = cli(args);
    expect(r.status).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(re);
  });
});
