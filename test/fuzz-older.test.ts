// Issue 14: on older variants the fuzzer finds what no scenario showed. Each case runs a small
// controlled campaign from a fixed seed, minimises the finding (calls, then schedule), and replays
// the minimised token. "No scenario showed it" is the variant's known list: every finding of
// race (random, PCT, DFS) and stress over S1…S12 (src/variants/baselines/*.json).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaign, run_token } from '../src/fuzz/campaign.ts';
import { fuzz_scenario } from '../src/fuzz/exec.ts';
import { count_calls } from '../src/fuzz/gen.ts';
import { decode_token, type FuzzToken } from '../src/fuzz/token.ts';
import { finding_key } from '../src/fuzz/finding-key.ts';
import { known_baseline } from '../src/variants/baseline.ts';
import { Rig, type DetectorName } from '../src/system/rig.ts';

const DETECTORS: DetectorName[] = ['invariants', 'lockdep'];

/**
 * Seeds chosen so the first generated program has a DMA unmap among the first calls (2 users, 8
 * calls each); the search itself is the fuzzer's.
 */
const CASES = [
  // ≤ v5.1: cp_iova_pinned() walks cp->ccwchain_list, which only cp_init() initialises: a DMA
  // unmap after open and before the first start walks a zeroed list head (v5.2 adds
  // cp->initialized and returns false on an uninitialised cp).
  { variant: 'v4.12', seed: 10, key: /cp_iova_pinned walks ccwchain_list before any cp_init/ },
  { variant: 'v4.18', seed: 10, key: /cp_iova_pinned walks ccwchain_list before any cp_init/ },
  { variant: 'v5.0', seed: 10, key: /cp_iova_pinned walks ccwchain_list before any cp_init/ },
  // ≤ v5.14 .open runs per FD: a second FD registers the async region again (v5.15's open_device runs once)
  { variant: 'v5.2', seed: 10, key: /^invariant I16 in vfio_ccw_register_regions$/ },
];

let rig: Rig;
beforeAll(async () => {
  rig = await Rig.start(3, [fuzz_scenario.module]);
}, 60_000);
afterAll(async () => {
  await rig.close();
});

describe('fuzzing older variants finds what no scenario showed', () => {
  // v4.18's write of the I/O region takes no lock (the io_mutex comes in v5.2): two users both see
  // IDLE, one fires IO_REQ, the other's copy_from_user overwrites the region cp_init reads. It
  // needs one preemption: the minimised schedule keeps it, and the default scheduler alone does not
  // show the finding.
  it('v4.18: two writers of io_region (I1), minimised to a few calls and one preemption', async () => {
    const key = 'invariant I1 in vfio_ccw_mdev_write_io_region';
    const r = await campaign({ variant: 'v4.18', seed: 1, calls: 75, duration: 3600, users: 3, batch: 25, detectors: DETECTORS, sched: { strategy: 'random' }, minimise: true, minimise_runs: 60, target: new RegExp(`^${key}$`) });
    expect(r.findings.map((f) => finding_key(f))).toEqual([key]);
    expect(known_baseline('v4.18').known.map((k) => k.key)).not.toContain(key);
    const t = decode_token(r.findings[0]!.token) as FuzzToken;
    expect(count_calls(t.programs)).toBeLessThan(10);
    expect(t.sched?.strategy).toBe('sparse');
    const departures = t.sched!.forced!.length / 2;
    expect(departures).toBeGreaterThanOrEqual(1);
    expect(departures).toBeLessThanOrEqual(3);
    const keys = async (x: FuzzToken): Promise<string[]> => (await run_token(rig, x, DETECTORS)).report.findings.map((f) => finding_key(f));
    expect(await keys(t)).toContain(key);
    expect(await keys({ ...t, sched: { ...t.sched!, forced: [] } })).not.toContain(key);
  }, 600_000);

  for (const c of CASES) {
    it(`${c.variant}: ${c.key.source}`, async () => {
      const r = await campaign({ variant: c.variant, seed: c.seed, calls: 16, duration: 3600, users: 2, batch: 8, detectors: DETECTORS, sched: { strategy: 'random' }, minimise: true, minimise_runs: 40, target: c.key });
      expect(r.findings.map((f) => finding_key(f))).toHaveLength(1);
      const f = r.findings[0]!;
      const key = finding_key(f);
      expect(known_baseline(c.variant).known.map((k) => k.key)).not.toContain(key);
      // minimised: fewer calls than generated, and a sparse schedule (only the departures kept)
      const t = decode_token(f.token) as FuzzToken;
      expect(typeof t).toBe('object');
      expect(count_calls(t.programs)).toBeLessThan(16);
      expect(t.sched?.strategy).toBe('sparse');
      // the token replays: the same finding, twice (controlled mode is deterministic)
      for (let k = 0; k < 2; k++) {
        const out = await run_token(rig, t, DETECTORS);
        expect(out.report.findings.map((x) => finding_key(x))).toContain(key);
      }
    }, 300_000);
  }
});
