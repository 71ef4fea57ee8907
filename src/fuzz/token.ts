// A fuzz replay token: everything a run needs to be run again, deflated and base64url-encoded.
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { FaultConfig } from '../kernel/fault.ts';
import type { Programs } from './gen.ts';

export interface FuzzToken {
  variant: string;
  seed: number;
  users: number;
  programs: Programs;
  /** controlled mode: the strategy and its seed; a minimised schedule is `sparse`, with its
   * departures from the default scheduler as (decision index, actor) pairs */
  sched?: FuzzSched;
  /** fault injection of the run */
  fault?: FaultConfig;
}

export interface FuzzSched {
  strategy: 'random' | 'pct' | 'sparse';
  seed: number;
  forced?: number[];
}

const PREFIX = 'fz1.';

export function encode_token(t: FuzzToken): string {
  const compact = { ...t, programs: t.programs.map((u) => u.map((c) => [c.op, ...c.a])) };
  return PREFIX + deflateRawSync(Buffer.from(JSON.stringify(compact))).toString('base64url');
}

/** The token, or a message saying what is wrong with it. */
export function decode_token(s: string): FuzzToken | string {
  if (!s.startsWith(PREFIX)) return `not a fuzz token (expected it to start with '${PREFIX}')`;
  try {
    const raw = JSON.parse(inflateRawSync(Buffer.from(s.slice(PREFIX.length), 'base64url')).toString()) as Omit<FuzzToken, 'programs'> & { programs: [string, ...number[]][][] };
    if (typeof raw.variant !== 'string' || !Number.isInteger(raw.seed) || !Number.isInteger(raw.users) || !Array.isArray(raw.programs)) return 'a fuzz token with missing fields';
    const sc = raw.sched;
    if (sc !== undefined && (!['random', 'pct', 'sparse'].includes(sc.strategy) || !Number.isInteger(sc.seed) || (sc.forced !== undefined && (!Array.isArray(sc.forced) || sc.forced.length % 2 !== 0 || !sc.forced.every((x) => Number.isInteger(x) && x >= 0))))) return 'a fuzz token with a damaged schedule';
    return { ...raw, programs: raw.programs.map((u) => u.map(([op, ...a]) => ({ op, a }))) };
  } catch {
    return 'a damaged fuzz token (it does not decode)';
  }
}
