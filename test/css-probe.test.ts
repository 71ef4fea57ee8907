// A subchannel that comes back (issue 14, "device gone and back"): the machine's CRW reaches the
// css layer (css_process_crw), the slow path on cio_work_q probes the subchannel again on the css
// worker with the variant's own vfio_ccw_sch_probe, and the device can be created, opened and used.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { H } from '../src/kernel/index.ts';
import { Rig, css_actor, type RunOutcome } from '../src/system/rig.ts';
import { fuzz_scenario } from '../src/fuzz/exec.ts';
import { classify, run_token } from '../src/fuzz/campaign.ts';
import { finding_key } from '../src/fuzz/finding-key.ts';
import { known_baseline } from '../src/variants/baseline.ts';
import { decode_token, encode_token, type FuzzToken } from '../src/fuzz/token.ts';
import { gen_programs, HW_BACK_WITHIN } from '../src/fuzz/gen.ts';
import { variant_by_name } from '../src/variants/index.ts';
import { IO_REGION_SIZE } from '../src/uapi/vfio_ccw.ts';
import { calls_of } from '../src/fuzz/syscalls.ts';
import { device_back } from './programs/device-back.ts';

const USERS = 2;
let rig: Rig;
beforeAll(async () => {
  rig = await Rig.start(USERS, [device_back.module, fuzz_scenario.module]);
}, 60_000);
afterAll(() => rig?.close());

const checks = (o: RunOutcome): Record<string, boolean> => Object.fromEntries(o.results.flatMap((r) => r.checks).map((k) => [k.id, k.ok]));
const ids = (o: RunOutcome): string[] => o.report.findings.map((f) => f.id);
/** The trace events of the driver's probe and who made them. */
const probe_actors = (o: RunOutcome): Set<number> => new Set(o.trace.filter((e) => e.site === 'vfio_ccw_sch_probe').map((e) => e.actor));

describe('device gone, then back', () => {
  for (const variant of ['mainline', 'v6.1', 'v5.13', 'v4.12']) {
    it(`${variant}: unregistered, then probed again on the css worker; mdev create works again and I/O completes`, async () => {
      const o = await rig.run({ variant, scenario: device_back, users: USERS, seed: 1, detectors: ['trace', 'invariants', 'lockdep', 'race'] });
      expect(checks(o), JSON.stringify(o.results.flatMap((r) => r.checks).filter((c) => !c.ok))).toEqual({
        'back.realized': true, 'back.unregistration-waits': true, 'back.unregistered': true, 'back.create-without-parent': true,
        'back.probed': true, 'back.created': true, 'back.reopened': true, 'back.io': true,
      });
      const css = css_actor(USERS);
      // set-up's probe ran on main, untraced: every traced access of the driver's probe is the css worker's
      expect([...probe_actors(o)]).toEqual([css]);
      const on_css = o.trace.filter((e) => e.actor === css);
      const sites = new Set(on_css.map((e) => e.site));
      for (const s of ['css_sch_todo', 'css_sch_device_unregister', 'css_slow_path_func', 'css_alloc_subchannel', 'css_sch_device_register']) expect(sites, s).toContain(s);
      // two works ran on cio_work_q: the UNREG todo and slow_path_work
      expect(new Set(on_css.filter((e) => e.kind === H.run).map((e) => e.obj)).size).toBe(2);
      // the detectors watch the probe as any actor code: v4.12 registers the parent before STANDBY (I19, known)
      expect(ids(o).includes('I19')).toBe(variant === 'v4.12');
      expect(ids(o).filter((id) => id === 'hang' || id === 'livelock' || id.startsWith('exception'))).toEqual([]);
    }, 120_000);
  }

  it('control: without hw back nothing probes the subchannel again and no mdev can be created', async () => {
    const o = await rig.run({ variant: 'mainline', scenario: device_back, users: USERS, seed: 1, detectors: ['trace'], params: { back: false } });
    const k = checks(o);
    expect([k['back.unregistered'], k['back.create-without-parent'], k['back.probed'], k['back.reopened']]).toEqual([true, true, undefined, undefined]);
    expect(probe_actors(o).size).toBe(0);
  }, 120_000);

  // fail_nth counts per actor: main's set-up probe is mdev_register call 1 in main; the css
  // worker's second re-probe is its call 2, so only that one fails
  for (const variant of ['mainline', 'v5.13']) {
    it(`${variant}: an injected mdev_register failure in the css worker's probe unwinds as the C does (on the bus, no driver, no parent: create -ENOENT)`, async () => {
      const o = await rig.run({
        variant, scenario: device_back, users: USERS, seed: 1, detectors: ['trace', 'invariants'],
        params: { rounds: 2, probe_fails: true }, fault: { nth: { site: 'mdev_register', n: 2 }, seed: 1 },
      });
      const k = checks(o);
      expect([k['back.probed'], k['back.created'], k['back.io'], k['back.unregistered.2'], k['back.probe-failed']], JSON.stringify(o.results.flatMap((r) => r.checks).filter((c) => !c.ok))).toEqual([true, true, true, true, true]);
      const css = css_actor(USERS);
      expect(o.trace.filter((e) => e.kind === H.mark && e.site === 'fault:mdev_register').map((e) => e.actor)).toEqual([css]);
      expect(ids(o).filter((id) => id === 'hang' || id === 'livelock' || id.startsWith('exception'))).toEqual([]);
    }, 120_000);
  }
});

