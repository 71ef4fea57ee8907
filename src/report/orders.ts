// The orders a search met its target in: every schedule where the target finding fired, grouped
// by its function-level interleaving (who ran which function, in which order; where a CPU was
// preempted is shown, not compared). One race can be reached by several orders: the first the
// search met need not be the one a commit message tells, so each distinct order is listed with a
// token that replays it, oldest first (first by schedule, then by stream).
import type { Finding } from './report.ts';
import { format_function_level, function_level, type FunctionStep } from './interleave.ts';
import { signature_of } from './signature.ts';

/** One schedule's target finding, as a search job hands it back. */
export interface TargetRun {
  signature: string;
  /** index of the schedule in its stream */
  schedule: number;
  token: string;
  interleaving: FunctionStep[];
}

/** A run of one stream: the stream's position in the portfolio says which of two equal schedules comes first. */
export interface StreamRun extends TargetRun {
  /** the job's index in the portfolio, and its name for people (strategy, seed, variant) */
  stream: number;
  from: string;
}

/** One distinct order: its first run, and how many runs showed it. */
export interface Order extends StreamRun {
  count: number;
}

/** The finding's runs of the function-level form, or nothing without a trace. */
export function target_run(f: Finding, schedule: number, token: string): TargetRun | null {
  if (f.steps === undefined || f.steps.length === 0) return null;
  return { signature: f.signature ?? signature_of(f), schedule, token, interleaving: function_level(f.steps) };
}

/** Two runs with the same key ran the same functions on the same CPUs in the same order. */
export const order_key = (fl: readonly FunctionStep[]): string => fl.map((s) => `${s.cpu}:${s.function}`).join(' ');

/** The distinct orders of one signature's runs, oldest first; runs after `last` are left out. */
export function group_orders(runs: readonly StreamRun[], signature: string, last = Infinity): Order[] {
  const mine = runs.filter((r) => r.signature === signature && r.schedule <= last);
  mine.sort((a, b) => a.schedule - b.schedule || a.stream - b.stream);
  const by = new Map<string, Order>();
  for (const r of mine) {
    const k = order_key(r.interleaving);
    const o = by.get(k);
    if (o === undefined) by.set(k, { ...r, count: 1 });
    else o.count++;
  }
  return [...by.values()];
}

/**
 * The orders as text: each in CPU columns with its own replay token. The run whose token is
 * `shown` (the first failure, printed in full above) is named, not drawn again.
 */
export function format_orders(orders: readonly Order[], what: string, shown?: string): string[] {
  if (orders.length === 0) return [];
  const n = orders.length;
  const runs = orders.reduce((m, o) => m + o.count, 0);
  const lines = [`${what}: ${runs} run(s) in ${n} order(s), oldest first:`];
  orders.forEach((o, k) => {
    const times = o.count > 1 ? `, seen ${o.count} times` : '';
    const again = o.token === shown;
    lines.push(`  order ${k + 1} of ${n}: schedule ${o.schedule} of ${o.from}${times}${again ? ': the first failure above' : ''}`);
    if (again) return;
    lines.push(...format_function_level(o.interleaving));
    lines.push(`    replay: vfio-ccw-sim replay ${o.token}`);
  });
  return lines;
}

/** The orders for JSON. */
export const orders_json = (orders: readonly Order[]): { signature: string; schedule: number; stream: string; count: number; replay: string; interleaving: FunctionStep[] }[] =>
  orders.map((o) => ({ signature: o.signature, schedule: o.schedule, stream: o.from, count: o.count, replay: o.token, interleaving: o.interleaving }));
