// Reports told like a commit message (issue 10, items 3 and 4), on hand-built traces: signatures,
// merging, causes, and the CPU-column interleaving with its window, names and preemption marks.
import { describe, expect, it } from 'vitest';
import { H, type HookKind } from '../src/kernel/hook.ts';
import type { TraceEvent } from '../src/trace/ring.ts';
import type { Finding } from '../src/report/report.ts';
import { merge_findings, signature_of } from '../src/report/signature.ts';
import { link_causes } from '../src/report/cause.ts';
import { explainer, format_function_level, format_steps, function_level } from '../src/report/interleave.ts';
import { fsm_names } from '../src/report/events.ts';
import { format_report_text } from '../src/report/format.ts';

const race = (field: string, a: [string, 'read' | 'write'], b: [string, 'read' | 'write'], count = 1): Finding => ({
  kind: 'data-race',
  id: field,
  message: `BUG: KCSAN: data-race in ${[a[0], b[0]].sort().join(' / ')}: ${a[1]} to ${field} of 4 bytes by task 2 in ${a[0]}; ${b[1]} to ${field} of 4 bytes by task 1 in ${b[0]}`,
  count,
  race: { field, first: { actor: 2, function: a[0], op: a[1], marked: false }, second: { actor: 1, function: b[0], op: b[1], marked: false } },
});

describe('signature_of', () => {
  it('a data race: sorted pair and field, whichever access came first', () => {
    const x = race('private->irb', ['vfio_ccw_sch_io_todo', 'read'], ['fsm_irq', 'write']);
    const y = race('private->irb', ['fsm_irq', 'write'], ['vfio_ccw_sch_io_todo', 'read']);
    expect(signature_of(x)).toBe('data-race: fsm_irq / vfio_ccw_sch_io_todo (private->irb)');
    expect(signature_of(y)).toBe(signature_of(x));
  });

  it('an invariant: its id and the function that broke it; generations, devices and counts drop out', () => {
    const a: Finding = { kind: 'invariant', id: 'I2', message: 'I2: state set to IDLE at fsm_io_request while the channel program is initialised (generation 2) (dev0, v5.3)' };
    const b: Finding = { ...a, message: a.message.replace('generation 2', 'generation 17') };
    expect(signature_of(a)).toBe('invariant I2 in fsm_io_request');
    expect(signature_of(b)).toBe(signature_of(a));
    expect(signature_of({ kind: 'invariant', id: 'I7', message: 'I7: 1 chain(s) and 0 pinned page(s) are no longer reachable from the cp (dev0, v5.3)' })).toBe('invariant I7');
    expect(signature_of({ kind: 'invariant', id: 'S2.no-ebusy', message: 'user 3 got -EBUSY 4 times' })).toBe('check S2.no-ebusy');
  });

  it('a marked pair is told apart from a plain one', () => {
    const m = { ...race('guest.pin_count', ['a_fn', 'write'], ['b_fn', 'write']), id: 'data-race-marked:guest.pin_count' };
    expect(signature_of(m)).toBe('data-race (marked): a_fn / b_fn (guest.pin_count)');
  });
});

describe('merge_findings', () => {
  it('one entry per signature: counts summed, where seen unioned, the first token kept', () => {
    const a = { ...race('private->irb', ['vfio_ccw_sch_io_todo', 'read'], ['fsm_irq', 'write'], 3), seen: [{ scenario: 'S2', variant: 'mainline' }], token: 'vcs1.first' };
    const b = { ...race('private->irb', ['fsm_irq', 'write'], ['vfio_ccw_sch_io_todo', 'read'], 2), seen: [{ scenario: 'S12', variant: 'v5.3' }, { scenario: 'S2', variant: 'mainline' }], token: 'vcs1.second' };
    const c = race('private->state', ['vfio_ccw_sch_io_todo', 'write'], ['fsm_io_request', 'write']);
    const out = merge_findings([a, b, c]);
    expect(out).toHaveLength(2);
    expect(new Set(out.map((f) => f.signature)).size).toBe(out.length);
    const irb = out.find((f) => f.signature!.endsWith('(private->irb)'))!;
    expect(irb.count).toBe(5);
    expect(irb.token).toBe('vcs1.first');
    expect(irb.seen).toEqual([{ scenario: 'S2', variant: 'mainline' }, { scenario: 'S12', variant: 'v5.3' }]);
  });
});

