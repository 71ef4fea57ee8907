// Replay tokens: a short string that names one schedule exactly. A seeded schedule needs only
// (variant, scenario, strategy, seed, parameters); a shrunk or searched one carries its choices.
// The kind hash and checkpoints let replay say where a run diverged.
import type { StrategyName } from './strategy.ts';
import type { FaultConfig } from '../kernel/fault.ts';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { ROOT as PKG_ROOT } from '../runtime/root.ts';

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
  /** subchannels in the run (1 when absent) */
  nd?: number;
  /** fault injection (--fail-nth, --fail-rate): replays fail the same calls */
  fl?: FaultConfig;
  /** the sources it was made on: package version + content hash (see source_version) */
  sv?: string;
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

// the package's root, from the sources or from dist/
const ROOT = fileURLToPath(PKG_ROOT);
let version: string | undefined;

/**
 * The sources a schedule depends on: "<package version>+<12 hex of a hash over src/**>". A token
 * replays the same schedule only on the same driver, machine and scheduler, so replay compares it.
 */
export function source_version(): string {
  if (version !== undefined) return version;
  const h = createHash('sha256');
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) h.update(p.slice(ROOT.length)).update('\0').update(readFileSync(p)).update('\0');
    }
  };
  walk(join(ROOT, 'src'));
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  version = `${pkg.version}+${h.digest('hex').slice(0, 12)}`;
  return version;
}

export function encode_token(spec: ScheduleSpec): string {
  const body = { ...spec, sv: source_version(), ...(spec.f !== undefined ? { f: rle(spec.f) } : {}) };
  return PREFIX + deflateRawSync(Buffer.from(JSON.stringify(body))).toString('base64url');
}

const DAMAGED = 'the token is damaged (copy it whole, as printed)';

/** The schedule a token names, or why it cannot be read. The whole string must be the token: nothing added, nothing cut. */
export function decode_token(tok: string): ScheduleSpec | string {
  if (!tok.startsWith(PREFIX)) return `a replay token starts with '${PREFIX}'`;
  const b64 = tok.slice(PREFIX.length);
  const raw = Buffer.from(b64, 'base64url');
  // every character must be base64url and the deflate stream must end exactly at the last byte
  if (raw.toString('base64url') !== b64) return DAMAGED;
  try {
    const r = inflateRawSync(raw, { info: true }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
    if (r.engine.bytesWritten !== raw.length) return DAMAGED;
    const o = JSON.parse(r.buffer.toString()) as ScheduleSpec;
    if (typeof o.v !== 'string' || typeof o.s !== 'string' || typeof o.seed !== 'number' || typeof o.u !== 'number') return DAMAGED;
    return o.f !== undefined ? { ...o, f: unrle(o.f) } : o;
  } catch {
    return DAMAGED;
  }
}

/** null when the token was made on these sources; else the one-line reason it cannot replay here. */
export function version_mismatch(spec: ScheduleSpec): string | null {
  const here = source_version();
  if (spec.sv === here) return null;
  return `the token was made on ${spec.sv ?? 'sources older than versioned tokens'}, this is ${here}: a schedule replays only on the sources it was found on`;
}
