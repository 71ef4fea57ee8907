// Known findings: the shipped lists parse, a run counts only what is outside its baseline, and a
// list that does not parse says what is wrong in one line.
import { describe, expect, it } from 'vitest';
import type { Finding } from '../src/report/report.ts';
import { known_baseline, parse_baseline, split_by_baseline, type Baseline } from '../src/variants/baseline.ts';
import { VARIANT_NAMES } from '../src/variants/registry.ts';
import { target_outside } from '../tools/baseline.ts';

const f = (kind: Finding['kind'], id: string): Finding => ({ kind, id, message: `${id} seen` });
const B: Baseline = {
  source: 'test',
  known: [
    { key: 'invariant:I2', scenarios: ['S12'], why: 'io_todo sets IDLE', status: 'fixed in v5.13' },
    { key: 'data-race:private->irb', scenarios: ['S2', 'S12'], why: 'one IRB slot', status: 'open upstream' },
    { key: 'invariant:I9', scenarios: ['S4'], why: 'elsewhere', status: 'flaw of this old version' },
  ],
};

describe('baselines', () => {
  it.each(VARIANT_NAMES)('%s: its shipped list parses, every entry with a why and a status', (v) => {
    const b = known_baseline(v);
    expect(b.source).toBe('known');
    for (const k of b.known) {
      expect(k.key).toMatch(/^[a-z-]+:\S/);
      expect(k.why.length).toBeGreaterThan(10);
    }
  });

  it('a run counts only findings outside the baseline; known ones seen and not seen are listed apart', () => {
    const s = split_by_baseline([f('invariant', 'I2'), f('invariant', 'I3'), f('data-race', 'private->state')], B, ['S12']);
    expect(s.counted.map((x) => x.id)).toEqual(['I3', 'private->state']);
    expect(s.known_seen.map((k) => k.key)).toEqual(['invariant:I2']);
    // I9 is known only in S4, which this run did not run
    expect(s.known_not_seen.map((k) => k.key)).toEqual(['data-race:private->irb']);
  });

  it('the same id of another kind is not the known finding', () => {
    expect(split_by_baseline([f('lockdep', 'I2')], B, ['S12']).counted).toHaveLength(1);
  });

  it.each([
    ['{', /not JSON/],
    ['[]', /"known" array/],
    ['{"known":[{"why":"x","status":"open upstream"}]}', /known\[0\]: "key"/],
    ['{"known":[{"key":"invariant:I2","why":"x","status":"perhaps"}]}', /known\[0\] \(invariant:I2\): "status"/],
    ['{"known":[{"key":"invariant:I2","why":"x","status":"open upstream","scenarios":"S12"}]}', /"scenarios"/],
  ])('%s does not parse: %s', (text, re) => {
    const r = parse_baseline(text, 'f.json');
    expect(typeof r).toBe('string');
    expect(r as string).toMatch(re);
  });

  it('the search stops on ids outside the baseline, or on the target the user named', () => {
    const re = new RegExp(target_outside(B, undefined)!);
    expect(['I2', 'private->irb', 'I9'].filter((id) => re.test(id))).toEqual([]);
    expect(['I3', 'I22', 'private->irbx'].every((id) => re.test(id))).toBe(true);
    expect(target_outside(B, '^I2$')).toBe('^I2$');
    expect(target_outside({ source: 'none', known: [] }, undefined)).toBeUndefined();
  });
});