describe('link_causes', () => {
  const schib1 = race('sch->schib', ['cio_update_schib', 'write'], ['do_cio_interrupt', 'write']);
  const schib2 = race('sch->schib', ['vfio_ccw_schib_region_read', 'read'], ['cio_update_schib', 'write']);
  const i18: Finding = { kind: 'invariant', id: 'I18', message: 'I18: sch->schib written at cio_update_schib without sch->lock (dev0, mainline)' };
  const irb = race('private->irb', ['vfio_ccw_sch_io_todo', 'read'], ['fsm_irq', 'write']);
  const other: Finding = { kind: 'invariant', id: 'I7', message: 'I7: 1 chain(s) are no longer reachable' };

  it('races on one field with one writer, and the invariant that names them, share a cause; the rest stand alone', () => {
    const out = link_causes(merge_findings([i18, schib1, irb, schib2, other]));
    const cause = (sig: string): string | undefined => out.find((f) => f.signature === sig)?.cause;
    const c = cause(signature_of(schib1));
    expect(c).toBe(signature_of(schib1));
    expect(cause(signature_of(schib2))).toBe(c);
    expect(cause('invariant I18 in cio_update_schib')).toBe(c);
    expect(cause(signature_of(irb))).toBe(signature_of(irb));
    expect(cause('invariant I7')).toBe('invariant I7');
  });

  it('the text prints one splat per cause and lists its other faces beneath', () => {
    const text = format_report_text({ findings: link_causes(merge_findings([i18, schib1, irb, schib2, other])) });
    const splats = text.split('==================================================================').filter((s) => s.trim() !== '');
    expect(splats).toHaveLength(3);
    const schib = splats.find((s) => s.includes('BUG: data-race: sch->schib'))!;
    expect(schib).toMatch(/the same cause, also seen as:\n {4}invariant I18 in cio_update_schib/);
    expect(schib).toContain('data-race: cio_update_schib / vfio_ccw_schib_region_read (sch->schib)');
  });
});

