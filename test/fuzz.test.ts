// The fuzzer (src/fuzz): the interface table and its generator on this thread, then generated
// programs on a real rig: the errno check, coverage, a detector that fires on a broken variant
// and stays quiet on a fixed one, and replay tokens.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EINVAL, ENOTTY } from '../src/uapi/errno.ts';
import { Rng } from '../src/hw/prng.ts';
import { variant_by_name } from '../src/variants/registry.ts';
import { CALLS, call_spec, calls_of, spec_errnos, type Call, type RunView } from '../src/fuzz/syscalls.ts';
import { gen_args, gen_programs, mutate } from '../src/fuzz/gen.ts';
import { decode_token, encode_token } from '../src/fuzz/token.ts';
import { finding_key } from '../src/fuzz/finding-key.ts';
import { alloc_coverage } from '../src/fuzz/coverage.ts';
import { summarize } from '../src/fuzz/coverage-report.ts';
import { classify, closes_of, run_token } from '../src/fuzz/campaign.ts';
import { fuzz_scenario } from '../src/fuzz/exec.ts';
import { Rig } from '../src/system/rig.ts';
import { ddmin } from '../src/fuzz/ddmin.ts';

const F = (v: string) => variant_by_name(v)!.features;
const view: RunView = { closes: false, efd_live: () => true, fault: false };

describe('the interface table', () => {
  it('has per-version calls: no async, schib or crw region before v5.2 / v5.8', () => {
    const ops = (v: string) => calls_of(F(v)).map((c) => c.op);
    expect(ops('v4.12')).not.toContain('read_async');
    expect(ops('v5.2')).toContain('write_async');
    expect(ops('v5.2')).not.toContain('read_schib');
    expect(ops('mainline')).toContain('read_crw');
    expect(ops('v4.18')).not.toContain('hw_path'); // no chp_event before v5.8
  });

  it('gives the errno the kernel gives for a bad input', () => {
    const f = F('mainline');
    expect(call_spec('read_io').expect([0, 100, 25, 0], f, view)).toEqual([-EINVAL]); // 125 > 124
    expect(call_spec('read_io').expect([0, 0, 124, 0], f, view)).toEqual([124]);
    expect(call_spec('write_schib').expect([2, 0, 52, 0], f, view)).toEqual([-EINVAL]); // read-only
    expect(call_spec('read_async').expect([4, 0, 8, 0], f, view)).toEqual([-EINVAL]); // index past the regions
    expect(call_spec('bad_ioctl').expect([0x3b70], f, view)).toEqual([-ENOTTY]);
    expect(call_spec('get_irq_info').expect([16, 3, 0], f, view)).toEqual([-EINVAL]); // 3 IRQs: 0..2
    expect(call_spec('get_irq_info').expect([16, 1, 0], F('v5.3'), view)).toEqual([0]); // v5.3: CRW IRQ exists
    // ≤ v5.14 registers the regions again per FD: a higher index may be real there
    expect(call_spec('read_async').expect([4, 0, 8, 0], F('v5.3'), view)).toContain(8);
  });

  it('lists the spec errnos per call (the denominator of errno coverage)', () => {
    expect(spec_errnos(call_spec('set_irqs'), F('mainline'))).toContain(-EINVAL);
    expect(spec_errnos(call_spec('write_io'), F('v4.12'))).toContain(-13); // -EACCES: B's unlocked pre-check
    expect(spec_errnos(call_spec('write_io'), F('mainline'))).not.toContain(-13 - 1000);
  });

  it('generates the same programs from the same seed, and near-valid arguments one field off', () => {
    const f = F('mainline');
    expect(gen_programs(f, 5, 2, 50)).toEqual(gen_programs(f, 5, 2, 50));
    expect(gen_programs(f, 5, 2, 50)).not.toEqual(gen_programs(f, 6, 2, 50));
    for (const c of CALLS.filter((x) => x.args.length > 0 && x.available(f))) {
      for (let k = 0; k < 20; k++) {
        const valid = gen_args(c, f, new Rng(k), 'valid');
        const near = gen_args(c, f, new Rng(k), 'near');
        expect(near.filter((x, i) => x !== valid[i]).length, `${c.op} seed ${k}`).toBe(1);
      }
    }
    const p = gen_programs(f, 1, 2, 10);
    expect(mutate(f, p, 3, 20)).not.toEqual(p);
  });

  it('round-trips a replay token and names a damaged one', () => {
    const t = { variant: 'v5.3', seed: 9, users: 2, programs: [[{ op: 'open_fd', a: [] }], [{ op: 'read_io', a: [0, 0, 124, 0] }]] as Call[][] };
    expect(decode_token(encode_token(t))).toEqual(t);
    expect(decode_token('fz1.!!!')).toMatch(/damaged/);
    expect(decode_token('S1:xyz')).toMatch(/not a fuzz token/);
  });

  it('shrinks a schedule\'s departures with ddmin: the two that matter, in order', async () => {
    const xs = Array.from({ length: 40 }, (_, k) => k);
    let tries = 0;
    const need = async (ys: readonly number[]): Promise<boolean> => {
      tries++;
      return ys.includes(7) && ys.includes(31);
    };
    expect(await ddmin(xs, need)).toEqual([7, 31]);
    expect(tries).toBeLessThan(80);
    // nothing needed: the empty schedule (the default scheduler) is the answer
    expect(await ddmin(xs, async () => true)).toEqual([]);
    // a schedule token keeps its sparse departures; a damaged one is named
    const t = { variant: 'v5.3', seed: 9, users: 2, programs: [[], []] as Call[][], sched: { strategy: 'sparse' as const, seed: 9, forced: [12, 3, 40, 4] } };
    expect(decode_token(encode_token(t))).toEqual(t);
    expect(decode_token(encode_token({ ...t, sched: { ...t.sched, forced: [1] } }))).toMatch(/damaged schedule/);
  });

  it('keys a finding by its signature when the report gives one', () => {
    expect(finding_key({ kind: 'invariant', id: 'I16' })).toBe('invariant I16');
    expect(finding_key({ kind: 'errno', id: 'x' })).toBe('errno:x');
    expect(finding_key({ kind: 'invariant', id: 'I16', signature: 'sig' })).toBe('sig');
    expect(classify({ kind: 'invariant', id: 'fuzz.errno:read_io:-EINVAL', message: 'm' }, 't', 1).kind).toBe('errno');
  });
});

