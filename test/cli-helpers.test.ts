// The reusable pieces of the command line, in process: the signal policy and the output-path check.
import { EventEmitter } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT, UsageError, exit_for } from '../tools/errors.ts';
import { check_output_path } from '../tools/paths.ts';
import { handle_signals, STOP_SIGNALS } from '../tools/signals.ts';
import { tmp } from './helpers/cli.ts';

const fake = () => {
  const proc = new EventEmitter();
  const said: string[] = [];
  const exits: number[] = [];
  const sig = handle_signals({ err: (s) => said.push(s), exit: (c) => void exits.push(c), proc: proc as unknown as NodeJS.Process });
  return { proc, said, exits, sig };
};

describe('handle_signals', () => {
  it.each(STOP_SIGNALS)('%s: the first asks to stop, the second runs the kill hooks and exits with 4', (name) => {
    const { proc, said, exits, sig } = fake();
    const stops: number[] = [];
    const kills: number[] = [];
    sig.on(() => stops.push(1));
    sig.on_kill(() => kills.push(1));
    expect(sig.stopped()).toBe(false);
    proc.emit(name);
    expect(sig.stopped()).toBe(true);
    expect(sig.signal).toBe(name);
    expect(stops).toEqual([1]);
    expect(exits).toEqual([]);
    expect(said).toHaveLength(1);
    proc.emit('SIGINT');
    expect(kills).toEqual([1]);
    expect(exits).toEqual([EXIT.interrupted]);
    sig.dispose();
    expect(proc.listenerCount(name)).toBe(0);
  });

  it('a stop listener added after the signal runs at once (a signal during start-up counts)', () => {
    const { proc, sig } = fake();
    proc.emit('SIGTERM');
    let ran = false;
    sig.on(() => (ran = true));
    expect(ran).toBe(true);
    sig.dispose();
  });

  it('a failing kill hook does not keep the process alive', () => {
    const { proc, exits, sig } = fake();
    sig.on_kill(() => {
      throw new Error('x');
    });
    proc.emit('SIGHUP');
    proc.emit('SIGHUP');
    expect(exits).toEqual([4]);
    sig.dispose();
  });
});

describe('check_output_path', () => {
  it('accepts a new file in a new directory, and makes the directory', () => {
    const d = tmp();
    expect(() => check_output_path('--report', join(d, 'a/b/r.json'))).not.toThrow();
  });

  it.each([
    ['under a file', (d: string) => (writeFileSync(join(d, 'f'), ''), join(d, 'f/r.json')), /a part of the path is not a directory/],
    ['a directory', (d: string) => (mkdirSync(join(d, 'dir')), join(d, 'dir')), /it is a directory/],
  ])('refuses a path %s, naming the option', (_w, make, re) => {
    const p = make(tmp());
    expect(() => check_output_path('--out', p)).toThrow(UsageError);
    expect(() => check_output_path('--out', p)).toThrow(re);
    expect(() => check_output_path('--out', p)).toThrow(/^--out: cannot write/);
  });
});

describe('exit codes', () => {
  it('one per result, and the documented numbers', () => {
    expect(EXIT).toEqual({ ok: 0, failure: 1, usage: 2, internal: 3, interrupted: 4, skipped: 5 });
    expect(['pass', 'fail', 'interrupted', 'skipped'].map((r) => exit_for(r as 'pass'))).toEqual([0, 1, 4, 5]);
  });
});

describe('tokens', () => {
  it('the whole string is the token: anything added or cut is damaged; another source version is named', async () => {
    const { decode_token, encode_token, source_version, version_mismatch } = await import('../src/sched/token.ts');
    const tok = encode_token({ v: 'v5.3', s: 'S12', st: 'pct', seed: 7, d: 3, u: 1, it: 2 });
    const spec = decode_token(tok);
    expect(typeof spec).toBe('object');
    expect(version_mismatch(spec as Exclude<typeof spec, string>)).toBeNull();
    for (const bad of [tok + 'A', tok + 'AAAA', tok + '=', tok + ' ', tok.slice(0, -1), tok.slice(0, -4)]) expect(decode_token(bad), bad.slice(-6)).toMatch(/damaged/);
    const other = version_mismatch({ ...(spec as Exclude<typeof spec, string>), sv: '0.0.1+abc' });
    expect(other).toContain(`made on 0.0.1+abc, this is ${source_version()}`);
  });
});
