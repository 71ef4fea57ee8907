// The orders a search met its target in (race --target): runs grouped by function-level
// interleaving, oldest first, each drawn in CPU columns with its own token; and the portfolio's
// bound on how far every stream runs past the first failure.
import { describe, expect, it } from 'vitest';
import type { FunctionStep } from '../src/report/interleave.ts';
import type { Finding } from '../src/report/report.ts';
import { format_orders, group_orders, order_key, target_run, type StreamRun } from '../src/report/orders.ts';
import { lower_first, portfolio_last } from '../src/sched/job.ts';
import { job_slots, kFirstField } from '../src/sched/plan.ts';

const ACTORS: Record<number, string> = { 1: 'irq', 2: 'todo', 3: 'user0' };
/** "3:fsm_do_clear* 1:fsm_irq ..." : CPU, function, * for a preemption */
const fl = (s: string): FunctionStep[] =>
  s.split(' ').map((w) => {
    const [cpu, fn] = w.split(':') as [string, string];
    const pre = fn.endsWith('*');
    return { cpu: Number(cpu), actor: ACTORS[Number(cpu)]!, function: pre ? fn.slice(0, -1) : fn, ...(pre ? { preempted: true as const } : {}) };
  });

const SIG = 'invariant I2 in vfio_ccw_sch_io_todo';
// the work item reads the state before the start (one preemption), and the commit message's order
const EARLY = '3:fsm_do_clear* 1:fsm_irq 2:vfio_ccw_sch_io_todo 3:fsm_io_request 3:fsm_io_helper 2:vfio_ccw_sch_io_todo';
const COMMIT = '3:fsm_do_clear* 1:fsm_irq 3:fsm_io_request* 2:vfio_ccw_sch_io_todo 3:fsm_io_helper 2:vfio_ccw_sch_io_todo';
const run = (stream: number, schedule: number, s: string, signature = SIG): StreamRun => ({ signature, schedule, stream, from: `stream ${stream}`, token: `tok-${stream}-${schedule}`, interleaving: fl(s) });

describe('group_orders', () => {
  it('one entry per distinct order, oldest first (schedule, then stream), with its first run and a count', () => {
    const runs = [run(1, 11, COMMIT), run(0, 5, EARLY), run(0, 2, EARLY), run(0, 11, COMMIT.replace('fsm_do_clear*', 'fsm_do_clear'))];
    const g = group_orders(runs, SIG);
    expect(g.map((o) => [o.stream, o.schedule, o.count])).toEqual([
      [0, 2, 2],
      [0, 11, 2],
    ]);
    // a preemption mark is shown, not compared: the two COMMIT runs are one order, drawn as the first one ran
    expect(g[1]!.token).toBe('tok-0-11');
    expect(g[1]!.interleaving[0]!.preempted).toBeUndefined();
  });

  it('another function, CPU or order is another order', () => {
    const base = fl(COMMIT);
    expect(order_key(fl(EARLY))).not.toBe(order_key(base));
    expect(order_key(fl(COMMIT.replace('1:fsm_irq', '3:fsm_irq')))).not.toBe(order_key(base));
    expect(order_key(fl(COMMIT.replace('fsm_io_helper', 'cp_get_orb')))).not.toBe(order_key(base));
  });

  it('keeps to one signature and to the schedules up to the bound', () => {
    const runs = [run(0, 2, EARLY), run(0, 3, COMMIT, 'invariant I2 in vfio_ccw_fsm_event'), run(1, 19, COMMIT)];
    expect(group_orders(runs, SIG, 18).map((o) => o.schedule)).toEqual([2]);
    expect(group_orders(runs, SIG).map((o) => o.schedule)).toEqual([2, 19]);
    expect(group_orders(runs, 'no such')).toEqual([]);
  });

  it('a finding without a trace has no order', () => {
    const f: Finding = { kind: 'invariant', id: 'I2', message: 'I2: state set to IDLE at vfio_ccw_sch_io_todo while the channel program is initialised (generation 3) (dev0, v5.3)' };
    expect(target_run(f, 0, 't')).toBeNull();
  });
});

describe('format_orders', () => {
  const g = group_orders([run(0, 2, EARLY), run(1, 11, COMMIT), run(1, 12, COMMIT)], SIG);

  it('each order in CPU columns, names whole, its preemption marks and its own token; the one shown above only named', () => {
    const lines = format_orders(g, `the target's ${SIG}`, 'tok-0-2');
    expect(lines[0]).toBe(`the target's ${SIG}: 3 run(s) in 2 order(s), oldest first:`);
    expect(lines[1]).toBe('  order 1 of 2: schedule 2 of stream 0: the first failure above');
    expect(lines[2]).toBe('  order 2 of 2: schedule 11 of stream 1, seen 2 times');
    const cols = lines.slice(3, -1);
    expect(cols[0]).toMatch(/^ {4}CPU3 \(user0\) +CPU1 \(irq\) +CPU2 \(todo\)$/);
    const col = (name: string): number => cols.find((l) => l.includes(`${name}()`))!.indexOf(`${name}()`);
    expect(cols.slice(1).map((l) => l.trim())).toEqual(['fsm_do_clear()  <- preempted', 'fsm_irq()', 'fsm_io_request()  <- preempted', 'vfio_ccw_sch_io_todo()', 'fsm_io_helper()', 'vfio_ccw_sch_io_todo()']);
    expect(col('fsm_io_request')).toBe(col('fsm_do_clear'));
    expect(col('fsm_io_helper')).toBe(col('fsm_do_clear'));
    expect(new Set([col('fsm_do_clear'), col('fsm_irq'), col('vfio_ccw_sch_io_todo')]).size).toBe(3);
    expect(lines[lines.length - 1]).toBe('    replay: vfio-ccw-sim replay tok-1-11');
  });

  it('without a run shown above, every order is drawn; nothing to say of no runs', () => {
    const lines = format_orders(g, 'x');
    expect(lines.filter((l) => l.startsWith('    replay: '))).toHaveLength(2);
    expect(format_orders([], 'x')).toEqual([]);
  });
});

describe('portfolio_last', () => {
  it('no bound until a job fails; then its schedule + more, the lowest failing schedule of any job', () => {
    const sh = new Int32Array(job_slots());
    expect(portfolio_last(sh, 16)).toBe(Infinity);
    Atomics.store(sh, kFirstField, 1 + 2);
    expect(portfolio_last(sh, 16)).toBe(18);
    expect(portfolio_last(sh, 0)).toBe(2);
  });

  it('a job that fails later does not raise it; one that fails earlier lowers it', () => {
    const sh = new Int32Array(job_slots());
    lower_first(sh, 11);
    expect(portfolio_last(sh, 0)).toBe(11);
    lower_first(sh, 14);
    expect(portfolio_last(sh, 0)).toBe(11);
    lower_first(sh, 0);
    expect(portfolio_last(sh, 0)).toBe(0);
  });
});
