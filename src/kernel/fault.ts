// Fault injection (the kernel's fail_nth and failslab, issue 14, item 3): a call site asks
// `should_fail(site)` where the kernel's allocation, pin, registration or lookup could fail, and
// returns that version's error. Per actor, as fail_nth is per task: the nth call at a site in this
// actor fails (`nth`), or each call fails with probability `rate` from a seeded stream.
import { mulberry32 } from '../hw/prng.ts';
import { H, hook } from './hook.ts';
import { current } from './current.ts';

export const FAULT_SITES = ['cp_alloc', 'pin', 'region_register', 'mdev_register', 'eventfd_ctx'] as const;
export type FaultSite = (typeof FAULT_SITES)[number];

export interface FaultConfig {
  /** fail the nth call (1-based) at this site, in every actor */
  nth?: { site: FaultSite; n: number };
  /** fail each call at a site with this probability */
  rate?: number;
  seed: number;
}

let cfg: FaultConfig | null = null;
const calls = new Map<FaultSite, number>();
let draw: (() => number) | null = null;
/** failures injected into this actor since fault_configure (no hook, no shared access: a plain count) */
let injected = 0;

/** Install (or with null, remove) this thread's fault injection; counters start again. */
export function fault_configure(c: FaultConfig | null, actor = 0): void {
  cfg = c;
  calls.clear();
  injected = 0;
  draw = c?.rate !== undefined ? mulberry32((c.seed ^ Math.imul(actor + 1, 0x9e3779b1)) >>> 0) : null;
}

export function fault_active(): boolean {
  return cfg !== null;
}

/** Should this call at `site` fail? (One compare when nothing is configured.) */
export function should_fail(site: FaultSite): boolean {
  if (cfg === null) return false;
  const k = (calls.get(site) ?? 0) + 1;
  calls.set(site, k);
  const fail = (cfg.nth !== undefined && cfg.nth.site === site && cfg.nth.n === k) || (draw !== null && cfg.rate !== undefined && draw() / 0x1_0000_0000 < cfg.rate);
  if (fail) injected++;
  if (fail && hook !== null) hook(H.mark, 0, `fault:${site}`, current.id, k);
  return fail;
}

/**
 * Failures injected into this actor so far. A scenario reads it before and after one call to
 * tell the error that call's injected failure produced from an answer the driver got wrong.
 */
export function fault_injected(): number {
  return injected;
}

/** 'SITE:N' (fail_nth) as a FaultConfig, or a message naming what is wrong. */
export function parse_fail_nth(s: string, seed: number): FaultConfig | string {
  const m = /^([a-z_]+):(\d+)$/.exec(s.trim());
  if (m === null) return `'${s}' is not SITE:N (sites: ${FAULT_SITES.join(', ')})`;
  if (!(FAULT_SITES as readonly string[]).includes(m[1]!)) return `unknown site '${m[1]}' (expected one of ${FAULT_SITES.join(', ')})`;
  const n = Number(m[2]);
  if (n < 1) return `N must be 1 or more in '${s}'`;
  return { nth: { site: m[1] as FaultSite, n }, seed };
}
