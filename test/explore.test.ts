// A search is one explorer (src/sched/explore): an entry in the list is all it takes to run one,
// and the registry's searches hand out the schedules they did before they were explorers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explorer_for, SEARCHES, type Search } from '../src/sched/explore/index.ts';
import { plan } from '../src/sched/plan.ts';
import { search } from '../src/sched/search.ts';
import type { ScheduleSpec } from '../src/sched/token.ts';
import { Rig } from '../src/system/rig.ts';
import { scenario as s12 } from '../src/scenarios/s12-clear-then-start.ts';

// Three random schedules on seeds 40, 41, 42, then nothing: a space of three.
const three: Search = {
  name: 'three',
  explorer() {
    const seeds = [40, 41, 42];
    return { next: () => (seeds.length > 0 ? { st: 'random', seed: seeds.shift()! } : null), record: () => undefined };
  },
};

describe('explorers', () => {
  it('a plan names its search; an unknown name is refused with the list', () => {
    const p = plan({ variant: 'mainline', scenario: 'S12', search: 'three' });
    expect(() => explorer_for(p)).toThrow(/unknown search 'three' \(random, pct, dfs, dpor\)/);
    expect(explorer_for(p, [...SEARCHES, three]).next()).toEqual({ st: 'random', seed: 40 });
    // dfs with its reduction on is the dpor search: the first schedule of both is the default one
    expect(explorer_for({ ...p, search: 'dfs' }).next()).toEqual({ st: 'prefix', seed: 1, f: [] });
  });

  it('pct first asks for its calibration run, which is no schedule of the search', () => {
    const ex = explorer_for(plan({ variant: 'mainline', scenario: 'S12', search: 'pct', seed0: 7 }));
    expect(ex.next()).toEqual({ st: 'random', seed: 7 ^ 0x7f4a7c15, probe: true });
    ex.record({ sched: { steps: 900 } } as never);
    expect(ex.next()).toEqual({ st: 'pct', seed: 7, d: 3, e: 900 });
    expect(ex.next()).toEqual({ st: 'pct', seed: 8, d: 3, e: 900 });
  });

  describe('on real workers', () => {
    let rig: Rig;
    beforeAll(async () => {
      rig = await Rig.start(1, [s12.module]);
    });
    afterAll(() => rig.close());

    it('an explorer added to the list runs as a search: its schedules, then exhausted', async () => {
      const specs: ScheduleSpec[] = [];
      const p = plan({ variant: 'mainline', scenario: s12.id, search: 'three', iterations: 1, budget: 10 });
      const r = await search(rig, s12, p, { searches: [...SEARCHES, three], observe: (_o, spec) => specs.push(spec) });
      expect(r.schedules).toBe(3);
      expect(r.exhausted).toBe(true);
      expect(specs.map((s) => [s.st, s.seed])).toEqual([['random', 40], ['random', 41], ['random', 42]]);
      // the same schedules as the random search's seeds 40..42
      const steps: number[] = [];
      await search(rig, s12, { ...p, search: 'random', seed0: 40, budget: 3 }, { observe: (o) => steps.push(o.sched!.kind_hash) });
      const again: number[] = [];
      await search(rig, s12, p, { searches: [three], observe: (o) => again.push(o.sched!.kind_hash) });
      expect(again).toEqual(steps);
    });
  });
});
