// The happens-before race detector on real worker threads: racy programs it must catch, their
// correctly synchronised twins it must stay quiet on, and one run of the real driver.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ActorKind, alloc_global, allocBuf, eventfd_create, reset_global, type SharedBuf } from '../src/kernel/index.ts';
import { alloc_race, race_losses, race_report, race_stats, type RaceFinding } from '../src/detect/race.ts';
import { ActorPool, prog, unwrap } from '../src/runtime/pool.ts';
import { Rig } from '../src/system/rig.ts';
import { scenario as s2 } from '../src/scenarios/s02-dasd-read-loop.ts';
import { RACE_INDEX, RaceArea } from './busted/race-area.ts';
import type { AccessArgs, CancelArgs, LifeArgs } from './busted/race-programs.ts';

const P = new URL('./busted/race-programs.ts', import.meta.url);
let pool: ActorPool;
let g: SharedBuf;
let area: SharedBuf;
let sab: SharedArrayBuffer;

const run = async (actor: number, fn: string, args: unknown = null): Promise<unknown> => unwrap(await pool.run(actor, prog(P, fn), args));
const both = (a: AccessArgs, b: AccessArgs): Promise<unknown[]> => Promise.all([run(2, 'access', a), run(3, 'access', b)]);
const sitesOf = (f: RaceFinding): string[] => [f.first.site, f.second.site].sort();

/** `body` with actor 1 running the workqueue (the work initialised, slow or not); the items it ran. */
async function withExecutor(body: () => Promise<unknown>, slow = false): Promise<number> {
  await run(2, 'initWork', { slow });
  const ex = pool.run(1, prog(P, 'executor'), null);
  let ran: unknown;
  try {
    await body();
  } finally {
    await run(2, 'stopExecutor');
    ran = unwrap(await ex);
  }
  return ran as number;
}

async function install(shadowCap?: number): Promise<void> {
  sab = alloc_race(shadowCap);
  for (const a of [1, 2, 3]) await run(a, 'raceOn', { sab });
}

beforeAll(async () => {
  g = alloc_global();
  area = allocBuf(RACE_INDEX, RaceArea.words);
  pool = await ActorPool.start([1, 2, 3].map((id) => ({ id, kind: ActorKind.test, name: `t${id}` })), g, [area], [P.href]);
});
afterAll(async () => {
  for (const a of [1, 2, 3]) await run(a, 'raceOff');
  await pool.close();
});
beforeEach(async () => {
  area.i32.fill(0);
  reset_global(g);
  await install();
});

describe('race detector: plain words', () => {
  it('reports two unsynchronised writes, naming both sites, and dedupes repeats', async () => {
    await both({ op: 'write', site: 'writer A', post: 1 }, { op: 'write', site: 'writer B', wait: 1, post: 2 });
    await both({ op: 'write', site: 'writer A', wait: 2, post: 3 }, { op: 'write', site: 'writer B', wait: 3 });
    const f = race_report(sab);
    expect(f).toHaveLength(1);
    const r = f[0]!;
    expect(r.id).toBe('data-race');
    expect(r.field).toBe('racetest.x');
    expect(sitesOf(r)).toEqual(['writer A', 'writer B']);
    expect([r.first.op, r.second.op]).toEqual(['write', 'write']);
    expect(r.count).toBeGreaterThanOrEqual(2);
    expect(r.message).toMatch(/^BUG: KCSAN: data-race in writer A \/ writer B: write to racetest\.x of 4 bytes by task [23] in writer [AB], no locks held; write to racetest\.x of 4 bytes by task [23]/);
  });

  it('reports a write/read race and says which locks each side held', async () => {
    await both({ op: 'write', site: 'locked writer', lock: true, post: 1 }, { op: 'read', site: 'unlocked reader', wait: 1 });
    const [r, ...rest] = race_report(sab);
    expect(rest).toEqual([]);
    expect(r?.first).toMatchObject({ actor: 2, site: 'locked writer', op: 'write', marked: false, locks: ['racetest.m'] });
    expect(r?.second).toMatchObject({ actor: 3, site: 'unlocked reader', op: 'read', marked: false, locks: [] });
    expect(r?.message).toContain('holding racetest.m');
  });

  it('stays quiet when both sides hold the mutex', async () => {
    await both({ op: 'write', site: 'writer A', lock: true, post: 1 }, { op: 'write', site: 'writer B', lock: true, wait: 1, post: 2 });
    await both({ op: 'read', site: 'reader A', lock: true, wait: 2 }, { op: 'read', site: 'reader B', lock: true, wait: 2 });
    expect(race_report(sab)).toEqual([]);
    expect(race_losses(race_stats(sab))).toEqual([]);
  });

  it('stays quiet for concurrent reads', async () => {
    await both({ op: 'read', site: 'reader A', post: 1 }, { op: 'read', site: 'reader B', wait: 1 });
    expect(race_report(sab)).toEqual([]);
  });
});

