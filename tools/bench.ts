// vfio-ccw-sim bench primitives: our primitives beside raw Atomics, same process, as ratios.
import { ActorKind, alloc_global, allocBuf } from '../src/kernel/index.ts';
import { BENCH_INDEX, BenchArea } from '../src/bench/area.ts';
import { ActorPool, prog, unwrap } from '../src/runtime/pool.ts';
import { availableParallelism, loadavg } from 'node:os';

const PROGS = new URL('../src/bench/primitives.ts', import.meta.url);

export interface BenchRow {
  name: string;
  unit: string;
  ours: number;
  raw: number;
  /** ours/raw for costs, ours/raw throughput for rates */
  ratio: number;
  better: 'lower' | 'higher';
  target: string;
  met: boolean;
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

export async function benchPrimitives(opts: { rounds: number; scale: number }): Promise<BenchRow[]> {
  const g = alloc_global();
  const area = allocBuf(BENCH_INDEX, BenchArea.words);
  const pool = await ActorPool.start([1, 2, 3].map((id) => ({ id, kind: ActorKind.test, name: `bench${id}` })), g, [area], [PROGS.href]);
  const run = async (steps: { actor: number; fn: string; args: unknown }[]): Promise<unknown[]> => {
    area.i32.fill(0);
    const rs = await Promise.all(steps.map((s) => pool.run(s.actor, prog(PROGS, s.fn), s.args)));
    return rs.map((r) => unwrap(r));
  };
  try {
    const rows: BenchRow[] = [];
    const R = opts.rounds;
    const S = opts.scale;

    const un: { ours: number; raw: number }[] = [];
    for (let r = 0; r < R; r++) un.push((await run([{ actor: 1, fn: 'uncontended', args: { iters: Math.round(2e6 * S) } }]))[0] as { ours: number; raw: number });
    const uo = median(un.map((x) => x.ours));
    const ur = median(un.map((x) => x.raw));
    rows.push(row('uncontended mutex lock+unlock', 'ns/pair', uo, ur, 'lower', 1.3));

    for (const n of [2, 3]) {
      const iters = Math.round(2e5 * S);
      const rate = async (raw: boolean): Promise<number> => {
        const ms = (await run([1, 2, 3].slice(0, n).map((actor) => ({ actor, fn: 'contended', args: { iters, n, raw } })))) as number[];
        return (n * iters) / (Math.max(...ms) / 1000);
      };
      const o: number[] = [];
      const w: number[] = [];
      for (let r = 0; r < R; r++) {
        w.push(await rate(true));
        o.push(await rate(false));
      }
      rows.push(row(`contended mutex, ${n} workers`, 'acq/s', median(o), median(w), 'higher', null));
    }

    for (const [name, n, target, better] of [
      ['completion ping-pong, 2 workers', 2, 1.3, 'lower'],
      ['3-worker ring user->irq->todo->user', 3, 0.8, 'higher'],
    ] as const) {
      const rounds = Math.round(20_000 * S);
      const once = async (raw: boolean): Promise<number> => {
        const ms = (await run([1, 2, 3].slice(0, n).map((actor, pos) => ({ actor, fn: 'ring', args: { pos, n, rounds, raw } })))) as number[];
        return Math.max(...ms);
      };
      const o: number[] = [];
      const w: number[] = [];
      for (let r = 0; r < R; r++) {
        w.push(await once(true));
        o.push(await once(false));
      }
      if (better === 'lower') rows.push(row(name, 'us/round trip', (median(o) * 1000) / rounds, (median(w) * 1000) / rounds, 'lower', target));
      else rows.push(row(name, 'cycles/s', rounds / (median(o) / 1000), rounds / (median(w) / 1000), 'higher', target));
    }
    return rows;
  } finally {
    await pool.close();
  }
}

export function row(name: string, unit: string, ours: number, raw: number, better: 'lower' | 'higher', target: number | null): BenchRow {
  const ratio = ours / raw;
  const met = target === null ? true : better === 'lower' ? ratio <= target : ratio >= target;
  return { name, unit, ours, raw, ratio, better, target: target === null ? 'report' : `${better === 'lower' ? '<=' : '>='} ${target}`, met };
}

export function formatBench(title: string, rows: BenchRow[]): string {
  const w = Math.max(...rows.map((r) => r.name.length));
  const f = (x: number): string => (x >= 1e5 ? x.toExponential(2) : x.toFixed(x >= 100 ? 0 : 2));
  const lines = [title];
  for (const r of rows) {
    lines.push(`${r.name.padEnd(w)}  ours ${f(r.ours).padStart(9)} ${r.unit.padEnd(13)} raw ${f(r.raw).padStart(9)}  ratio ${r.ratio.toFixed(2)}  target ${r.target}${r.met ? '' : '  (missed)'}`);
  }
  return lines.join('\n');
}

/** bench io: S2 I/O cycles/s on the real workers beside the raw 3-worker Atomics ring, same process. */
export async function benchIo(opts: { rounds: number; scale: number; variant: string }): Promise<BenchRow[]> {
  const { Rig } = await import('../src/system/rig.ts');
  const { scenario } = await import('../src/scenarios/s02-dasd-read-loop.ts');
  const ring = await benchRing(opts.rounds, Math.round(20_000 * opts.scale));
  const rig = await Rig.start(1, [scenario.module]);
  try {
    const iterations = Math.round(15_000 * opts.scale);
    const measure = async (params: Record<string, number>): Promise<number> => {
      const rates: number[] = [];
      // One warm-up run so start-up and compilation stay out of the figures.
      await rig.run({ variant: opts.variant, scenario, users: 1, seed: 1, iterations: Math.round(5000 * opts.scale), hw: FAST_HW, detectors: [], params });
      for (let r = 0; r < opts.rounds; r++) {
        const t = performance.now();
        const out = await rig.run({ variant: opts.variant, scenario, users: 1, seed: r + 1, iterations, hw: FAST_HW, detectors: [], params });
        rates.push((out.report.stats['user.cycles'] ?? 0) / ((performance.now() - t) / 1000));
      }
      return median(rates);
    };
    return [
      row(`S2 I/O cycles (${opts.variant}, 1 user, no detectors)`, 'cycles/s', await measure({}), ring, 'higher', 0.6),
      // the same loop with one-block programs: the path's fixed cost, without translating ~33 CCWs per I/O
      row(`S2 with 1-block programs (the fixed path)`, 'cycles/s', await measure({ max_blocks: 1 }), ring, 'higher', 0.6),
    ];
  } finally {
    await rig.close();
  }
}

/** The machine answers at once: the benchmark measures the software path, not device latency. */
export const FAST_HW = { start_begin_us: [0, 0] as [number, number], start_latency_us: [0, 0] as [number, number], p_pci: 0, p_error: 0 };

/** Raw 3-worker Atomics ring (the shape of one I/O cycle), cycles/s, median of rounds. */
async function benchRing(rounds: number, n: number): Promise<number> {
  const g = alloc_global();
  const area = allocBuf(BENCH_INDEX, BenchArea.words);
  const pool = await ActorPool.start([1, 2, 3].map((id) => ({ id, kind: ActorKind.test, name: `ring${id}` })), g, [area], [PROGS.href]);
  try {
    const rs: number[] = [];
    for (let r = 0; r < rounds; r++) {
      area.i32.fill(0);
      const ms = await Promise.all([1, 2, 3].map(async (actor, pos) => unwrap<number>(await pool.run(actor, prog(PROGS, 'ring'), { pos, n: 3, rounds: n, raw: true }))));
      rs.push(n / (Math.max(...ms) / 1000));
    }
    return median(rs);
  } finally {
    await pool.close();
  }
}

/** bench sched: baton handoff beside a raw ping-pong (same process); schedules/s for S12. */
export async function benchSched(opts: { rounds: number; scale: number; variant: string }): Promise<BenchRow[]> {
  const { SchedView } = await import('../src/sched/state.ts');
  const { init_strategy } = await import('../src/sched/strategy.ts');
  const { sched_start, sched_wait } = await import('../src/sched/scheduler.ts');
  const SCHED = new URL('../src/bench/sched.ts', import.meta.url);
  const rows: BenchRow[] = [];
  // 1. Handoff cost: ns per baton pass vs half a raw wait/notify round trip.
  const g = alloc_global();
  const area = allocBuf(BENCH_INDEX, BenchArea.words);
  const pool = await ActorPool.start([1, 2].map((id) => ({ id, kind: ActorKind.test, name: `sched${id}` })), g, [area], [PROGS.href, SCHED.href]);
  try {
    const n = Math.round(20_000 * opts.scale);
    const ours: number[] = [];
    const raw: number[] = [];
    for (let r = 0; r < opts.rounds; r++) {
      area.i32.fill(0);
      const rawMs = await Promise.all([1, 2].map(async (actor, pos) => unwrap<number>(await pool.run(actor, prog(PROGS, 'ring'), { pos, n: 2, rounds: n, raw: true }))));
      raw.push((Math.max(...rawMs) * 1e6) / (2 * n)); // one handoff = half a round trip
      const v = new SchedView(g);
      v.reset();
      v.set('mode', 1);
      v.set('users', 2);
      v.set('max_steps', 10 * n);
      init_strategy(v, { strategy: 'random', seed: r + 1, depth: 1, expected: n, actors: [1, 2] });
      const t = performance.now();
      const runs = [1, 2].map((a) => pool.run(a, prog(SCHED, 'points'), { n }));
      await sched_start(g, 2);
      await sched_wait(g, 60_000);
      (await Promise.all(runs)).forEach((x) => unwrap(x));
      ours.push(((performance.now() - t) * 1e6) / Math.max(1, v.get('handoffs')));
    }
    rows.push(row('baton handoff vs raw wait/notify handoff', 'ns/handoff', median(ours), median(raw), 'lower', 1.5));
  } finally {
    await pool.close();
  }
  // 2. Schedules per second of S12 under PCT, beside its raw limit measured in the same run: a
  // raw Atomics wait/notify ring between as many threads as the schedule has actors, doing as
  // many handoffs as one schedule makes on average.
  const { Rig } = await import('../src/system/rig.ts');
  const { scenario } = await import('../src/scenarios/s12-clear-then-start.ts');
  const rig = await Rig.start(1, [scenario.module]);
  // The spin policy before it adapted to the machine (a fixed 2000 loads), on its own workers:
  // they read it from the environment they start with.
  const saved = process.env.VFIO_CCW_SIM_SPIN;
  process.env.VFIO_CCW_SIM_SPIN = '2000';
  const rigOld = await Rig.start(1, [scenario.module]).finally(() => {
    if (saved === undefined) delete process.env.VFIO_CCW_SIM_SPIN;
    else process.env.VFIO_CCW_SIM_SPIN = saved;
  });
  const actors = 3 + 1; // irq, todo, css, one user
  const ids = Array.from({ length: actors }, (_, k) => k + 1);
  const g2 = alloc_global();
  const area2 = allocBuf(BENCH_INDEX, BenchArea.words);
  const rawPool = await ActorPool.start(ids.map((id) => ({ id, kind: ActorKind.test, name: `raw${id}` })), g2, [area2], [PROGS.href, SCHED.href]);
  const one = async (s: number, on = rig): Promise<number> => {
    await on.run({ variant: opts.variant, scenario, users: 1, seed: s, iterations: 1, detectors: ['invariants'], sched: { strategy: 'pct', seed: s, depth: 3, expected: 400 } });
    return new SchedView(on.g).get('handoffs');
  };
  try {
    const k = Math.round(200 * opts.scale);
    let warm = 0;
    for (let s = 0; s < 20; s++) warm += await one(1_000_000 + s); // warm-up; also the handoffs per schedule
    for (let s = 0; s < 20; s++) await one(1_000_000 + s, rigOld);
    const perSchedule = warm / 20;
    const rates: number[] = [];
    const olds: number[] = [];
    const raws: number[] = [];
    const handoffs: number[] = [];
    const floors: number[] = [];
    for (let r = 0; r < opts.rounds; r++) {
      // the control plane alone: a run sent to each actor and its answer awaited, as every schedule does
      const tf = performance.now();
      for (let s = 0; s < k; s++) await Promise.all(ids.map(async (actor) => unwrap<number>(await rawPool.run(actor, prog(SCHED, 'noop'), {}))));
      floors.push(k / ((performance.now() - tf) / 1000));
      area2.i32.fill(0);
      const trips = Math.max(1, Math.round((k * perSchedule) / actors));
      const ms = await Promise.all(ids.map(async (actor, pos) => unwrap<number>(await rawPool.run(actor, prog(PROGS, 'ring'), { pos, n: actors, rounds: trips, raw: true }))));
      raws.push(((trips * actors) / perSchedule) / (Math.max(...ms) / 1000));
      let h = 0;
      const t = performance.now();
      for (let s = 0; s < k; s++) h += await one(r * k + s);
      rates.push(k / ((performance.now() - t) / 1000));
      handoffs.push(h / k);
      const t2 = performance.now();
      for (let s = 0; s < k; s++) await one(r * k + s, rigOld);
      olds.push(k / ((performance.now() - t2) / 1000));
    }
    rows.push(row(`S12 schedules (${opts.variant}, PCT, invariants on) vs a raw ${actors}-thread wait/notify ring of ${median(handoffs).toFixed(1)} handoffs a schedule`, 'schedules/s', median(rates), median(raws), 'higher', 0.5));
    rows.push(row(`the control plane alone: ${actors} no-op runs a "schedule" (main to each actor and back) vs the same raw ring`, 'schedules/s', median(floors), median(raws), 'higher', null));
    // What the first row can reach at best: a schedule that cost nothing but its control plane and
    // the raw ring's handoffs (both measured above; the sum of their times, not a third measurement).
    rows.push(row(`the ceiling: the control plane plus the raw ring's handoffs, nothing else`, 'schedules/s', 1 / (1 / median(floors) + 1 / median(raws)), median(raws), 'higher', null));
    rows.push(row(`S12 schedules, adaptive spin vs the fixed 2000-load spin before it (${availableParallelism()} cores, load ${loadavg()[0]!.toFixed(1)})`, 'schedules/s', median(rates), median(olds), 'higher', null));
  } finally {
    await rig.close();
    await rigOld.close();
    await rawPool.close();
  }
  return rows;
}

/** bench detectors: S2 cycles/s with each detector on, against all off (same process). */
export async function benchDetectors(opts: { rounds: number; scale: number; variant: string }): Promise<BenchRow[]> {
  const { Rig } = await import('../src/system/rig.ts');
  const { scenario } = await import('../src/scenarios/s02-dasd-read-loop.ts');
  const rig = await Rig.start(1, [scenario.module]);
  const iterations = Math.round(4000 * opts.scale);
  const rate = async (detectors: string[], seed: number): Promise<number> => {
    const t = performance.now();
    const out = await rig.run({ variant: opts.variant, scenario, users: 1, seed, iterations, hw: FAST_HW, detectors: detectors as never });
    return (out.report.stats['user.cycles'] ?? 0) / ((performance.now() - t) / 1000);
  };
  try {
    await rate([], 1); // warm-up
    const sets: [string, string[], number][] = [
      ['invariants', ['invariants'], 1.5],
      ['lockdep', ['lockdep'], 1.5],
      ['trace', ['trace'], 1.5],
      ['invariants+lockdep+trace (all but happens-before)', ['invariants', 'lockdep', 'trace'], 1.5],
      ['race (happens-before)', ['race'], 3],
    ];
    const rows: BenchRow[] = [];
    for (const [name, det, target] of sets) {
      const off: number[] = [];
      const on: number[] = [];
      for (let r = 0; r < opts.rounds; r++) {
        off.push(await rate([], r + 2));
        on.push(await rate(det, r + 2));
      }
      // cost ratio: slowdown = off rate / on rate
      const o = median(off);
      const n = median(on);
      rows.push({ name: `S2 slowdown with ${name}`, unit: 'cycles/s', ours: n, raw: o, ratio: o / n, better: 'lower', target: `<= ${target}`, met: o / n <= target });
    }
    return rows;
  } finally {
    await rig.close();
  }
}

/**
 * bench lockstat: S2 cycles/s with lock statistics on (per class and per call site, default
 * sampling) against off, same process and rig, on and off alternating so drift hits both.
 * ratio = on / off (goal >= 0.9); the name carries the spread of the paired ratios (noise). With
 * one user, also the process's CPU time per cycle (all threads), which other load disturbs less;
 * with two, the monitor's read loop spins, so its CPU per cycle says nothing about the cost.
 */
export async function benchLockstat(opts: { rounds: number; scale: number; variant: string }): Promise<BenchRow[]> {
  const { Rig } = await import('../src/system/rig.ts');
  const { scenario } = await import('../src/scenarios/s02-dasd-read-loop.ts');
  const rows: BenchRow[] = [];
  for (const [users, iters] of [[1, 5000], [2, 2000]] as const) {
    const rig = await Rig.start(users, [scenario.module]);
    const iterations = Math.round(iters * opts.scale);
    const rate = async (on: boolean, seed: number): Promise<{ rate: number; cpu: number }> => {
      const t = performance.now();
      const c0 = process.cpuUsage();
      const out = await rig.run({ variant: opts.variant, scenario, users, seed, iterations, hw: FAST_HW, detectors: on ? ['lockstat'] : [] });
      const c = process.cpuUsage(c0);
      const cycles = out.report.stats['user.cycles'] ?? 0;
      return { rate: cycles / ((performance.now() - t) / 1000), cpu: (c.user + c.system) / Math.max(1, cycles) };
    };
    try {
      await rate(false, 1); // warm-up: start-up and compilation stay out of the figures
      await rate(true, 1);
      const off: { rate: number; cpu: number }[] = [];
      const on: { rate: number; cpu: number }[] = [];
      for (let r = 0; r < opts.rounds; r++) {
        const first = r % 2 === 0;
        if (first) off.push(await rate(false, r + 2));
        on.push(await rate(true, r + 2));
        if (!first) off.push(await rate(false, r + 2));
      }
      const paired = on.map((x, i) => x.rate / (off[i]?.rate ?? NaN));
      const spread = `paired ratios ${Math.min(...paired).toFixed(2)}..${Math.max(...paired).toFixed(2)}`;
      const who = `${opts.variant}, ${users} user${users > 1 ? 's' : ''}`;
      rows.push(row(`S2 with lockstat vs off (${who}; ${spread})`, 'cycles/s', median(on.map((x) => x.rate)), median(off.map((x) => x.rate)), 'higher', 0.9));
      if (users === 1) rows.push(row(`S2 CPU per cycle, lockstat vs off (${who})`, 'us/cycle', median(on.map((x) => x.cpu)), median(off.map((x) => x.cpu)), 'lower', null));
    } finally {
      await rig.close();
    }
  }
  return rows;
}

/**
 * bench startup: a 1-schedule race and a 1-second stress as whole processes (the built code when
 * it is fresh, and the sources through tsx for comparison) beside a bare Node process starting
 * as many empty .mjs workers and staying up as long as the run's work. Alternated, same run.
 */
export async function benchStartup(opts: { rounds: number; scale: number }): Promise<BenchRow[]> {
  const { bare_dir, bin_path, time_process } = await import('../src/bench/startup.ts');
  const { ROOT } = await import('../src/runtime/root.ts');
  const { fresh } = (await import(new URL('bin/dist.mjs', ROOT).href)) as { fresh: () => boolean };
  const { scenario } = await import('../src/scenarios/s02-dasd-read-loop.ts');
  const dir = bare_dir();
  const rep = `${dir}/report.json`;
  const work_ms = Math.round(1000 * opts.scale);
  const cases = [
    // race: one search job on main's thread (--workers 1) with irq, todo, css and one user
    { name: '1-schedule race', args: ['race', '--budget', '1', '--seeds', '1', '--workers', '1', '--no-shrink', '--quiet', '--report', rep], workers: 4, work_ms: 0 },
    { name: `${work_ms / 1000}-second stress`, args: ['stress', '--duration', String(work_ms / 1000), '--quiet', '--report', rep], workers: 3 + scenario.users.default, work_ms },
  ];
  const built = fresh();
  const rows: BenchRow[] = [];
  for (const c of cases) {
    const bare: number[] = [];
    const ours: number[] = [];
    const src: number[] = [];
    for (let r = 0; r < opts.rounds; r++) {
      bare.push(await time_process([`${dir}/bare.mjs`, String(c.workers), String(c.work_ms)], {}, [0]));
      ours.push(await time_process([bin_path(), ...c.args], {}, [0, 1], rep));
      src.push(await time_process([bin_path(), ...c.args], { VFIO_CCW_SIM_BUILD: 'sources' }, [0, 1], rep));
    }
    const b = median(bare);
    rows.push(row(`${c.name}, ${built ? 'built' : 'sources (no fresh build)'} vs bare (${c.workers} workers)`, 'ms', median(ours), b, 'lower', 3));
    rows.push(row(`${c.name}, sources through tsx vs bare`, 'ms', median(src), b, 'lower', null));
  }
  return rows;
}
