// fuzz --devices N: the users' calls name one of N subchannels on the driver's one workqueue and
// one IRQ worker; a call naming one past the last gets what a device that does not exist gets
// (its open -ENODEV, the FD never returned -EBADF); tokens keep the device count.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EBADF, ENODEV } from '../src/uapi/errno.ts';
import { variant_by_name } from '../src/variants/registry.ts';
import { call_spec, device_expect, device_use, type Call } from '../src/fuzz/syscalls.ts';
import { DEFAULT_MIX, gen_programs, mutate } from '../src/fuzz/gen.ts';
import { decode_token, encode_token, type FuzzToken } from '../src/fuzz/token.ts';
import { rig_for_token, run_token } from '../src/fuzz/campaign.ts';
import { fuzz_scenario } from '../src/fuzz/exec.ts';
import type { Rig } from '../src/system/rig.ts';

const F = variant_by_name('mainline')!.features;
const BIN = new URL('../bin/vfio-ccw-sim.mjs', import.meta.url).pathname;
const strip = (p: Call[][]): Call[][] => p.map((u) => u.map((c) => ({ op: c.op, a: c.a })));

describe('the device a call names', () => {
  it('one device: programs as before, no call names a device', () => {
    const p = gen_programs(F, 5, 3, 200);
    expect(p.flat().every((c) => c.d === undefined)).toBe(true);
    expect(gen_programs(F, 5, 3, 200, DEFAULT_MIX, { devices: 1 })).toEqual(p);
  });

  it('N devices: the same calls, each FD call on a device or one past the last, machine calls on a device, eventfds on none', () => {
    const one = gen_programs(F, 5, 3, 400);
    const four = gen_programs(F, 5, 3, 400, DEFAULT_MIX, { devices: 4 });
    expect(strip(four)).toEqual(one);
    const named = new Set<number>();
    for (const c of four.flat()) {
      const use = device_use(call_spec(c.op));
      if (use === null) expect(c.d, c.op).toBeUndefined();
      else expect(c.d, c.op).toBeLessThanOrEqual(use === 'fd' ? 4 : 3);
      if (c.d !== undefined) named.add(c.d);
    }
    // every device, and the near miss
    expect([...named].sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it('a mutant can move a call to another device, and keeps the devices of the calls it leaves', () => {
    const p = gen_programs(F, 9, 2, 30, DEFAULT_MIX, { devices: 3 });
    let moved = false;
    for (let s = 0; s < 60 && !moved; s++) {
      const m = mutate(F, p, s, 40, { devices: 3 });
      expect(m.flat().filter((c) => device_use(call_spec(c.op)) !== null).every((c) => c.d !== undefined)).toBe(true);
      moved = m.some((u, i) => u.length === p[i]!.length && u.some((c, j) => c.op === p[i]![j]!.op && c.a.join() === p[i]![j]!.a.join() && c.d !== p[i]![j]!.d));
    }
    expect(moved).toBe(true);
  });

  it('a device that does not exist: open -ENODEV, read/write/ioctl -EBADF, close nothing to judge', () => {
    expect(device_expect(call_spec('open_fd'), 4, 4)).toEqual([-ENODEV]);
    expect(device_expect(call_spec('read_io'), 4, 4)).toEqual([-EBADF]);
    expect(device_expect(call_spec('set_irqs'), 4, 4)).toEqual([-EBADF]);
    expect(device_expect(call_spec('close_fd'), 4, 4)).toBeNull();
    // an existing device: the call's own answers
    expect(device_expect(call_spec('read_io'), 3, 4)).toBeUndefined();
  });

  it('a token keeps the device count and each call\'s device; a damaged count is named', () => {
    const t: FuzzToken = { variant: 'mainline', seed: 2, users: 1, nd: 3, programs: [[{ op: 'read_io', a: [0, 0, 124, 0], d: 2 }, { op: 'efd_create', a: [0] }]] };
    expect(decode_token(encode_token(t))).toEqual(t);
    expect(decode_token(encode_token({ ...t, nd: 0 }))).toMatch(/device count/);
    expect(decode_token(encode_token({ ...t, nd: 257 }))).toMatch(/device count/);
  });
});

describe('programs on a rig of 3 devices', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await rig_for_token({ users: 2, nd: 3 });
  }, 60_000);
  afterAll(async () => {
    await rig.close();
  });
  // controlled: one schedule, the same every time
  const run = (variant: string, programs: Call[][]) => run_token(rig, { variant, seed: 1, users: programs.length, programs, nd: 3, sched: { strategy: 'random', seed: 1 } }, ['invariants']);
  const start: Call = { op: 'write_io', a: [0, 0, 124, 0, 0, 0], d: 1 };

  it('a call goes to the device it names, and every user holds an FD on each', async () => {
    const out = await run('mainline', [[start], [{ op: 'read_io', a: [0, 0, 124, 0], d: 2 }, { op: 'get_info', a: [16, 0], d: 0 }]]);
    expect(out.report.findings.filter((f) => f.id.startsWith('fuzz.'))).toEqual([]);
    expect(out.report.stats['user.fuzz.calls']).toBe(3);
    expect(out.devices?.map((d) => d.starts)).toEqual([0, 1, 0]);
  }, 60_000);

  it('one past the last device: the open fails and the calls get the FD never returned, judged as the spec says', async () => {
    const missing: Call[] = [{ op: 'open_fd', a: [], d: 3 }, { op: 'read_io', a: [0, 0, 124, 0], d: 3 }, { op: 'set_irqs', a: [24, 0x24, 0, 0, 1, 4], d: 3 }, { op: 'close_fd', a: [], d: 3 }];
    const out = await run('mainline', [missing, []]);
    expect(out.report.findings.filter((f) => f.id.startsWith('fuzz.'))).toEqual([]);
    expect(out.report.stats['user.fuzz.calls']).toBe(4);
    // nothing reached a device
    expect(out.devices?.map((d) => d.starts)).toEqual([0, 0, 0]);
  }, 60_000);

  it('a close on one device drops only that device\'s regions (v5.3 per-FD regions), and the judge knows which', async () => {
    // user 0 opens a second FD on device 1 and closes it: device 1's async region is gone, device 0's is not
    const prog: Call[][] = [[{ op: 'open_fd', a: [], d: 1 }, { op: 'close_fd', a: [], d: 1 }, { op: 'read_async', a: [1, 0, 8, 0], d: 1 }, { op: 'read_async', a: [1, 0, 8, 0], d: 0 }]];
    const honest = await run('v5.3', prog);
    expect(honest.report.findings.filter((f) => f.id.startsWith('fuzz.'))).toEqual([]);
    // told that no FD of device 1 is closed, the judge flags its -EINVAL, and names the device
    const out = await rig.run({ variant: 'v5.3', scenario: fuzz_scenario, users: 1, seed: 1, detectors: [], iterations: 1e9, devices: 3, params: { prog: JSON.stringify(prog), closes: true, fault: false, closes_on: '[0]' }, sched: { strategy: 'random', seed: 1, depth: 3, expected: 2000 } });
    const bad = out.report.findings.filter((f) => f.id === 'fuzz.errno:read_async:-EINVAL');
    expect(bad.length).toBe(1);
    expect(bad[0]!.message).toMatch(/^dev1: read_async/);
  }, 60_000);
});