describe('fuzz programs on the rig', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await Rig.start(2, [fuzz_scenario.module]);
  }, 60_000);
  afterAll(async () => {
    await rig.close();
  });
  const run = (variant: string, programs: Call[][], cov?: SharedArrayBuffer) => run_token(rig, { variant, seed: 1, users: programs.length, programs }, ['invariants', 'lockdep'], cov);

  it('I16: a second FD sets the open-time resources up again on v4.12 (per-FD open), not on mainline', async () => {
    const prog: Call[][] = [[{ op: 'open_fd', a: [] }, { op: 'close_fd', a: [] }]];
    const old = await run('v4.12', prog);
    expect(old.report.findings.map((f) => finding_key(f)).filter((k) => k.startsWith('invariant I16'))).not.toEqual([]);
    const now = await run('mainline', prog);
    expect(now.report.findings.map((f) => finding_key(f)).filter((k) => k.startsWith('invariant I16'))).toEqual([]);
    expect(now.report.stats['user.fuzz.calls']).toBe(2);
  }, 60_000);

  it('judges every answer: a bad-input program on mainline gets the spec errnos, and coverage counts them', async () => {
    const cov = alloc_coverage();
    const prog: Call[][] = [[
      { op: 'bad_ioctl', a: [0x1234] },
      { op: 'get_info', a: [8, 0] },
      { op: 'read_io', a: [0, 120, 8, 0] },
      { op: 'write_crw', a: [3, 0, 8, 0] },
      { op: 'write_io', a: [0, 0, 124, 0, 0, 1] },
    ]];
    const out = await run('mainline', prog, cov);
    expect(out.report.findings.filter((f) => f.id.startsWith('fuzz.'))).toEqual([]);
    const s = summarize(cov, 'mainline');
    expect(s.errnos.list).toEqual(expect.arrayContaining(['ioctl:other -ENOTTY', 'ioctl:GET_INFO -EINVAL', 'read:io -EINVAL', 'write:crw -EINVAL']));
    expect(s.cells.reached).toBeGreaterThan(0);
    expect(s.cells.total).toBe(30);
  }, 60_000);

  it('reports an answer the model does not allow as an errno finding', async () => {
    // v5.3 registers regions per FD, and a release drops them all: after open, close the async
    // region is gone. Told that no program closes an FD, the check must flag the -EINVAL.
    const prog: Call[][] = [[{ op: 'open_fd', a: [] }, { op: 'close_fd', a: [] }, { op: 'read_async', a: [1, 0, 8, 0] }]];
    expect(closes_of(prog)).toBe(true);
    const honest = await run('v5.3', prog);
    expect(honest.report.findings.filter((f) => f.id.startsWith('fuzz.errno'))).toEqual([]);
    const out = await rig.run({ variant: 'v5.3', scenario: fuzz_scenario, users: 1, seed: 1, detectors: [], iterations: 1e9, params: { prog: JSON.stringify(prog), closes: false, fault: false } });
    expect(out.report.findings.map((f) => f.id)).toContain('fuzz.errno:read_async:-EINVAL');
  }, 60_000);

  it('sees two users overlap in the driver, and two entries of one user never', async () => {
    const cov = alloc_coverage();
    const busy = (n: number): Call[] => Array.from({ length: n }, (_, i) => (i % 2 === 0 ? { op: 'read_schib', a: [2, 0, 52, 0] } : { op: 'get_info', a: [16, 0] }));
    await run('mainline', [busy(400), busy(400)], cov);
    const s = summarize(cov, 'mainline');
    expect(s.pairs.reached).toBeGreaterThan(0);
    expect(s.pairs.list.every((p) => !p.includes('undefined'))).toBe(true);
  }, 60_000);
});
