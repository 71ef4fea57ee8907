// A fuzz replay token: everything a run needs to be run again, deflated and base64url-encoded.
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { FaultConfig } from '../kernel/fault.ts';
import type { Programs } from './gen.ts';

export interface FuzzToken {
  variant: string;
  seed: number;
  users: number;
  programs: Programs;
  /** controlled mode: the strategy and its seed */
  sched?: { strategy: 'random' | 'pct'; seed: number };
  /** fault injection of the run */
  fault?: FaultConfig;
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
    return { ...raw, programs: raw.programs.map((u) => u.map(([op, ...a]) => ({ op, a }))) };
  } catch {
    return 'a damaged fuzz token (it does not decode)';
  }
}
