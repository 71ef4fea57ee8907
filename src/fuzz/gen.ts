// Seeded generation and mutation of user programs from the interface table (syscalls.ts).
// Arguments come well-formed, near-valid (exactly one field one step outside) or random.
import { Rng, mix } from '../hw/prng.ts';
import type { VariantFeatures } from '../variants/index.ts';
import { calls_of, call_spec, deviceArg, device_use, type ArgMode, type Call, type CallSpec } from './syscalls.ts';

/** One program per user. */
export type Programs = Call[][];

export interface GenMix {
  /** probability of a near-valid call; random calls get `random`, the rest are well-formed */
  near: number;
  random: number;
}

export const DEFAULT_MIX: GenMix = { near: 0.2, random: 0.05 };

function pick_call(r: Rng, calls: readonly CallSpec[], total: number): CallSpec {
  let x = r.real() * total;
  for (const c of calls) {
    x -= c.weight;
    if (x < 0) return c;
  }
  return calls[calls.length - 1]!;
}

export function gen_args(c: CallSpec, f: VariantFeatures, r: Rng, mode: ArgMode): number[] {
  if (mode === 'random') return c.args.map((a) => r.range(a.span));
  const a = c.args.map((x) => x.valid(f, r));
  if (mode === 'near' && a.length > 0) {
    const i = r.range([0, a.length - 1]);
    const e = c.args[i]!.edge(f);
    a[i] = e.length > 0 ? e[r.range([0, e.length - 1])]! : a[i]! + 1;
  }
  return a;
}

export function gen_call(f: VariantFeatures, r: Rng, calls: readonly CallSpec[], total: number, m: GenMix = DEFAULT_MIX): Call {
  const c = pick_call(r, calls, total);
  const x = r.real();
  const mode: ArgMode = x < m.random ? 'random' : x < m.random + m.near ? 'near' : 'valid';
  return { op: c.op, a: gen_args(c, f, r, mode) };
}

/** The share of FD calls that name the device one past the last (its FD was never opened). */
export const DEVICE_NEAR = 0.05;

/** `c` on a device of `devices`: well-formed, or for an FD call now and then one past the last. One device: `c` as it is. */
function with_device(c: Call, f: VariantFeatures, r: Rng, devices: number): Call {
  const use = devices > 1 ? device_use(call_spec(c.op)) : null;
  if (use === null) return c;
  const dev = deviceArg(devices, use);
  const near = dev.edge(f);
  return { ...c, d: near.length > 0 && r.chance(DEVICE_NEAR) ? near[0]! : dev.valid(f, r) };
}

/** What a program is drawn over: the run's devices (1 by default) and whether the mdev create/remove calls are in (`lifecycle`). */
export interface GenShape {
  devices?: number;
  lifecycle?: boolean;
}

/** How far after an hw_gone its hw_back lands (it replaces the call there). */
export const HW_BACK_WITHIN = 8;

/**
 * Lifecycle programs: each hw_gone is followed, within HW_BACK_WITHIN calls, by an hw_back on the
 * same device (it replaces the call it lands on), from a stream of its own: a program with no
 * hw_gone is exactly what it was before the call existed.
 */
function with_back(prog: Call[], seed: number, u: number): Call[] {
  const r = new Rng(mix(seed, u, 0xbac4));
  prog.forEach((c, i) => {
    if (c.op !== 'hw_gone') return;
    const at = i + 1 + r.range([0, HW_BACK_WITHIN - 1]);
    if (at < prog.length && prog[at]!.op !== 'hw_gone') prog[at] = { op: 'hw_back', a: [], ...(c.d !== undefined ? { d: c.d } : {}) };
  });
  return prog;
}

/** `users` programs of `n` calls each, from one seed; over `devices` devices (their picks a stream of their own: the calls are those of one device). */
export function gen_programs(f: VariantFeatures, seed: number, users: number, n: number, m: GenMix = DEFAULT_MIX, shape: GenShape = {}): Programs {
  const devices = shape.devices ?? 1;
  const calls = calls_of(f, shape.lifecycle === true);
  const total = calls.reduce((s, c) => s + c.weight, 0);
  return Array.from({ length: users }, (_, u) => {
    const r = new Rng(mix(seed, u, 0xf022));
    const rd = new Rng(mix(seed, u, 0xde71));
    const prog = Array.from({ length: n }, () => with_device(gen_call(f, r, calls, total, m), f, rd, devices));
    return shape.lifecycle === true ? with_back(prog, seed, u) : prog;
  });
}

/** A mutant of `p`: calls inserted, removed, replaced, one argument (or the device) changed, or a splice between users. */
export function mutate(f: VariantFeatures, p: Programs, seed: number, max_len: number, shape: GenShape = {}): Programs {
  const devices = shape.devices ?? 1;
  const lifecycle = shape.lifecycle === true;
  const r = new Rng(mix(seed, 0x5a17));
  const calls = calls_of(f, lifecycle);
  const total = calls.reduce((s, c) => s + c.weight, 0);
  const out = p.map((u) => u.map((c) => ({ ...c, a: [...c.a] })));
  const edits = 1 + r.range([0, 3]);
  for (let k = 0; k < edits; k++) {
    const u = out[r.range([0, out.length - 1])]!;
    const i = r.range([0, Math.max(0, u.length - 1)]);
    const what = r.range([0, 4]);
    if ((what === 0 && u.length < max_len) || u.length === 0) u.splice(i, 0, with_device(gen_call(f, r, calls, total), f, r, devices));
    else if (what === 1 && u.length > 1) u.splice(i, 1);
    else if (what === 2) u[i] = with_device(gen_call(f, r, calls, total), f, r, devices);
    else if (what === 3) {
      const c = u[i]!;
      const spec = call_spec(c.op);
      // with several devices the device index is one more field to change
      const use = devices > 1 ? device_use(spec) : null;
      const fields = spec.args.length + (use !== null ? 1 : 0);
      if (fields > 0) {
        const j = r.range([0, fields - 1]);
        const x = j < spec.args.length ? spec.args[j]! : deviceArg(devices, use!);
        const pool = [...x.edge(f), x.valid(f, r), r.range(x.span)];
        const v = pool[r.range([0, pool.length - 1])]!;
        if (j < spec.args.length) c.a[j] = v;
        else c.d = v;
      }
    } else {
      // move a run of calls to another user: the same sequence now races with different neighbours
      const v = out[r.range([0, out.length - 1])]!;
      const run = u.splice(i, Math.min(u.length - i, 1 + r.range([0, 4])));
      v.splice(r.range([0, v.length]), 0, ...run.slice(0, Math.max(0, max_len - v.length)));
    }
  }
  return out;
}

export function count_calls(p: Programs): number {
  return p.reduce((s, u) => s + u.length, 0);
}
