import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ActorKind, alloc_global, allocBuf, namedObjects, reset_global, type SharedBuf } from '../src/kernel/index.ts';
import { alloc_lockdep, lockdep_report, type LockdepBuf } from '../src/detect/lockdep.ts';
import { ActorPool, prog, unwrap } from '../src/runtime/pool.ts';
import { BUSTED_INDEX, BustedArea } from './busted/area.ts';

const P = new URL('./busted/programs.ts', import.meta.url);
let pool: ActorPool;
let g: SharedBuf;
let area: SharedBuf;
let ld: LockdepBuf;

const run = async (actor: number, fn: string, args: unknown = null): Promise<unknown> => unwrap(await pool.run(actor, prog(P, fn), args));
const classes = (): string[] => [...new Set([...namedObjects('mutex'), ...namedObjects('spinlock'), ...namedObjects('completion')].map((o) => o.cls))].concat(namedObjects('completion').map((o) => `completion:${o.cls}`));

beforeAll(async () => {
  g = alloc_global();
  area = allocBuf(BUSTED_INDEX, BustedArea.words);
  pool = await ActorPool.start([1, 2, 3].map((id) => ({ id, kind: ActorKind.test, name: `t${id}` })), g, [area], [P.href]);
});
afterAll(() => pool.close());
beforeEach(async () => {
  area.i32.fill(0);
  reset_global(g);
  ld = alloc_lockdep();
  for (const a of [1, 2, 3]) await run(a, 'lockdepOn', { sab: ld.sab });
});

describe('lockdep', () => {
  it('reports an ABBA inversion from a run that did not deadlock', async () => {
    await run(2, 'takeAB');
    await run(3, 'takeBA');
    const f = lockdep_report(ld, classes());
    expect(f.map((x) => x.id)).toContain('ABBA');
    expect(f.find((x) => x.id === 'ABBA')?.message).toMatch(/busted\.lock_a -> busted\.lock_b -> busted\.lock_a|busted\.lock_b -> busted\.lock_a -> busted\.lock_b/);
  });

  it('stays quiet when every actor takes the locks in one order', async () => {
    await run(2, 'takeAB');
    await run(3, 'takeAB');
    expect(lockdep_report(ld, classes())).toEqual([]);
  });

  it('keeps the order graph across runs of a campaign (AB in one run, BA in the next)', async () => {
    await run(2, 'takeAB');
    area.i32.fill(0);
    await run(3, 'takeBA');
    expect(lockdep_report(ld, classes()).map((x) => x.id)).toContain('ABBA');
  });

  it('reports a lock used in IRQ context and elsewhere with interrupts on', async () => {
    await run(2, 'irqUse');
    await run(3, 'processUseIrqsOn');
    expect(lockdep_report(ld, classes()).map((x) => x.id)).toContain('irq-inversion');
  });

  it('stays quiet when process context takes the IRQ lock with interrupts off', async () => {
    await run(2, 'irqUse');
    await run(3, 'processUseIrqsOff');
    expect(lockdep_report(ld, classes())).toEqual([]);
  });

  it('reports flush_workqueue under a lock that a work item takes', async () => {
    await run(2, 'initWork');
    const ex = pool.run(1, prog(P, 'executor'), null);
    await run(2, 'queueAndFlush');
    await run(2, 'flushUnderLock');
    await run(2, 'stopExecutor');
    unwrap(await ex);
    expect(lockdep_report(ld, classes()).map((x) => x.id)).toContain('flush-under-lock');
  });

  it('reports a wait under a lock for a completion another actor completes under that lock', async () => {
    await run(2, 'completeUnderA');
    expect(await run(3, 'waitUnderA')).toBeGreaterThan(0);
    const f = lockdep_report(ld, classes());
    expect(f.map((x) => x.id)).toContain('completion-cycle');
    expect(f.find((x) => x.id === 'completion-cycle')?.message).toMatch(/busted\.lock_a -> completion:busted\.done -> busted\.lock_a|completion:busted\.done -> busted\.lock_a -> completion:busted\.done/);
  });

  it('stays quiet when the actor waits for its own complete under the lock (the unregister after its own last put)', async () => {
    // one unregister drops the last reference itself, the next is woken by an FD's close (no lock)
    expect(await run(2, 'completeThenWaitUnderA')).toBeGreaterThan(0);
    await run(3, 'completeDone');
    expect(await run(2, 'waitUnderA')).toBeGreaterThan(0);
    expect(lockdep_report(ld, classes())).toEqual([]);
    // the same completion completed under the lock and waited for by another actor is still a cycle
    await run(2, 'completeUnderA');
    await run(3, 'waitUnderA');
    expect(lockdep_report(ld, classes()).map((x) => x.id)).toContain('completion-cycle');
  });

  it('stays quiet when the flush holds no lock', async () => {
    await run(2, 'initWork');
    const ex = pool.run(1, prog(P, 'executor'), null);
    await run(2, 'queueAndFlush');
    await run(2, 'stopExecutor');
    unwrap(await ex);
    expect(lockdep_report(ld, classes())).toEqual([]);
  });
});
