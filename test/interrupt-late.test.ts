// A stop signal at a known point of a command, in process (tools/cli.ts main with an Io of the
// test's own, no sleeps): the run it cut short is reported as interrupted (last line INTERRUPTED,
// the JSON report's result, exit 4), never as a pass.
//
// "late": the signal lands the moment the command removes its stop listener, while its workers
// still close and before its report: the listener never runs, only io.interrupted() knows. That
// window once printed SUCCESS for a stress run stopped by SIGTERM.
// "at once": the signal lands as the command starts listening: its run is stopped at the start.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../tools/cli.ts';
import { EXIT } from '../tools/errors.ts';
import type { Io } from '../tools/io.ts';
import { tmp } from './helpers/cli.ts';
import { encode_token } from '../src/fuzz/token.ts';

interface Said {
  io: Io;
  out: string[];
  /** how many stop listeners ran */
  ran: () => number;
}

function signalled(when: 'late' | 'at-once'): Said {
  const out: string[] = [];
  let sig = false;
  let ran = 0;
  const io: Io = {
    out: (s) => void out.push(...s.split('\n')),
    err: () => undefined,
    onInterrupt: (fn) => {
      if (when === 'at-once') {
        sig = true;
        ran++;
        fn();
      }
      return () => {
        if (when === 'late') sig = true;
      };
    },
    interrupted: () => sig,
    onKill: () => () => undefined,
  };
  return { io, out, ran: () => ran };
}

const report_result = (file: string): unknown => (JSON.parse(readFileSync(file, 'utf8')) as { result: unknown }).result;

describe('a signal after the command stopped listening, before its report (late)', () => {
  it('stress: INTERRUPTED, exit 4, the report says interrupted', async () => {
    const s = signalled('late');
    const file = join(tmp(), 'stress.json');
    const rc = await main(['stress', '--variant', 'mainline', '--scenario', 'S2', '--duration', '1', '--detectors', 'none', '--baseline', 'none', '--quiet', '--report', file], s.io);
    expect(s.ran()).toBe(0);
    expect(s.out.filter((l) => l !== '').at(-1), s.out.join('\n')).toBe('INTERRUPTED');
    expect(rc).toBe(EXIT.interrupted);
    expect(report_result(file)).toBe('interrupted');
  }, 120_000);

  it('fuzz: INTERRUPTED, exit 4, the report says interrupted', async () => {
    const s = signalled('late');
    const file = join(tmp(), 'fuzz.json');
    const rc = await main(['fuzz', '--variant', 'mainline', '--calls', '60', '--users', '2', '--seed', '1', '--no-minimise', '--quiet', '--report', file], s.io);
    expect(s.out.filter((l) => l !== '').at(-1), s.out.join('\n')).toBe('INTERRUPTED');
    expect(rc).toBe(EXIT.interrupted);
    expect(report_result(file)).toBe('interrupted');
  }, 120_000);

  it('check: INTERRUPTED, exit 4, the report says interrupted', async () => {
    const s = signalled('late');
    const file = join(tmp(), 'check.json');
    const rc = await main(['check', '--variant', 'v5.3', '--base', 'v5.2', '--scenarios', 'S2', '--budget', '2', '--jobs', '1', '--baseline', 'none', '--quiet', '--report', file], s.io);
    expect(s.out.filter((l) => l !== '').at(-1), s.out.join('\n')).toBe('INTERRUPTED');
    expect(rc).toBe(EXIT.interrupted);
    expect(report_result(file)).toBe('interrupted');
  }, 240_000);

  it('race: INTERRUPTED, exit 4, the report says interrupted', async () => {
    const s = signalled('late');
    const file = join(tmp(), 'race.json');
    const rc = await main(['race', '--variant', 'mainline', '--scenario', 'S2', '--strategy', 'random', '--budget', '2', '--seeds', '1', '--workers', '1', '--no-shrink', '--detectors', 'none', '--baseline', 'none', '--quiet', '--report', file], s.io);
    expect(s.out.filter((l) => l !== '').at(-1), s.out.join('\n')).toBe('INTERRUPTED');
    expect(rc).toBe(EXIT.interrupted);
    expect(report_result(file)).toBe('interrupted');
  }, 120_000);

  it('fuzz --replay: INTERRUPTED, exit 4', async () => {
    const s = signalled('late');
    const token = encode_token({ variant: 'mainline', seed: 1, users: 1, programs: [[{ op: 'get_info', a: [16, 0] }]] });
    const rc = await main(['fuzz', '--replay', token, '--repeat', '2', '--quiet'], s.io);
    expect(s.out.filter((l) => l !== '').at(-1), s.out.join('\n')).toBe('INTERRUPTED');
    expect(rc).toBe(EXIT.interrupted);
  }, 120_000);
});

describe('a signal as the command starts listening (at once)', () => {
  it('trace: the text output ends INTERRUPTED, exit 4', async () => {
    const s = signalled('at-once');
    const file = join(tmp(), 'trace.json');
    const rc = await main(['trace', '--variant', 'mainline', '--scenario', 'S2', '--iterations', '2', '--out', file], s.io);
    expect(s.ran()).toBe(1);
    expect(s.out.filter((l) => l !== '').at(-1), s.out.join('\n')).toBe('INTERRUPTED');
    expect(rc).toBe(EXIT.interrupted);
  }, 120_000);

  it('lockstat: INTERRUPTED, exit 4', async () => {
    const s = signalled('at-once');
    const rc = await main(['lockstat', '--variant', 'mainline', '--scenario', 'S2', '--duration', '1'], s.io);
    expect(s.out.join('\n')).toMatch(/^INTERRUPTED/m);
    expect(rc).toBe(EXIT.interrupted);
  }, 120_000);
});