describe('race detector: publication edges', () => {
  it('complete -> wait_for_completion: quiet; a write after the complete: reported', async () => {
    await Promise.all([run(2, 'publishComplete', { busted: false }), run(3, 'consumeCompletion', { busted: false })]);
    expect(race_report(sab)).toEqual([]);
    area.i32.fill(0);
    await install();
    await Promise.all([run(2, 'publishComplete', { busted: true }), run(3, 'consumeCompletion', { busted: true })]);
    const f = race_report(sab);
    expect(f.map((x) => [x.field, ...sitesOf(x)])).toEqual([['racetest.x', 'consumeCompletion', 'publishComplete']]);
  });

  it('eventfd_signal -> the read that consumed it: quiet; a write after the signal: reported', async () => {
    const fd = eventfd_create(g);
    expect(fd).toBeGreaterThanOrEqual(0);
    await Promise.all([run(2, 'publishSignal', { fd, busted: false }), run(3, 'consumeRead', { fd, busted: false })]);
    expect(race_report(sab)).toEqual([]);
    area.i32.fill(0);
    await install();
    await Promise.all([run(2, 'publishSignal', { fd, busted: true }), run(3, 'consumeRead', { fd, busted: true })]);
    expect(race_report(sab).map((x) => [x.field, ...sitesOf(x)])).toEqual([['racetest.x', 'consumeRead', 'publishSignal']]);
  });

  it('queue_work -> the work: its read is quiet; flush_workqueue -> return: the work\'s write is quiet', async () => {
    await withExecutor(() => run(2, 'publishQueue', { mode: 'flush' }));
    expect(race_report(sab)).toEqual([]);
  });

  it('reading what the work wrote without a flush is reported (only that)', async () => {
    await withExecutor(() => run(2, 'publishQueue', { mode: 'no-flush' }));
    expect(race_report(sab).map((x) => [x.field, ...sitesOf(x)])).toEqual([['racetest.y', 'publishQueue', 'race work fn']]);
  });

  it('a write after queue_work races with the work\'s read, whichever runs first', async () => {
    await withExecutor(() => run(2, 'publishQueue', { mode: 'write-after-queue' }));
    expect(race_report(sab).map((x) => [x.field, ...sitesOf(x)])).toEqual([['racetest.x', 'publishQueue', 'race work fn']]);
  });
});

