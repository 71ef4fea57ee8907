// The clear completion racing a new start (S12, from the seeds): v5.3 sets IDLE in io_todo for
// the clear's final interrupt while the new start's channel program is initialised (I2); v5.13's
// "Serialize FSM IDLE state with I/O completion" (2af7a834a435) fixed it. Controlled PCT with a
// fixed seed finds it on v5.3 and never on v5.13 or mainline; its token replays it, with a trace
// that shows io_todo's part. (Free mode with delay injection finds it only by chance.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rig, type RunOutcome } from '../src/system/rig.ts';
import { scenario as s12 } from '../src/scenarios/s12-clear-then-start.ts';
import { plan } from '../src/sched/plan.ts';
import { check_replay, run_spec, search } from '../src/sched/search.ts';
import { decode_token } from '../src/sched/token.ts';

let rig: Rig;
beforeAll(async () => {
  rig = await Rig.start(1, [s12.module]);
});
afterAll(() => rig.close());

const hasI2 = (o: RunOutcome): boolean => o.report.findings.some((f) => f.id === 'I2');

describe('S12 controlled mode', () => {
  it('v5.3: PCT finds I2, its token replays it every time, and the report shows the interleaving', async () => {
    const r = await search(rig, s12, plan({ variant: 'v5.3', scenario: s12.id, search: 'pct', budget: 200, seed0: 1, detectors: ['invariants'], target: '^I2$', stop_at_first: true }));
    expect(r.first).toBeDefined();
    const spec = decode_token(r.first!.token);
    if (typeof spec === 'string') throw new Error(spec);
    for (let k = 0; k < 10; k++) {
      const o = await run_spec(rig, s12, spec, ['invariants']);
      expect(check_replay(spec, o).ok).toBe(true);
      expect(hasI2(o)).toBe(true);
    }
    const traced = await run_spec(rig, s12, spec, ['invariants', 'trace']);
    const f = traced.report.findings.find((x) => x.id === 'I2');
    expect(f?.message).toMatch(/IDLE .*initialised/);
    expect(f?.trace?.length ?? 0).toBeGreaterThan(4);
    expect(f?.trace?.join('\n')).toMatch(/vfio_ccw_sch_io_todo/);
  });

  it.each(['v5.13', 'mainline'])('%s: PCT never finds I2 in 200 schedules', async (variant) => {
    const r = await search(rig, s12, plan({ variant, scenario: s12.id, search: 'pct', budget: 200, seed0: 1, detectors: ['invariants'], target: '^I2$', stop_at_first: true }));
    expect(r.schedules).toBe(200);
    expect(r.first).toBeUndefined();
  });
});
