// The clear completion racing a new start (S12, from the seeds): v5.3 sets IDLE in io_todo for
// the clear's final interrupt while the new start's channel program is initialised (I2); v5.13's
// "Serialize FSM IDLE state with I/O completion" (2af7a834a435) fixed it. Controlled PCT with a
// fixed seed finds it on v5.3 and never on v5.13 or mainline; its token replays it, with a trace
// that shows io_todo's part. (Free mode with delay injection finds it only by chance.)
// The first order PCT meets I2 in on v5.3 is not the commit message's: the work item reads the
// clear's IRB and the IDLE state before the start, waits for io_mutex while the user's IO_REQ
// holds it, then sets IDLE (a real v5.3 execution: mutex_trylock in write_io_region can take the
// mutex before the woken work item does). With --target, race lists every order it met within
// --more schedules of the first failure; the commit's is one of them, with its own token.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

describe('S12 --target I2: the search goes on for --more schedules', () => {
  it('v5.3: a search with more runs that many schedules past its first failure and keeps every I2 run, the first failure\'s first', async () => {
    const r = await search(rig, s12, plan({ variant: 'v5.3', scenario: s12.id, search: 'pct', budget: 200, seed0: 1, detectors: ['invariants', 'trace'], target: '^I2$', stop_at_first: true, more: 4 }));
    expect(r.first).toBeDefined();
    const f = r.first!.schedule;
    expect(r.schedules).toBe(f + 5);
    expect(r.target_runs.length).toBeGreaterThan(0);
    expect(r.target_runs[0]!.schedule).toBe(f);
    expect(r.target_runs[0]!.token).toBe(r.first!.token);
    expect(r.target_runs.every((x) => x.schedule >= f && x.schedule <= f + 4 && x.interleaving.length > 0)).toBe(true);
  }, 300_000);
});

const BIN = new URL('../bin/vfio-ccw-sim.mjs', import.meta.url).pathname;
const STEPS = ['fsm_do_clear', 'fsm_irq', 'fsm_io_request', 'vfio_ccw_sch_io_todo', 'fsm_io_helper'] as const;

/** The rows of one drawn order: each line's (row, column) of a function. */
function order_rows(block: readonly string[]): (name: string) => { row: number; col: number }[] {
  return (name) => block.flatMap((l, row) => (l.includes(` ${name}()`) ? [{ row, col: l.indexOf(`${name}()`) }] : []));
}

/**
 * The commit message's order, as in test/report-e2e.test.ts: CPU 1 fsm_do_clear(), fsm_irq();
 * CPU 2 fsm_io_request(); CPU 1 vfio_ccw_sch_io_todo(); CPU 2 fsm_io_helper(); the work item had
 * not begun before the start and its IDLE lands after the helper; the user's clear, start and
 * helper in one column, the interrupt and the work item each in its own.
 */
function is_commit_order(block: readonly string[]): boolean {
  const at = order_rows(block);
  const after = (name: string, row: number) => at(name).find((x) => x.row > row);
  const clear = at('fsm_do_clear')[0];
  const irq = clear && after('fsm_irq', clear.row);
  const req = irq && after('fsm_io_request', irq.row);
  const todo = req && after('vfio_ccw_sch_io_todo', req.row);
  const helper = todo && after('fsm_io_helper', todo.row);
  if (!clear || !irq || !req || !todo || !helper) return false;
  const todos = at('vfio_ccw_sch_io_todo');
  return todos[0]!.row === todo.row && todos[todos.length - 1]!.row > helper.row && req.col === clear.col && helper.col === clear.col && new Set([clear.col, irq.col, todo.col]).size === 3;
}

/** The drawn orders of race's text: from each `order k of n:` line to its replay line. */
function drawn_orders(stdout: string): string[][] {
  const lines = stdout.split('\n');
  const out: string[][] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^ {2}order \d+ of \d+: /.test(lines[i]!)) continue;
    const end = lines.findIndex((l, j) => j > i && (l.startsWith('    replay: ') || /^ {2}order /.test(l)));
    out.push(lines.slice(i, end < 0 ? undefined : lines[end]!.startsWith('    replay: ') ? end + 1 : end));
  }
  return out;
}

interface Orders {
  signature: string;
  orders: { schedule: number; stream: string; count: number; replay: string; interleaving: { cpu: number; function: string }[] }[];
}

describe('race --variant v5.3 --scenario S12 --target I2, default options', () => {
  const race = (extra: string[]): { status: number | null; stdout: string; orders: Orders } => {
    const file = join(mkdtempSync(join(tmpdir(), 'vfio-ccw-sim-')), 'race.json');
    const p = spawnSync(process.execPath, [BIN, 'race', '--variant', 'v5.3', '--scenario', 'S12', '--target', 'I2', ...extra, '--quiet', '--report', file], { encoding: 'utf8', timeout: 280_000 });
    const rep = JSON.parse(readFileSync(file, 'utf8')) as { target_orders: Orders };
    return { status: p.status, stdout: p.stdout, orders: rep.target_orders };
  };

  it('lists the orders it met I2 in; the commit message\'s five steps are one, in CPU columns, names whole, with a token', () => {
    const a = race([]);
    expect(a.status).toBe(1);
    expect(a.stdout).toMatch(/the target's invariant I2 in vfio_ccw_sch_io_todo in schedules 0\.\.\d+ of each stream: \d+ run\(s\) in \d+ order\(s\), oldest first:/);
    const drawn = drawn_orders(a.stdout);
    expect(drawn.length).toBeGreaterThan(1);
    const commit = drawn.filter(is_commit_order);
    expect(commit.length, drawn.map((d) => d.join('\n')).join('\n\n')).toBeGreaterThan(0);
    for (const d of commit) {
      expect(d[d.length - 1]).toMatch(/^ {4}replay: vfio-ccw-sim replay vcs1\.\S+$/);
      expect(d.join('\n')).not.toMatch(/\S…/);
    }
    // the JSON holds the same orders; in one of them the five steps come in order
    expect(a.orders.signature).toBe('invariant I2 in vfio_ccw_sch_io_todo');
    const in_order = (fs: readonly string[]): boolean => {
      let k = 0;
      for (const f of fs) if (k < STEPS.length && f === STEPS[k]) k++;
      return k === STEPS.length;
    };
    expect(a.orders.orders.some((o) => in_order(o.interleaving.map((x) => x.function)))).toBe(true);
    // one search thread lists the same orders, in the same order, with the same tokens
    const b = race(['--workers', '1', '--no-shrink']);
    expect(b.orders.orders.map((o) => [o.schedule, o.stream, o.count, o.replay])).toEqual(a.orders.orders.map((o) => [o.schedule, o.stream, o.count, o.replay]));
  }, 600_000);
});
