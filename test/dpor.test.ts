// Bounded exhaustive search with DPOR: the race analysis on recorded decisions, and on real
// workers a search that explores fewer schedules than plain DFS and still reaches every outcome.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { H } from '../src/kernel/hook.ts';
import { backtrack_sets, dependent, type Op } from '../src/sched/explore/dpor.ts';
import { bound_cost } from '../src/sched/explore/dfs.ts';
import { plan } from '../src/sched/plan.ts';
import { default_pick, is_preemption } from '../src/sched/strategy.ts';
import { search } from '../src/sched/search.ts';
import type { Decision } from '../src/sched/decision.ts';
import { Rig } from '../src/system/rig.ts';
import { scenario as counter } from './fixtures/counter-scenario.ts';
import { scenario as s12 } from '../src/scenarios/s12-clear-then-start.ts';

const op = (kind: number, obj: number, extra: Partial<Op> = {}): Op => ({ kind, obj, mark: 0, wild: false, ...extra });

describe('the default scheduler and what a bound counts', () => {
  it('keeps the running actor; when it blocks or polls, the next enabled one in turn', () => {
    expect(default_pick(2, 0b11110, H.write)).toBe(2);
    expect(default_pick(2, 0b11010, H.wait)).toBe(3); // 2 blocked: the next after it, not the lowest
    expect(default_pick(4, 0b01110, H.wait)).toBe(1); // wraps around
    expect(default_pick(2, 0b11110, H.mark)).toBe(3); // a relax point yields
    expect(default_pick(2, 0b00100, H.mark)).toBe(2); // nobody else: keep going
    expect(default_pick(-1, 0b11000, H.run)).toBe(3);
  });

  it('a yield at a relax point is no preemption; a delay is any departure from the default', () => {
    const d = { cur: 2, mask: 0b11110, kind: H.write };
    expect(is_preemption(d, 3)).toBe(true);
    expect(is_preemption({ ...d, kind: H.mark }, 3)).toBe(false);
    expect(bound_cost(d, 2, 'delays')).toBe(0);
    expect(bound_cost(d, 3, 'delays')).toBe(1);
    // 2 blocked: taking 3 is the default (no cost), taking 1 is a delay but no preemption
    const blocked = { cur: 2, mask: 0b11010, kind: H.wait };
    expect([bound_cost(blocked, 3, 'delays'), bound_cost(blocked, 1, 'delays')]).toEqual([0, 1]);
    expect([bound_cost(blocked, 3, 'preemptions'), bound_cost(blocked, 1, 'preemptions')]).toEqual([0, 0]);
  });
});

describe('dependence', () => {
  it('plain accesses conflict on one object unless both read; synchronisation and hardware steps are ordered', () => {
    expect(dependent(op(H.read, 1), op(H.read, 1))).toBe(false);
    expect(dependent(op(H.read, 1), op(H.write, 1))).toBe(true);
    expect(dependent(op(H.write, 1), op(H.write, 2))).toBe(false);
    expect(dependent(op(H.acquire, 5), op(H.release, 6))).toBe(true);
    expect(dependent(op(H.acquire, 5), op(H.write, 6))).toBe(false);
    expect(dependent(op(H.read, 1, { mark: 9 }), op(H.signal, 7))).toBe(true);
    expect(dependent(op(H.read, 1, { wild: true }), op(H.write, 2))).toBe(true);
    expect(dependent(op(0, -1), op(H.write, 2))).toBe(false);
  });
});

// Actors 1 and 2 each announce an access, then the other runs: decision k records the actor at
// its point (cur) and the one picked.
const dec = (cur: number, pick: number, kind: number, obj: number, mask = 0b110): Decision => ({ mask, cur, pick, kind, obj, timed: 0, mark: 0 });

