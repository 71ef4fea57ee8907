// The trace rings: a merged trace never shows an actor idle where its ring lost events.
import { afterEach, describe, expect, it } from 'vitest';
import { H, hook } from '../src/kernel/hook.ts';
import { alloc_trace, read_trace, start_tracer } from '../src/trace/ring.ts';

let stop: (() => void) | null = null;
afterEach(() => {
  stop?.();
  stop = null;
});

const emit = (actor: number, n: number): void => {
  for (let k = 0; k < n; k++) hook?.(H.write, 1, 'site', actor, k);
};

describe('read_trace', () => {
  it('keeps every event while no ring wrapped', () => {
    const tb = alloc_trace(16);
    stop = start_tracer(tb);
    emit(1, 5);
    emit(2, 3);
    emit(1, 5);
    const tr = read_trace(tb);
    expect(tr.map((e) => e.seq)).toEqual([...Array(13).keys()]);
  });

  it('starts where the ring that wrapped last still has events', () => {
    const tb = alloc_trace(16);
    stop = start_tracer(tb);
    emit(2, 3); // seq 0..2: actor 2 is quiet afterwards, its events stay
    emit(1, 40); // seq 3..42: actor 1 keeps only 27..42
    emit(2, 2); // seq 43, 44
    const tr = read_trace(tb);
    expect(tr[0]?.seq).toBe(27);
    expect(tr.map((e) => e.seq)).toEqual([...Array(18).keys()].map((k) => 27 + k));
    expect(tr.filter((e) => e.actor === 2).map((e) => e.seq)).toEqual([43, 44]);
  });
});
