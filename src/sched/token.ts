// Replay tokens: a short string that names one schedule exactly. A seeded schedule needs only
// (variant, scenario, strategy, seed, parameters); a shrunk or searched one carries its choices.
// The kind hash and checkpoints let replay say where a run diverged.
import type { StrategyName } from './strategy.ts';
import { deflateRawSync, inflateRawSync } from 'node:zlib';

export interface ScheduleSpec {
  /** variant name, or a file path for a user's own variant */
  v: string;
  /** a user's variant file: sha256 of its content when the token was made */
  vh?: string;
  /** scenario id, or a file path for a user's own scenario */
  s: string;
  st: StrategyName;
  seed: number;
  d?: number;
  e?: number;
  u: number;
  it: number;
  /** forced choices (prefix strategy); sparse: decision index, actor pairs */
  f?: number[];
  /** recorded outcome, for replay checks */
  n?: number;
  h?: number;
  c?: number[];
  /** hardware overrides */
  hw?: Record<string, unknown>;
  /** scenario parameters */
  p?: Record<string, number | string | boolean>;
}

const PREFIX = 'vcs1.';

/** Run-length encode choices: [actor, count, actor, count, ...]. */
function rle(xs: readonly number[]): number[] {
  const out: number[] = [];
  for (const x of xs) {
    if (out.length >= 2 && out[out.length - 2] === x) out[out.length - 1]!++;
    else out.push(x, 1);
  }
  return out;
}
function unrle(xs: readonly number[]): number[] {
  const out: number[] = [];
  for (let k = 0; k + 1 < xs.length; k += 2) for (let j = 0; j < xs[k + 1]!; j++) out.push(xs[k]!);
  return out;
}

export function encode_token(spec: ScheduleSpec): string {
  const body = { ...spec, ...(spec.f !== undefined ? { f: rle(spec.f) } : {}) };
  return PREFIX + deflateRawSync(Buffer.from(JSON.stringify(body))).toString('base64url');
}

export function decode_token(tok: string): ScheduleSpec | string {
  if (!tok.startsWith(PREFIX)) return `a replay token starts with '${PREFIX}'`;
  try {
    const o = JSON.parse(inflateRawSync(Buffer.from(tok.slice(PREFIX.length), 'base64url')).toString()) as ScheduleSpec;
    if (typeof o.v !== 'string' || typeof o.s !== 'string' || typeof o.seed !== 'number' || typeof o.u !== 'number') return 'the token is damaged';
    return o.f !== undefined ? { ...o, f: unrle(o.f) } : o;
  } catch {
    return 'the token is damaged';
  }
}