describe('backtrack sets', () => {
  it('none where the two actors touch different objects', () => {
    const ds = [dec(-1, 1, H.run, 0), dec(1, 1, H.write, 10), dec(1, 2, H.write, 10), dec(2, 2, H.write, 20), dec(2, 2, H.write, 20)];
    expect(backtrack_sets(ds).every((b) => b === 0)).toBe(true);
  });

  it('the other actor at the earlier of two conflicting writes', () => {
    // 1 writes x at decision 1 and goes on; 2 writes x at decision 3: try 2 before 1's write
    const ds = [dec(-1, 1, H.run, 0), dec(1, 1, H.write, 10), dec(1, 2, H.read, 11), dec(2, 2, H.write, 10), dec(2, 2, H.read, 12)];
    const b = backtrack_sets(ds);
    expect(b[1]).toBe(1 << 2);
    expect(b.filter((x, k) => k !== 1 && x !== 0)).toEqual([]);
  });

  it('no alternative for a write ordered after the other by a lock hand-over', () => {
    // 1: write x, release m; 2: acquire m, write x. The release and acquire are ordered, so the
    // writes are too: the only backtrack point is at the lock (the release), not at the write.
    const ds = [dec(-1, 1, H.run, 0), dec(1, 1, H.write, 10), dec(1, 1, H.release, 30), dec(1, 2, H.read, 11), dec(2, 2, H.acquire, 30), dec(2, 2, H.write, 10)];
    const b = backtrack_sets(ds);
    expect(b[1]).toBe(0);
    expect(b[2]).toBe(1 << 2);
  });

  it('a timed wait may fire before the last step of anyone else', () => {
    const ds = [dec(-1, 1, H.run, 0), dec(1, 1, H.write, 10), { ...dec(1, 2, H.read, 11), timed: 1 << 2 }];
    expect(backtrack_sets(ds)[1]).toBe(1 << 2);
  });
});

describe('bounded exhaustive search on real workers', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await Rig.start(2, [counter.module, s12.module]);
  });
  afterAll(() => rig.close());

  const explore = async (params: Record<string, number | boolean>, dpor: boolean, budget = 4000) => {
    const outcomes = new Set<string>();
    const r = await search(rig, counter, plan({ variant: 'mainline', scenario: counter.id, search: 'dfs', users: 2, iterations: 1, depth: 1, budget, seed0: 1, bound: 8, dpor, params }), {
      observe: (o) => outcomes.add(o.results.map((x) => x.counters.seen).join(',')),
    });
    return { r, outcomes: [...outcomes].sort() };
  };

  it('DPOR reaches every outcome plain DFS reaches, in far fewer schedules, and its count does not grow with independent work', async () => {
    const plain = await explore({ private: 0 }, false);
    const reduced = await explore({ private: 0 }, true);
    expect(plain.r.exhausted).toBe(true);
    expect(reduced.r.exhausted).toBe(true);
    expect(reduced.outcomes).toEqual(plain.outcomes);
    expect(reduced.outcomes).toEqual(['0,0', '0,1', '1,0']); // the lost update is one of them
    expect(reduced.r.found.map((f) => f.finding.id)).toContain('T.lost-update');
    expect(reduced.r.schedules * 10).toBeLessThan(plain.r.schedules);
    const more = await explore({ private: 3 }, true);
    expect(more.r.exhausted).toBe(true);
    expect(more.r.schedules).toBe(reduced.r.schedules);
    expect(more.outcomes).toEqual(reduced.outcomes);
  });

  it('with the increments ordered by a flag, the whole space holds no lost update', async () => {
    const { r, outcomes } = await explore({ private: 1, ordered: true }, true);
    expect(r.exhausted).toBe(true);
    expect(outcomes).toEqual(['0,1']);
    expect(r.found.map((f) => f.finding.id)).not.toContain('T.lost-update');
  });

  // Delay bounding (one departure from the default scheduler) makes S12's space small enough to
  // exhaust: the seeds' race needs exactly one.
  const s12_delays = (variant: string, dpor: boolean) =>
    search(rig, s12, plan({ variant, scenario: s12.id, search: 'dfs', iterations: 1, depth: 1, budget: 2000, seed0: 1, bound: 1, bound_by: 'delays', dpor, detectors: ['invariants'] }));
  const ids = (r: Awaited<ReturnType<typeof s12_delays>>): string[] => r.found.map((f) => f.finding.id).sort();

  it('S12 within one delay: v5.3 reaches I2, v5.13 and mainline exhaust the space without it; DPOR sees what plain DFS sees in fewer schedules', async () => {
    for (const v of ['v5.3', 'v5.13', 'mainline']) {
      const reduced = await s12_delays(v, true);
      const plain = await s12_delays(v, false);
      expect(reduced.exhausted && plain.exhausted).toBe(true);
      expect(ids(reduced)).toEqual(ids(plain));
      expect(ids(reduced).includes('I2')).toBe(v === 'v5.3');
      expect(ids(reduced)).toContain('S12.todo-frees-own-cp');
      expect(reduced.schedules * 2).toBeLessThan(plain.schedules);
    }
  });
});