// cancel_work_sync takes pool->lock in start_flush_work, as the worker did after each callback
// and queue_work did to insert the work (kernel/workqueue.c): its return follows those, no more.
describe('race detector: cancel_work_sync', () => {
  const cancel = (args: CancelArgs): Promise<unknown> => run(3, 'cancelThenWrite', args);
  const races = (): string[][] => race_report(sab).map((x) => [x.field, ...sitesOf(x)]);
  /** queue the work on actor 2; actor 3 waits until it has run and returned (raw Atomics), then `args`. */
  const afterRun = (args: Omit<CancelArgs, 'wait' | 'retired' | 'field'>): Promise<number> =>
    withExecutor(async () => {
      expect(await run(2, 'queueIt', { write: false })).toBe(true);
      expect(await cancel({ wait: 1, retired: 1, field: 'y', ...args })).toBe(false);
    });

  it('a work that has returned -> cancel_work_sync -> a write of what it wrote: quiet', async () => {
    await afterRun({ cancel: 'after' });
    expect(races()).toEqual([]);
  });

  it('the same write with no cancel, or before the cancel: reported', async () => {
    await afterRun({ cancel: 'none' });
    expect(races()).toEqual([['racetest.y', 'cancelThenWrite', 'race work fn']]);
    area.i32.fill(0);
    reset_global(g);
    await install();
    await afterRun({ cancel: 'before' });
    expect(races()).toEqual([['racetest.y', 'cancelThenWrite', 'race work fn']]);
  });

  it('a cancel that waits for the running work returns after it: quiet', async () => {
    await withExecutor(async () => {
      expect(await run(2, 'queueIt', { write: false })).toBe(true);
      // actor 2 lets the work finish only once the cancel waits for it
      const [was] = await Promise.all([cancel({ wait: 1, field: 'y', cancel: 'after' }), run(2, 'releaseWhenCancelWaits', null)]);
      expect(was).toBe(false);
    }, true);
    expect(races()).toEqual([]);
  });

  it('a queue_work while the cancel waits is refused (the work is disabled); after it, queue_work queues again', async () => {
    const ran = await withExecutor(async () => {
      expect(await run(2, 'queueIt', { write: false })).toBe(true);
      const [was, queued] = await Promise.all([cancel({ wait: 1, field: 'y', cancel: 'after' }), run(2, 'releaseWhenCancelWaits', { queue: true })]);
      expect([was, queued]).toEqual([false, false]);
      Atomics.store(area.i32, RaceArea.fields.step.off, 0); // the first run has returned: its steps are spent
      expect(await run(2, 'queueIt', { write: false })).toBe(true);
      await run(3, 'stepAfter', { wait: 1, post: 2 }); // the second run, slow too, may finish
    }, true);
    // the first run, and the one queued after the cancel; never the refused one
    expect(ran).toBe(2);
  });

  it('a pending work it removes: ordered after the queue_work that queued it (no executor)', async () => {
    await run(2, 'initWork', null);
    expect(await run(2, 'queueIt', { write: true, post: 1 })).toBe(true);
    expect(await cancel({ wait: 1, field: 'x', cancel: 'after' })).toBe(true);
    expect(races()).toEqual([]);
  });

  it('not after a queue_work that found it pending (no pool->lock there): reported', async () => {
    await run(2, 'initWork', null);
    expect(await run(2, 'queueIt', { write: false, post: 1 })).toBe(true);
    expect(await run(1, 'queueIt', { write: true, wait: 1, post: 2 })).toBe(false);
    expect(await cancel({ wait: 2, field: 'x', cancel: 'after' })).toBe(true);
    expect(races()).toEqual([['racetest.x', 'cancelThenWrite', 'queueIt']]);
  });

  it('a work never queued orders nothing: reported', async () => {
    await run(2, 'initWork', null);
    await run(2, 'access', { op: 'write', site: 'writer A', post: 1 });
    expect(await cancel({ wait: 1, field: 'x', cancel: 'after' })).toBe(false);
    expect(races()).toEqual([['racetest.x', 'cancelThenWrite', 'writer A']]);
  });
});

describe('race detector: marked accesses', () => {
  it('READ_ONCE / WRITE_ONCE on both sides: never a finding (KCSAN does not report marked/marked pairs)', async () => {
    await both({ op: 'write_once', site: 'WRITE_ONCE side', post: 1 }, { op: 'read_once', site: 'READ_ONCE side', wait: 1 });
    expect(race_report(sab)).toEqual([]);
    expect(race_stats(sab).races).toBe(0);
  });

  it('a plain write against a READ_ONCE: still a data race, the marked side named as such', async () => {
    await both({ op: 'flag_write', site: 'plain side', post: 1 }, { op: 'read_once', site: 'READ_ONCE side', wait: 1 });
    const f = race_report(sab);
    expect(f.map((x) => x.id)).toEqual(['data-race']);
    expect(f[0]).toMatchObject({ field: 'racetest.flag', first: { marked: false, op: 'write' }, second: { marked: true, op: 'read' } });
    expect(f[0]?.message).toContain('read (marked) to racetest.flag');
  });
});

describe('race detector: byte regions', () => {
  it('a region written by one actor and read by another without the mutex: reported', async () => {
    await both({ op: 'region_write', site: 'region writer', pos: 0, len: 96, post: 1 }, { op: 'region_read', site: 'region reader', pos: 8, len: 4, wait: 1 });
    const [r, ...rest] = race_report(sab);
    expect(rest).toEqual([]);
    expect(r).toMatchObject({ id: 'data-race', field: 'racetest.region', first: { site: 'region writer', op: 'write', offset: 0, size: 96 }, second: { site: 'region reader', op: 'read', offset: 8, size: 4 } });
    expect(r?.message).toContain('write to racetest.region of 96 bytes');
    expect(r?.message).toContain('read to racetest.region+8 of 4 bytes');
  });

  it('with the mutex on both sides: quiet', async () => {
    await both({ op: 'region_write', site: 'region writer', lock: true, pos: 0, len: 96, post: 1 }, { op: 'region_read', site: 'region reader', lock: true, pos: 0, len: 96, wait: 1 });
    expect(race_report(sab)).toEqual([]);
  });

  it('disjoint 4-byte words of one region do not race', async () => {
    await both({ op: 'region_write', site: 'region writer', pos: 0, len: 8, post: 1 }, { op: 'region_write', site: 'other writer', pos: 8, len: 8, wait: 1 });
    expect(race_report(sab)).toEqual([]);
  });

  it('counts what a full shadow table could not check, and says so', async () => {
    await install(16);
    await both({ op: 'region_write', site: 'region writer', pos: 0, len: 128, post: 1 }, { op: 'region_read', site: 'region reader', pos: 0, len: 128, wait: 1 });
    const st = race_stats(sab);
    expect(st.shadow_used).toBe(16);
    expect(st.dropped).toBeGreaterThan(0);
    expect(race_losses(st).join('\n')).toMatch(/word accesses not checked \(shadow table of 16 locations full\)/);
  });
});