describe('fuzz --devices on the command line', () => {
  const cli = (args: string[]) => spawnSync(process.execPath, [BIN, 'fuzz', ...args], { encoding: 'utf8', timeout: 300_000 });

  it('bad values: one line naming --devices, exit 2', () => {
    for (const v of ['0', '257', 'two']) {
      const r = cli(['--devices', v, '--calls', '10']);
      expect(r.status, v).toBe(2);
      expect(r.stderr.trim().split('\n'), v).toHaveLength(1);
      expect(r.stderr).toContain('--devices');
    }
    const tok = encode_token({ variant: 'mainline', seed: 1, users: 1, programs: [[]] });
    const r = cli(['--replay', tok, '--devices', '2']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('--devices');
  });

  it('a campaign over 3 devices records them in its report and its tokens, and a token replays on 3', () => {
    const rep = join(mkdtempSync(join(tmpdir(), 'vfio-ccw-sim-fuzz-dev-')), 'fuzz.json');
    const r = cli(['--devices', '3', '--users', '2', '--calls', '200', '--batch', '100', '--no-minimise', '--detectors', 'invariants', '--quiet', '--report', rep]);
    expect([0, 1], r.stderr).toContain(r.status);
    const report = JSON.parse(readFileSync(rep, 'utf8')) as { devices: number; stats: { calls: number }; findings: { token: string }[] };
    expect(report.devices).toBe(3);
    expect(report.stats.calls).toBeGreaterThan(0);
    // a program of the campaign as a token: its devices, replayed on as many
    const t = { variant: 'mainline', seed: 4, users: 2, nd: 3, programs: gen_programs(F, 4, 2, 20, DEFAULT_MIX, { devices: 3 }) };
    for (const f of report.findings) expect((decode_token(f.token) as FuzzToken).nd).toBe(3);
    const again = cli(['--replay', encode_token(t), '--repeat', '1', '--json']);
    expect([0, 1], again.stderr).toContain(again.status);
    expect(JSON.parse(again.stdout)).toMatchObject({ devices: 3, runs: 1 });
  }, 300_000);
});