// A hand-built trace of the v5.13 fix's commit message, with history before it and a harness step.
const NAMES: Record<number, string> = { 10: 'sch->lock', 11: 'hw.lock', 20: 'private->irb', 30: 'private->io_work', 40: 'private->state', 50: 'cp->initialized', 60: 'sch->irb' };
const obj = (id: number): string => NAMES[id] ?? `obj${id}`;
function build(): { ev: TraceEvent[]; warn: number } {
  const ev: TraceEvent[] = [];
  const at = (actor: number, kind: HookKind, site: string, o = 0, arg = 4): number => {
    ev.push({ t: ev.length, seq: ev.length, kind, actor, site, obj: o, arg });
    return ev.length - 1;
  };
  const v53 = fsm_names('v5.3')!;
  const st = (n: string): number => v53.states.indexOf(n);
  const evn = (n: string): number => v53.events.indexOf(n);
  // an earlier, finished interrupt: history, not cause
  at(1, H.irq_enter, 'do_cio_interrupt', 11, 0);
  at(1, H.write, 'fsm_irq', 20, 96);
  at(1, H.irq_exit, 'do_cio_interrupt', 11, 0);
  at(3, H.read, 'scenario_settle', 40);
  // CPU 1 of the commit (here the user): the clear
  at(3, H.fsm, 'vfio_ccw_fsm_event', 40, (st('IDLE') << 8) | evn('ASYNC_REQ'));
  at(3, H.acquire, 'fsm_do_clear', 10, 1);
  at(3, H.acquired, 'fsm_do_clear', 10, 1);
  at(3, H.mark, 'csch', 11, 2 << 8);
  at(3, H.release, 'fsm_do_clear', 10, 0);
  at(3, H.fsm_exit, 'vfio_ccw_fsm_event', 40, (st('IDLE') << 8) | evn('ASYNC_REQ'));
  // its interrupt
  at(1, H.irq_enter, 'do_cio_interrupt', 11, 0);
  at(1, H.mark, 'do_cio_interrupt', 11, 6 << 8);
  at(1, H.write, 'do_cio_interrupt', 60, 96);
  at(1, H.fsm, 'vfio_ccw_fsm_event', 40, (st('IDLE') << 8) | evn('INTERRUPT'));
  at(1, H.read, 'fsm_irq', 60, 96);
  at(1, H.write, 'fsm_irq', 20, 96);
  at(1, H.queue, 'fsm_irq', 30, 1);
  at(1, H.fsm_exit, 'vfio_ccw_fsm_event', 40, (st('IDLE') << 8) | evn('INTERRUPT'));
  at(1, H.irq_exit, 'do_cio_interrupt', 11, 0);
  // CPU 2: the start, preempted after cp_init
  at(3, H.fsm, 'vfio_ccw_fsm_event', 40, (st('IDLE') << 8) | evn('IO_REQ'));
  at(3, H.write, 'fsm_io_request', 40);
  at(3, H.write, 'fsm_io_request', 50);
  // the work item for the clear's interrupt sets IDLE
  at(2, H.run, 'worker_thread', 30, 0);
  at(2, H.read, 'vfio_ccw_sch_io_todo', 20, 12);
  at(2, H.write, 'vfio_ccw_sch_io_todo', 40);
  const warn = at(2, H.warn, 'I2: state set to IDLE at vfio_ccw_sch_io_todo while the channel program is initialised (generation 2) (dev0, v5.3)', 40, 9);
  at(2, H.run_end, 'worker_thread', 30, 0);
  // CPU 2 goes on: fsm_io_helper
  at(3, H.acquire, 'fsm_io_helper', 10, 1);
  at(3, H.mark, 'ssch', 11, 0);
  at(3, H.write, 'fsm_io_helper', 40);
  at(3, H.release, 'fsm_io_helper', 10, 0);
  at(3, H.fsm_exit, 'vfio_ccw_fsm_event', 40, (st('IDLE') << 8) | evn('IO_REQ'));
  at(3, H.read, 'scenario_settle', 40);
  at(1, H.irq_enter, 'do_cio_interrupt', 11, 0);
  return { ev, warn: ev[warn]!.seq };
}

const FIVE = [
  ['fsm_do_clear', 3],
  ['fsm_irq', 1],
  ['fsm_io_request', 3],
  ['vfio_ccw_sch_io_todo', 2],
  ['fsm_io_helper', 3],
] as const;

