// Known findings: the shipped lists parse, a run counts only what is outside its baseline, and a
// list that does not parse says what is wrong in one line.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Finding } from '../src/report/report.ts';
import { parse_signature, signature_of } from '../src/report/signature.ts';
import { known_baseline, parse_baseline, split_by_baseline, type Baseline } from '../src/variants/baseline.ts';
import { VARIANT_NAMES } from '../src/variants/registry.ts';
import { target_outside } from '../tools/baseline.ts';

const f = (kind: Finding['kind'], id: string, message = `${id} seen`): Finding => ({ kind, id, message });
const I2_TODO = f('invariant', 'I2', 'I2: IDLE with the cp initialised in vfio_ccw_sch_io_todo');
const IRB = f('data-race', 'private->irb', 'BUG: KCSAN: data-race in fsm_irq / vfio_ccw_sch_io_todo: write to private->irb');
const B: Baseline = {
  source: 'test',
  known: [
    { key: 'invariant I2 in vfio_ccw_sch_io_todo', scenarios: ['S12'], why: 'io_todo sets IDLE', status: 'fixed in v5.13' },
    { key: 'data-race: fsm_irq / vfio_ccw_sch_io_todo (private->irb)', scenarios: ['S2', 'S12'], why: 'one IRB slot', status: 'open upstream' },
    { key: 'invariant I9', scenarios: ['S4'], why: 'elsewhere', status: 'flaw of this old version' },
  ],
};

describe('baselines', () => {
  it.each(VARIANT_NAMES)('%s: ships a list, every key a signature, every entry with a why and a status', (v) => {
    expect(existsSync(new URL(`../src/variants/baselines/${v}.json`, import.meta.url))).toBe(true);
    const b = known_baseline(v);
    expect(b.source).toBe('known');
    expect(b.known.length).toBeGreaterThan(0);
    for (const k of b.known) {
      expect(parse_signature(k.key), k.key).toBeDefined();
      expect(k.why.length).toBeGreaterThan(10);
    }
  });

  it('a signature parses back to its kind and id, in each of signature_of\'s forms', () => {
    const cases: [Finding, string][] = [
      [IRB, 'private->irb'],
      [f('data-race', 'data-race-marked:guest.pin_count', 'BUG: KCSAN: data-race in cp_free / ccwchain_fetch_ccw: x'), 'data-race-marked:guest.pin_count'],
      [I2_TODO, 'I2'],
      [f('invariant', 'I12'), 'I12'],
      [f('invariant', 'S2.no-ebusy'), 'S2.no-ebusy'],
      [f('lockdep', 'sleep_in_atomic', 'BUG: sleeping function called from invalid context at cp_free'), 'sleep_in_atomic'],
      [f('lockdep', 'lock_order', 'possible circular locking dependency 3 -> 4'), 'lock_order'],
      [f('hang', 'no-progress'), 'no-progress'],
      [f('hang', 'user-failed', 'user 2: a start failed 3 times'), 'user-failed'],
      [f('accounting', 'pin-leak'), 'pin-leak'],
      [f('use-after-free', 'use-after-free', 'BUG: KASAN: use-after-free in worker_thread: x'), 'use-after-free'],
    ];
    for (const [x, id] of cases) expect(parse_signature(signature_of(x)), signature_of(x)).toEqual({ kind: x.kind, id });
    for (const bad of ['invariant:I2', 'data-race:private->irb', 'data-race: fsm_irq (private->irb)', 'invariant I2 in', 'check', 'lockdep lock_not_held']) expect(parse_signature(bad), bad).toBeUndefined();
  });

  it('a run counts only findings outside the baseline; known ones seen and not seen are listed apart', () => {
    const s = split_by_baseline([I2_TODO, f('invariant', 'I3'), f('data-race', 'private->state')], B, ['S12']);
    expect(s.counted.map((x) => x.id)).toEqual(['I3', 'private->state']);
    expect(s.known_seen.map((k) => k.key)).toEqual(['invariant I2 in vfio_ccw_sch_io_todo']);
    // I9 is known only in S4, which this run did not run
    expect(s.known_not_seen.map((k) => k.key)).toEqual(['data-race: fsm_irq / vfio_ccw_sch_io_todo (private->irb)']);
  });

  it('a known id at another site, pair or kind is a new finding: keys are signatures, not classes', () => {
    const other = [f('invariant', 'I2', 'I2: IDLE with the cp initialised in vfio_ccw_mdev_reset'), f('data-race', 'private->irb', 'BUG: KCSAN: data-race in cp_update_scsw / fsm_irq: x'), f('lockdep', 'I2')];
    expect(split_by_baseline([...other, IRB], B, ['S12']).counted).toEqual(other);
  });

  it.each([
    ['{', /not JSON/],
    ['[]', /"known" array/],
    ['{"known":[{"why":"x","status":"open upstream"}]}', /known\[0\]: "key"/],
    ['{"known":[{"key":"invariant I2","why":"x","status":"perhaps"}]}', /known\[0\] \(invariant I2\): "status"/],
    ['{"known":[{"key":"invariant I2","why":"x","status":"open upstream","scenarios":"S12"}]}', /"scenarios"/],
    ['{"known":[{"key":"invariant:I2","why":"x","status":"open upstream"}]}', /known\[0\]: "key" must be a signature/],
  ])('%s does not parse: %s', (text, re) => {
    const r = parse_baseline(text, 'f.json');
    expect(typeof r).toBe('string');
    expect(r as string).toMatch(re);
  });

  it('the search stops on ids outside the baseline, or on the target the user named', () => {
    const re = new RegExp(target_outside(B, undefined)!);
    // the workers match ids: a known signature's id is left out
    expect(['I2', 'private->irb', 'I9'].filter((id) => re.test(id))).toEqual([]);
    expect(['I3', 'I22', 'private->irbx'].every((id) => re.test(id))).toBe(true);
    expect(target_outside(B, '^I2$')).toBe('^I2$');
    expect(target_outside({ source: 'none', known: [] }, undefined)).toBeUndefined();
  });
});