describe('gone and back in fuzz programs', () => {
  const F = (v: string) => variant_by_name(v)!.features;
  const io = { op: 'write_io', a: [0, 0, IO_REGION_SIZE, 0, 0, 0] };
  const info = { op: 'get_info', a: [16, 0] };
  // QEMU: the device goes (the unregistration asks for it back: REQ, answered between calls),
  // comes back, and is created, opened and used while the css worker probes it again
  const programs = [[
    // the CRW of a device that comes back while its UNREG todo runs but is still on the bus is
    // swallowed (vfio_ccw_sch_event answers 0): the back comes after the REQ was answered
    info, { op: 'hw_gone', a: [] }, ...Array.from({ length: 10 }, () => info), { op: 'hw_back', a: [] },
    ...Array.from({ length: 8 }, () => [{ op: 'mdev_probe', a: [] }, { op: 'open_fd', a: [] }, info, io]).flat(),
    { op: 'read_io', a: [0, 0, IO_REGION_SIZE, 0] },
  ]];

  for (const variant of ['mainline', 'v5.13']) {
    it(`${variant}: the re-probe races an mdev create and opens under a controlled schedule (fixed seed); the token replays it`, async () => {
      const t: FuzzToken = { variant, seed: 1, users: 1, programs, sched: { strategy: 'random', seed: 1 } };
      const run = async (tok: FuzzToken): Promise<RunOutcome> => run_token(rig, tok, ['trace', 'invariants', 'lockdep', 'race']);
      const o = await run(t);
      // every answer is one the kernel gives (a create with no parent: -ENOENT), nothing threw, nothing hung
      expect(ids(o).filter((id) => id.startsWith('fuzz.') || id === 'hang' || id === 'livelock'), JSON.stringify(o.report.findings.map((f) => f.message))).toEqual([]);
      // the detectors saw the probe on the css worker beside the users: every finding is judged (the variant's known list)
      const known = new Set(known_baseline(variant).known.map((x) => x.key));
      expect(o.report.findings.map((f) => finding_key(classify(f, '', 0))).filter((k) => !known.has(k))).toEqual([]);
      expect(o.sched?.abort).toBe('none');
      expect(o.report.stats['user.fuzz.calls']).toBe(programs.flat().length);
      // creates before the probe registered the parent failed: no create attribute (-ENOENT), or
      // (v5.3+) the parent's unregistration held unreg_sem (-ENODEV); one after it worked, and so did I/O
      const n = (k: string): number => o.report.stats[`user.fuzz.rc.${k}`] ?? 0;
      expect([n('mdev_probe.-ENOENT') + n('mdev_probe.-ENODEV') > 0, n('mdev_probe.0') > 0, n('write_io.124') > 0]).toEqual([true, true, true]);
      expect([...probe_actors(o)]).toEqual([css_actor(USERS)]);
      // replay from the token: the same program (with gone and back), the same answers and findings
      const back = decode_token(encode_token(t));
      if (typeof back === 'string') throw new Error(back);
      expect(back.programs.flat().map((c) => c.op)).toEqual(expect.arrayContaining(['hw_gone', 'hw_back']));
      const o2 = await run(back);
      const answers = (x: RunOutcome) => Object.entries(x.report.stats).filter(([k]) => k.startsWith('user.fuzz.rc.')).sort();
      expect(answers(o2)).toEqual(answers(o));
      expect(ids(o2).sort()).toEqual(ids(o).sort());
    }, 300_000);
  }

  it('generation: hw_back follows hw_gone in lifecycle programs only; other programs are as before', () => {
    const f = F('mainline');
    const lc = gen_programs(f, 7, 4, 400, undefined, { lifecycle: true });
    let gones = 0;
    for (const u of lc)
      u.forEach((c, i) => {
        if (c.op !== 'hw_gone') return;
        gones++;
        const next = u.slice(i + 1, i + 1 + HW_BACK_WITHIN);
        if (i + HW_BACK_WITHIN < u.length && !next.some((x) => x.op === 'hw_gone')) expect(next.map((x) => x.op)).toContain('hw_back');
      });
    expect(gones).toBeGreaterThan(0);
    // hw_back is never drawn: a program without lifecycle calls has none, and its draws are unchanged
    const plain = gen_programs(f, 7, 4, 400);
    expect(plain.flat().some((c) => c.op === 'hw_back')).toBe(false);
    // it is in no generation table: the weighted draws of every program stay what they were
    expect(calls_of(f, true).map((c) => c.op)).not.toContain('hw_back');
  });
});