describe('race detector: object lifetimes (kfree is a write to the object, kzalloc starts it afresh)', () => {
  const free = (actor: number, a: LifeArgs): Promise<unknown> => run(actor, 'freeObject', a);

  // CPU 2                      CPU 3                        CPU 1
  // x = .. (old owner, m held)
  //                            mutex_lock(m); unlock
  //                            kfree(obj); kzalloc(obj)
  //                                                         x = .. (new owner, nothing held)
  it('an access, then the free and a new allocation of the same words: the new owner races with nothing', async () => {
    await run(2, 'access', { op: 'write', site: 'old owner', lock: true, post: 1 });
    await free(3, { fields: ['x', 'region'], alloc: true, lock: true, wait: 1, post: 2 });
    await run(1, 'access', { op: 'write', site: 'new owner', wait: 2 });
    await run(1, 'access', { op: 'region_write', site: 'new owner', pos: 0, len: 16 });
    expect(race_report(sab)).toEqual([]);
  });

  it('the same without the allocation: the access after the free races with the free', async () => {
    await run(2, 'access', { op: 'write', site: 'old owner', lock: true, post: 1 });
    await free(3, { fields: ['x'], alloc: false, lock: true, wait: 1, post: 2 });
    await run(1, 'access', { op: 'write', site: 'use after free', wait: 2 });
    const f = race_report(sab);
    expect(f.map((r) => [r.field, ...sitesOf(r)])).toEqual([['racetest.x', 'kfree', 'use after free']]);
    expect(f[0]?.first).toMatchObject({ actor: 3, site: 'kfree', op: 'write' });
  });

  it('an allocation clears only its own words: a race on another field stays', async () => {
    await run(2, 'access', { op: 'flag_write', site: 'old owner', post: 1 });
    await free(3, { fields: ['x'], alloc: true, wait: 1, post: 2 });
    await run(1, 'access', { op: 'flag_write', site: 'other field', wait: 2 });
    expect(race_report(sab).map((r) => [r.field, ...sitesOf(r)])).toEqual([['racetest.flag', 'old owner', 'other field']]);
  });

  // CPU 2                      CPU 3
  // x = .. ; region = ..
  //                            kfree(obj)   (nothing orders CPU 2's accesses before it)
  it('an access not ordered before the free races with the free itself (a use-after-free race)', async () => {
    await run(2, 'access', { op: 'write', site: 'late user', post: 1 });
    await run(2, 'access', { op: 'region_read', site: 'late user', pos: 4, len: 8 });
    await free(3, { fields: ['x', 'region'], alloc: true, wait: 1 });
    const f = race_report(sab);
    expect(f.map((r) => [r.field, ...sitesOf(r)]).sort()).toEqual([['racetest.region', 'kfree', 'late user'], ['racetest.x', 'kfree', 'late user']]);
    const region = f.find((r) => r.field === 'racetest.region');
    expect(region?.second).toMatchObject({ actor: 3, site: 'kfree', op: 'write', size: 4 });
    expect(region?.count).toBe(1); // one free over two words counts once
  });
});

describe('race detector on the real driver', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await Rig.start(2, [s2.module]);
  });
  afterAll(() => rig.close());

  it('S2 on mainline, 300 cycles: finishes and reports races as data', async () => {
    const out = await rig.run({ variant: 'mainline', scenario: s2, users: 2, seed: 7, iterations: 300, hw: { start_latency_us: [1, 30] }, detectors: ['race'] });
    expect(out.report.stats['user.cycles']).toBe(300);
    const races = out.report.findings.filter((f) => f.kind === 'data-race');
    for (const f of races) {
      expect(f.message).toMatch(/^BUG: KCSAN: data-race in /);
      expect(typeof f.id).toBe('string');
    }
    // The detector saw everything it was asked to check.
    expect(out.report.findings.filter((f) => f.id === 'race-detector')).toEqual([]);
    expect(out.report.stats['race.accesses']).toBeGreaterThan(0);
    if (process.env.RACE_LIST !== undefined) for (const f of races) console.log(`${f.count}x ${f.id}\n  ${f.message}`);
  });
});
