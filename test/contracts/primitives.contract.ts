// Contract suites of the kernel primitives, written once against a Harness so that free
// mode and controlled mode run the same cases.
import { beforeEach, describe, expect, it } from 'vitest';
import { Warn, eventfd_create, eventfd_stats } from '../../src/kernel/index.ts';
import { TestArea } from '../programs/area.ts';
import type { Harness } from './harness.ts';

export function primitiveContracts(h: () => Harness, opts: { iters: number }): void {
  beforeEach(() => h().reset());

  describe('mutex', () => {
    it('gives mutual exclusion: 3 actors x N read-modify-writes give the exact count', async () => {
      const n = opts.iters;
      await h().run([2, 3, 4].map((actor) => ({ actor, fn: 'counterLoop', args: { iters: n, locked: true, n: 3 } })));
      const v = new Int32Array(h().area.sab);
      expect(v[counterIndex()]).toBe(3 * n);
    });

    it('trylock fails while held and succeeds after release', async () => {
      const [, probe] = await h().run([
        { actor: 2, fn: 'holdThenRelease' },
        { actor: 3, fn: 'trylockProbe' },
      ]);
      expect(probe).toEqual([0, 1]);
    });

    it('reports an unlock by a non-owner and keeps the lock held', async () => {
      const [, stillHeld] = await h().run([
        { actor: 2, fn: 'lockAndHold' },
        { actor: 3, fn: 'unlockNotOwned' },
      ]);
      expect(stillHeld).toBe(true);
      expect(h().warnings().map((w) => w.code)).toContain(Warn.mutex_not_owner);
    });
  });

  describe('spinlock', () => {
    it('gives mutual exclusion with irqsave', async () => {
      const n = Math.min(opts.iters, 200_000);
      await h().run([2, 3].map((actor) => ({ actor, fn: 'spinCounterLoop', args: { iters: n, n: 2 } })));
      expect(new Int32Array(h().area.sab)[counterIndex()]).toBe(2 * n);
    });

    it('might_sleep: a mutex_lock with a spinlock held is a BUG', async () => {
      const [r] = await h().run([{ actor: 2, fn: 'sleepUnderSpinlock' }]);
      expect(r).toBe('KernelBug');
      expect(h().warnings().map((w) => w.code)).toContain(Warn.sleep_in_atomic);
    });

    it('might_sleep: waiting for a completion in IRQ context is a BUG', async () => {
      const [r] = await h().run([{ actor: 2, fn: 'sleepInIrq' }]);
      expect(r).toBe('KernelBug');
    });
  });

  describe('completion', () => {
    it('complete before wait: the wait returns at once', async () => {
      await h().run([{ actor: 2, fn: 'completeOnce' }]);
      const [r] = await h().run([{ actor: 3, fn: 'waitCompletion' }]);
      expect(r).toBe(true);
    });

    it('complete after wait wakes the sleeping waiter', async () => {
      const [w] = await h().run([
        { actor: 2, fn: 'waitCompletion' },
        { actor: 3, fn: 'completeWhenWaiters', args: { n: 1, all: false } },
      ]);
      expect(w).toBe(true);
    });

    it('wait_for_completion_timeout returns 0 when nobody completes', async () => {
      const [r] = await h().run([{ actor: 2, fn: 'waitCompletionTimeout', args: { jiffies: 2 } }]);
      expect(r).toBe(0);
    });

    it('wait_for_completion_timeout returns the jiffies left (>= 1) when completed', async () => {
      const [r] = await h().run([
        { actor: 2, fn: 'waitCompletionTimeout', args: { jiffies: 100_000 } },
        { actor: 3, fn: 'completeWhenWaiters', args: { n: 1, all: false } },
      ]);
      expect(r).toBeGreaterThanOrEqual(1);
    });

    it('complete_all wakes every waiter and stays done', async () => {
      const rs = await h().run([
        { actor: 2, fn: 'waitCompletion' },
        { actor: 3, fn: 'waitCompletion' },
        { actor: 4, fn: 'completeWhenWaiters', args: { n: 2, all: true } },
      ]);
      expect(rs.slice(0, 2)).toEqual([true, true]);
      const [again] = await h().run([{ actor: 2, fn: 'tryWait' }]);
      expect(again).toBe(true);
    });

    it('one complete lets exactly one try_wait through', async () => {
      await h().run([{ actor: 2, fn: 'completeOnce' }]);
      const [a] = await h().run([{ actor: 3, fn: 'tryWait' }]);
      const [b] = await h().run([{ actor: 3, fn: 'tryWait' }]);
      expect([a, b]).toEqual([true, false]);
    });
  });

  describe('workqueue', () => {
    it('runs work in queue order on one executor', async () => {
      await h().run([{ actor: 2, fn: 'initWorks', args: { gated: false } }]);
      const [queued] = await h().runWithExecutor([{ actor: 2, fn: 'flushAfterQueue' }]);
      expect(queued).toBe(3);
      const [order] = await h().run([{ actor: 2, fn: 'readOrder' }]);
      const ids = order as number[];
      expect(ids).toHaveLength(3);
      expect([...ids].sort((x, y) => x - y)).toEqual(ids); // w0, w1, w2 are laid out in queue order
    });

    it('queue_work on a pending item returns false and runs it once; flush waits for all', async () => {
      await h().run([{ actor: 2, fn: 'initWorks', args: { gated: true } }]);
      const [r] = await h().runWithExecutor([{ actor: 2, fn: 'coalesceAndFlush' }]);
      const res = r as { first: boolean; again: boolean; ranAtFlush: number; ids: number[] };
      expect(res.first).toBe(true);
      expect(res.again).toBe(false);
      expect(res.ranAtFlush).toBe(2);
      const [order] = await h().run([{ actor: 2, fn: 'readOrder' }]);
      expect(order).toEqual(res.ids);
    });

    it('queue_work returns true for each idle item', async () => {
      await h().run([{ actor: 2, fn: 'initWorks', args: { gated: false } }]);
      const [queued] = await h().runWithExecutor([{ actor: 2, fn: 'queueInOrder' }]);
      expect(queued).toEqual([true, true, true]);
    });
  });

  describe('eventfd', () => {
    it('counts signals; one read returns the sum and clears it', async () => {
      const fd = eventfd_create(h().g);
      const [, n] = await h().run([
        { actor: 2, fn: 'signalN', args: { fd, n: 3 } },
        { actor: 3, fn: 'readEventfd', args: { fd, timeoutMs: 10_000, afterFlag: true } },
      ]);
      expect(n).toBe(3);
      const [empty] = await h().run([{ actor: 3, fn: 'readEventfd', args: { fd, timeoutMs: 5, afterFlag: false } }]);
      expect(empty).toBe(0);
      expect(eventfd_stats(h().g, fd)).toMatchObject({ signals: 3, reads: 1, count: 0 });
    });

    it('a blocked reader wakes on a signal', async () => {
      const fd = eventfd_create(h().g);
      const [n] = await h().run([
        { actor: 3, fn: 'readEventfd', args: { fd, timeoutMs: 10_000, afterFlag: false } },
        { actor: 2, fn: 'signalN', args: { fd, n: 1 } },
      ]);
      expect(n).toBe(1);
    });
  });
}

const counterIndex = (): number => TestArea.fields.counter.off;
