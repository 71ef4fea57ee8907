// A fuzz replay token: everything a run needs to be run again, deflated and base64url-encoded.
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { FaultConfig } from '../kernel/fault.ts';
import type { Programs } from './gen.ts';
import { MAX_DEVICES } from '../system/devices.ts';

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
  /** subchannels of the run (fuzz --devices; absent: 1) */
  nd?: number;
}

export interface FuzzSched {
  strategy: 'random' | 'pct' | 'sparse';
  seed: number;
  forced?: number[];
}

const PREFIX = 'fz1.';

/** A call as the token keeps it: [op, ...args], the op as `op@dev` when the call names a device. */
const compact_op = (op: string, d: number | undefined): string => (d === undefined ? op : `${op}@${d}`);

function expand_op(s: string): { op: string; d?: number } {
  const at = s.lastIndexOf('@');
  if (at < 0) return { op: s };
  return { op: s.slice(0, at), d: Number(s.slice(at + 1)) };
}

export function encode_token(t: FuzzToken): string {
  const compact = { ...t, programs: t.programs.map((u) => u.map((c) => [compact_op(c.op, c.d), ...c.a])) };
  return PREFIX + deflateRawSync(Buffer.from(JSON.stringify(compact))).toString('base64url');
}

/** The token, or a message saying what is wrong with it. */
export function decode_token(s: string): FuzzToken | string {
  if (!s.startsWith(PREFIX)) return `not a fuzz token (expected it to start with '${PREFIX}')`;
  try {
    const raw = JSON.parse(inflateRawSync(Buffer.from(s.slice(PREFIX.length), 'base64url')).toString()) as Omit<FuzzToken, 'programs'> & { programs: [string, ...number[]][][] };
    if (typeof raw.variant !== 'string' || !Number.isInteger(raw.seed) || !Number.isInteger(raw.users) || !Array.isArray(raw.programs)) return 'a fuzz token with missing fields';
    if (raw.nd !== undefined && (!Number.isInteger(raw.nd) || raw.nd < 1 || raw.nd > MAX_DEVICES)) return `a fuzz token with a damaged device count (1 to ${MAX_DEVICES})`;
    const sc = raw.sched;
    if (sc !== undefined && (!['random', 'pct', 'sparse'].includes(sc.strategy) || !Number.isInteger(sc.seed) || (sc.forced !== undefined && (!Array.isArray(sc.forced) || sc.forced.length % 2 !== 0 || !sc.forced.every((x) => Number.isInteger(x) && x >= 0))))) return 'a fuzz token with a damaged schedule';
    const programs = raw.programs.map((u) => u.map(([op, ...a]) => ({ ...expand_op(op), a })));
    if (programs.some((u) => u.some((c) => c.d !== undefined && !(Number.isInteger(c.d) && c.d >= 0)))) return 'a fuzz token with a damaged device index';
    return { ...raw, programs };
  } catch {
    return 'a damaged fuzz token (it does not decode)';
  }
}
