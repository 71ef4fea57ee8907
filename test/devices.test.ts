// Many devices per run (issue 12, item 4): the devices share the one ordered workqueue, so one
// device's quiesce (flush_workqueue) waits for every device's queued work, and one device's work
// item delays another's. Deterministic: Atomics handshakes, bounded waits, no sleeps.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActorKind, GLOBAL, H, Workqueue, alloc_global, hook, set_current, type SharedBuf } from '../src/kernel/index.ts';
import { alloc_lockdep, lockdep_report, start_lockdep } from '../src/detect/lockdep.ts';
import { signature_of } from '../src/report/signature.ts';
import type { Finding } from '../src/report/report.ts';
import { cli, oneLine } from './helpers/cli.ts';
import { ActorPool, prog, unwrap } from '../src/runtime/pool.ts';
import { alloc_devices, bind_system, device_of_buffer, init_driver, init_system, DEVICE_WORDS, type SystemBufs } from '../src/system/device.ts';
import { Rig } from '../src/system/rig.ts';
import { scenario as s13 } from '../src/scenarios/s13-many-devices.ts';
import { R } from './programs/devices.ts';

const P = new URL('./programs/devices.ts', import.meta.url);

describe('two devices, one workqueue', () => {
  let pool: ActorPool;
  let g: SharedBuf;
  let bufs: SystemBufs;
  beforeAll(async () => {
    g = alloc_global();
    set_current(g, 0, ActorKind.main, 'main');
    bufs = alloc_devices(g, 2);
    const sys = bind_system(g, bufs, 'mainline');
    init_system(sys);
    init_driver(sys, { mdev: true });
    pool = await ActorPool.start([1, 2].map((id) => ({ id, kind: ActorKind.test, name: `t${id}` })), g, [bufs.sys, ...bufs.devs], [P.href]);
  });
  afterAll(() => pool?.close());

  it("device 0's quiesce waits for device 1's queued work, and device 0's own work waits behind it", async () => {
    const r = bind_system(g, bufs, 'mainline').sys.results;
    const at = (k: number): number => Atomics.load(r.a, r.i + k);
    const exec = pool.run(1, prog(P, 'executor'), null);
    const q = pool.run(2, prog(P, 'quiesce_dev0'), null);
    // device 1's work is running (held at the gate) and device 0's quiesce is in flush_workqueue
    const fw = GLOBAL.workqueue + Workqueue.fields.flush_waiters.off;
    const end = Date.now() + 20_000;
    while (Atomics.load(g.i32, fw) === 0 && Date.now() < end) Atomics.wait(g.i32, fw, 0, 20);
    expect(at(R.inside)).toBe(1);
    expect(Atomics.load(g.i32, fw)).toBe(1);
    expect(at(R.flushed)).toBe(0);
    expect(at(R.nrun)).toBe(0); // device 0's item is queued behind device 1's
    Atomics.store(r.a, r.i + R.gate, 1);
    Atomics.notify(r.a, r.i + R.gate);
    const out = unwrap<{ seen: number; order: number[] }>(await q);
    expect(out).toEqual({ seen: 2, order: [1, 0] });
    await pool.run(2, prog(P, 'stop'), null);
    expect(unwrap<number>(await exec)).toBe(2);
  });
});

describe('S13 on four devices', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await Rig.start(2, [s13.module], 4);
  });
  afterAll(() => rig?.close());

  it('every device does I/O; device 0 is closed and reset meanwhile; stats are per device', async () => {
    const out = await rig.run({ variant: 'mainline', scenario: s13, users: 2, seed: 1, iterations: 8, devices: 4, hw: { start_latency_us: [0, 20] }, detectors: ['invariants', 'lockdep'], params: { every: 2 } });
    const unexpected = out.report.findings.map((f) => `${f.kind} ${f.id}: ${f.message}`);
    expect(unexpected).toEqual([]);
    expect(out.devices?.map((d) => d.schid)).toEqual(['0.0.0100', '0.0.0101', '0.0.0102', '0.0.0103']);
    for (const d of out.devices ?? []) expect(d.starts).toBeGreaterThanOrEqual(8);
    const counters = out.results.reduce<Record<string, number>>((m, x) => {
      for (const [k, v] of Object.entries(x.counters)) m[k] = (m[k] ?? 0) + v;
      return m;
    }, {});
    expect(counters.cycles).toBe(4 * 8);
    expect(counters.closes).toBe(2);
    expect(counters.resets).toBe(2);
    expect(out.report.stats['hw.starts']).toBe((out.devices ?? []).reduce((n, d) => n + d.starts, 0));
  });

  it('refuses a run with another device count than the rig', async () => {
    await expect(rig.run({ variant: 'mainline', scenario: s13, users: 2, seed: 1, iterations: 1, detectors: [] })).rejects.toThrow(/rig has 4 devices/);
  });

  it('a device is the same size whatever the count', () => {
    expect(alloc_devices(alloc_global(), 3).devs.map((b) => b.sab.byteLength)).toEqual([DEVICE_WORDS * 4, DEVICE_WORDS * 4, DEVICE_WORDS * 4]);
  });
});

describe('reports name the device; signatures do not', () => {
  it('the same race on two devices has one signature, the one a single device gives', () => {
    const f = (field: string): Finding => ({ kind: 'data-race', id: field, message: '', race: { field, first: { actor: 2, function: 'vfio_ccw_sch_io_todo', op: 'read', marked: false }, second: { actor: 1, function: 'fsm_irq', op: 'write', marked: false } } });
    const one = signature_of(f('private->irb'));
    expect(one).toBe('data-race: fsm_irq / vfio_ccw_sch_io_todo (private->irb)');
    expect(signature_of(f('dev3.private->irb'))).toBe(one);
    expect(signature_of(f('dev250.private->irb'))).toBe(one);
  });

  it("lockdep's order graph is over classes; a cycle names the devices whose locks made it", () => {
    const g = alloc_global();
    set_current(g, 0, ActorKind.main, 'main');
    const sys = bind_system(g, alloc_devices(g, 2), 'mainline');
    const ld = alloc_lockdep();
    const off = start_lockdep(ld);
    const take = (actor: number, ids: number[]): void => {
      for (const id of ids) hook?.(H.acquired, id, 'test', actor, 0);
      for (const id of [...ids].reverse()) hook?.(H.release, id, 'test', actor, 0);
    };
    const [p0, p1] = [sys.devs[0]!, sys.devs[1]!];
    try {
      take(3, [p1.v.io_mutex.id, p1.sch.v.lock.id]); // device 1: io_mutex -> sch->lock
      take(4, [p0.sch.v.lock.id, p0.v.io_mutex.id]); // device 0: sch->lock -> io_mutex
    } finally {
      off();
    }
    const classes = ['private.io_mutex', 'subchannel.lock'];
    const plain = lockdep_report(ld, classes);
    expect(plain.map((x) => x.id)).toEqual(['ABBA']);
    expect(plain[0]!.message).not.toMatch(/dev\d/);
    const named = lockdep_report(ld, classes, device_of_buffer);
    expect(named[0]!.message).toMatch(/\(edges made on (dev1, dev0|dev0, dev1)\)$/);
  });
});

describe('--devices on the command line', () => {
  it.each([['0'], ['257'], ['two']])('stress --devices %s: one line naming the option, exit 2', (n) => {
    const r = cli(['stress', '--devices', n, '--duration', '1']);
    expect(r.status).toBe(2);
    expect(oneLine(r)).toMatch(/--devices/);
  });
});
