// The hang watchdog on busted programs (a mutex without waiter state, a completion nobody
// signals) and on their correct twins.
import { afterEach, describe, expect, it } from 'vitest';
import { ActorKind, alloc_global, allocBuf, type SharedBuf } from '../src/kernel/index.ts';
import { hang_report, watch, watchdog_buffers } from '../src/detect/watchdog.ts';
import { ActorPool, prog, unwrap } from '../src/runtime/pool.ts';
import { BUSTED_INDEX, BustedArea } from './busted/area.ts';

const P = new URL('./busted/programs.ts', import.meta.url);
let pool: ActorPool | null = null;
afterEach(async () => {
  await pool?.close();
  pool = null;
});

async function setup(): Promise<{ g: SharedBuf; pool: ActorPool }> {
  const g = alloc_global();
  const area = allocBuf(BUSTED_INDEX, BustedArea.words);
  watchdog_buffers([g, area]);
  pool = await ActorPool.start([2, 3].map((id) => ({ id, kind: ActorKind.test, name: `t${id}` })), g, [area], [P.href]);
  return { g, pool };
}

const BOUND = { bound_ms: 600, every_ms: 100 };

describe('watchdog', () => {
  it('reports a hang on a mutex without its waiter state: the waiter sleeps forever', async () => {
    const { g, pool } = await setup();
    const runs = Promise.all([pool.run(2, prog(P, 'rawLockHold'), { notify: false }), pool.run(3, prog(P, 'rawLockWait'), null)]);
    expect(await watch(g, runs, BOUND)).toBe('hang');
    const f = hang_report(g, [], BOUND.bound_ms);
    expect(f[0]).toMatchObject({ kind: 'hang', id: 'no-progress' });
    expect(f[0]!.message).toMatch(/t?user0|waits on busted\.raw_mutex/);
  });

  it('stays quiet when the unlock wakes the waiter', async () => {
    const { g, pool } = await setup();
    const runs = Promise.all([pool.run(2, prog(P, 'rawLockHold'), { notify: true }), pool.run(3, prog(P, 'rawLockWait'), null)]);
    expect(await watch(g, runs, BOUND)).toBe('done');
    (await runs).forEach((r) => unwrap(r));
  });

  it('names a lost wake-up: a completion that nobody completes', async () => {
    const { g, pool } = await setup();
    const run = pool.run(3, prog(P, 'waitForever'), null);
    expect(await watch(g, run, BOUND)).toBe('hang');
    const f = hang_report(g, [], BOUND.bound_ms);
    const lw = f.find((x) => x.id === 'lost-wakeup');
    expect(lw?.message).toMatch(/busted\.never.*completion.*no complete\(\)/);
  });

  it('stays quiet when the completion is completed', async () => {
    const { g, pool } = await setup();
    const run = pool.run(3, prog(P, 'waitForever'), null);
    await pool.run(2, prog(P, 'completeNever'), null);
    expect(await watch(g, run, BOUND)).toBe('done');
    unwrap(await run);
  });
});
