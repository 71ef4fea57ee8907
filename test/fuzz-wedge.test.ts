// A call that throws a plain exception (not a BUG) with a spinlock or a mutex held: in the kernel an
// oops kills the task and the locks it held stay held (die() releases none). The fuzzer reports the
// exception with the locks it left, stops that user, and ends the run's calls and teardown there:
// every later call or release could wait on the lock (the dead user on its own mutex), which would
// be the harness's follow-on, not the driver's finding. Controlled mode, fixed seeds.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { run_token } from '../src/fuzz/campaign.ts';
import { fuzz_scenario } from '../src/fuzz/exec.ts';
import type { Call } from '../src/fuzz/syscalls.ts';
import { load_variant_file } from '../src/variants/load.ts';
import { Rig } from '../src/system/rig.ts';

const VARIANT = new URL('./fixtures/throw-under-lock-variant.ts', import.meta.url).pathname;
const MUTEX_VARIANT = new URL('./fixtures/throw-under-mutex-variant.ts', import.meta.url).pathname;
const START: Call = { op: 'write_io', a: [0, 0, 124, 0, 0, 1] };
const INFO: Call = { op: 'get_info', a: [16, 0] };

let rig: Rig;
beforeAll(async () => {
  await load_variant_file(VARIANT, { check: false });
  await load_variant_file(MUTEX_VARIANT, { check: false });
  rig = await Rig.start(2, [fuzz_scenario.module]);
}, 120_000);
afterAll(async () => {
  await rig.close();
});

it.each([1, 2, 3])('schedule seed %i: the oops is the one finding; the other user stops and nothing hangs', async (seed) => {
  const programs = [[START], [INFO, INFO, START, INFO, START]];
  const out = await run_token(rig, { variant: VARIANT, seed: 1, users: 2, programs, sched: { strategy: 'random', seed } }, ['invariants', 'lockdep']);
  const f = out.report.findings;
  expect(f.map((x) => `${x.kind} ${x.id}`)).toEqual(['invariant fuzz.exception:write_io:port bug under sch->lock']);
  expect(f[0]!.message).toMatch(/threw with 1 spinlock\(s\) and 1 mutex\(es\) held/);
  expect(rig.dead).toBe(false);
  expect(out.results.flatMap((r) => r.notes)).toContain('teardown skipped: a call died holding a lock');
}, 120_000);

it.each([1, 2, 3])('schedule seed %i: an oops with only io_mutex held stops its user too (it would wait on its own mutex)', async (seed) => {
  const programs = [[START, INFO, START], [INFO, INFO, START, INFO, START]];
  const out = await run_token(rig, { variant: MUTEX_VARIANT, seed: 1, users: 2, programs, sched: { strategy: 'random', seed } }, ['invariants', 'lockdep']);
  const f = out.report.findings;
  expect(f.map((x) => `${x.kind} ${x.id}`)).toEqual(['invariant fuzz.exception:write_io:port bug under io_mutex']);
  expect(f[0]!.message).toMatch(/threw with 1 mutex\(es\) held/);
  expect(rig.dead).toBe(false);
  expect(out.results.flatMap((r) => r.notes)).toContain('teardown skipped: a call died holding a lock');
}, 120_000);

it('the same programs on mainline itself: no exception, the starts run (the fixture is what throws)', async () => {
  const programs = [[START], [INFO, INFO, START, INFO, START]];
  const out = await run_token(rig, { variant: 'mainline', seed: 1, users: 2, programs, sched: { strategy: 'random', seed: 1 } }, ['invariants', 'lockdep']);
  expect(out.report.findings.filter((x) => x.id.startsWith('fuzz.exception'))).toEqual([]);
  expect(out.report.stats['user.fuzz.calls']).toBe(6);
}, 120_000);