describe('the interleaving of a finding', () => {
  const { ev, warn } = build();
  const ex = explainer(ev, { obj, controlled: true, fsm: fsm_names('v5.3')! });
  const steps = ex.warning(warn);

  it('the function-level form is the commit message: the five steps in order, each in its CPU', () => {
    const fl = function_level(steps);
    const picked = fl.filter((f) => FIVE.some(([n]) => n === f.function));
    expect(picked.map((f) => [f.function, f.cpu])).toEqual(FIVE.map(([n, c]) => [n, c]));
    // the CPU columns: every line of a CPU starts at that CPU's column
    const text = format_function_level(fl, '');
    const col = (name: string): number => text.find((l) => l.includes(`${name}()`))!.indexOf(name);
    expect(col('fsm_do_clear')).toBe(col('fsm_io_request'));
    expect(col('fsm_io_request')).toBe(col('fsm_io_helper'));
    expect(new Set([col('fsm_do_clear'), col('fsm_irq'), col('vfio_ccw_sch_io_todo')]).size).toBe(3);
  });

  it('the window opens at the clear that caused the interrupt, not at the older history', () => {
    expect(steps[0]!.function).toBe('vfio_ccw_fsm_event');
    expect(steps[0]!.what).toBe('ASYNC_REQ in IDLE -> fsm_async_request');
    expect(steps.some((s) => s.seq < 4)).toBe(false);
    // and closes when the preempted start has left the FSM
    expect(steps[steps.length - 1]!.what).toBe('IO_REQ handled');
  });

  it('states and events by name, the preemption marked, harness steps and marks only when verbose', () => {
    expect(steps.map((s) => s.what)).toContain('INTERRUPT in IDLE -> fsm_irq');
    const pre = steps.filter((s) => s.preempted === true).map((s) => s.function);
    // a CPU that could still run when another was picked was preempted; one that blocked or
    // finished its unit of work (the interrupt, the work item) was not
    expect(pre).toContain('fsm_io_request');
    expect(pre).not.toContain('do_cio_interrupt');
    expect(pre).not.toContain('worker_thread');
    expect(format_function_level(function_level(steps)).join('\n')).toMatch(/fsm_io_request\(\) {2}<- preempted/);
    const quiet = format_steps(steps).join('\n');
    const loud = format_steps(steps, true).join('\n');
    expect(quiet).not.toMatch(/csch cc 0|tsch cc 0/);
    expect(loud).toMatch(/csch: csch cc 0/);
    expect(loud).toMatch(/do_cio_interrupt: tsch cc 0/);
    expect(quiet).toMatch(/vfio_ccw_sch_io_todo: WARN I2 fires/);
    expect(function_level(steps).some((f) => f.function === 'csch')).toBe(false);
    expect(function_level(steps, true).some((f) => f.function === 'csch')).toBe(true);
  });

  it('a data race gets the same table, around its two accesses', () => {
    const r = ex.race('private->irb', { actor: 1, function: 'fsm_irq', op: 'write' }, { actor: 2, function: 'vfio_ccw_sch_io_todo', op: 'read' });
    const fl = function_level(r).map((f) => f.function);
    expect(fl.indexOf('fsm_irq')).toBeGreaterThanOrEqual(0);
    expect(fl.indexOf('fsm_irq')).toBeLessThan(fl.indexOf('vfio_ccw_sch_io_todo'));
    // the older fsm_irq write (seq 1) is not the pair: the window starts with the clear's unit
    expect(r[0]!.seq).toBeGreaterThan(3);
  });

  it('names are never cut', () => {
    const long = 'vfio_ccw_a_function_name_much_longer_than_forty_four_columns_wide';
    const fl = [
      { cpu: 3, actor: 'user0', function: long },
      { cpu: 1, actor: 'irq', function: long },
    ];
    const text = format_function_level(fl).join('\n');
    expect(text.split(`${long}()`)).toHaveLength(3);
  });
});

describe('a long window', () => {
  it('keeps its start, both accesses and the end, and says how many events it left out', () => {
    const ev: TraceEvent[] = [];
    const at = (actor: number, kind: HookKind, site: string, o: number): void => {
      ev.push({ t: ev.length, seq: ev.length, kind, actor, site, obj: o, arg: 4 });
    };
    at(3, H.write, 'first_writer', 99);
    for (let k = 0; k < 1500; k++) at(3, H.read, 'a_long_loop', 98);
    at(2, H.read, 'second_reader', 99);
    const steps = explainer(ev, { obj: (id) => `obj${id}`, controlled: false }).race('obj99', { actor: 3, function: 'first_writer', op: 'write' }, { actor: 2, function: 'second_reader', op: 'read' });
    expect(steps.length).toBeLessThan(320);
    expect(steps.filter((s) => s.gap !== undefined).reduce((n, s) => n + s.gap!, 0) + steps.filter((s) => s.gap === undefined).length).toBe(ev.length);
    expect(function_level(steps).map((f) => f.function)).toEqual(['first_writer', 'a_long_loop', 'second_reader']);
    expect(format_steps(steps).join('\n')).toMatch(/… \d+ events left out …/);
  });
});
