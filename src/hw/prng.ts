// Seeded randomness of the machine model: mulberry32 streams keyed by (seed, device, what, n),
// so each decision depends on the seed and the instruction sequence, not on thread timing.

/** mulberry32: a 32-bit state, uniform u32 outputs. */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Mix words into one 32-bit key (murmur3's finaliser per word). */
export function mix(...words: number[]): number {
  let h = 0x9e3779b9;
  for (const w of words) {
    let k = Math.imul(w >>> 0, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = ((h << 13) | (h >>> 19)) >>> 0;
    h = (Math.imul(h, 5) + 0xe6546b64) >>> 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** A decision stream: uniform reals, chances and ranges, drawn in a fixed order. */
export class Rng {
  private readonly next: () => number;
  constructor(key: number) {
    this.next = mulberry32(key);
  }
  /** [0, 1) */
  real(): number {
    return this.next() / 0x1_0000_0000;
  }
  chance(p: number): boolean {
    return this.real() < p;
  }
  /** integer in [lo, hi] */
  range(r: readonly [number, number]): number {
    const [lo, hi] = r[0] <= r[1] ? r : [r[1], r[0]];
    return lo + Math.floor(this.real() * (hi - lo + 1));
  }
}

/** FNV-1a over a string, folded into a running 32-bit hash. */
export function fnv1a(h: number, s: string): number {
  let x = h >>> 0 || 0x811c9dc5;
  for (let k = 0; k < s.length; k++) {
    x ^= s.charCodeAt(k);
    x = Math.imul(x, 0x01000193) >>> 0;
  }
  return x;
}
