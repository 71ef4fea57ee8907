// Use of a freed vfio_ccw_private (v6.2+, where private is per mdev and the vfio core frees it
// at .release): a hook consumer that sees every access to the private's fields, its embedded
// channel program included, and reports one made after the free as a use-after-free naming
// the field, the using site and the freeing site (src/kernel/lifetime.ts). Before v6.2 private
// lives as long as the subchannel and nothing is checked.
import { H, type HookFn, type Kref, kref_gen, kref_read, obj_use, objName, register_hook } from '../kernel/index.ts';
import { ChannelProgram } from '../driver/cp.ts';
import { private_ref } from '../driver/ops.ts';
import { VfioCcwPrivate as PrivateLayout, type VfioCcwPrivate } from '../driver/private.ts';

/** Sites of the harness (scenario checks, tests, oracles): not kernel code, never a finding. */
const HARNESS_SITES = new Set(['scenario', 'test', 'oracle', 't']);

interface Span { lo: number; hi: number; p: VfioCcwPrivate; ref: Kref; skip: Set<number> }

/** The oracle of a device set: its spans and its hook consumer, with what it has reported this run. */
interface Oracle {
  fn: HookFn | null;
  told: Set<string>;
  active: boolean;
}

// Built once per thread and device set (the actors keep their system across runs), re-armed per
// run: the spans are fixed by the layout, and a hook consumer that stays the same function keeps
// its call sites monomorphic.
const oracles = new WeakMap<readonly VfioCcwPrivate[], Oracle>();

export function start_lifetimes(devs: readonly VfioCcwPrivate[]): () => void {
  let o = oracles.get(devs);
  if (o === undefined || o.active) {
    o = build(devs);
    if (!oracles.has(devs)) oracles.set(devs, o);
  }
  const { fn } = o;
  if (fn === null) return () => {};
  const armed = o;
  armed.told.clear();
  armed.active = true;
  const off = register_hook(fn);
  return () => {
    off();
    armed.active = false;
  };
}

function build(devs: readonly VfioCcwPrivate[]): Oracle {
  const spans: Span[] = [];
  for (const p of devs) {
    if (!p.drv.f.parent_split) continue;
    const ref = private_ref(p);
    const base = p.v.state.id; // the first field
    // The lifetime word itself and the oracle's bookkeeping are the model's, not the driver's.
    const skip = new Set<number>();
    for (let k = 0; k < PrivateLayout.fields.life.words; k++) skip.add(p.v.life.id + k);
    for (const f of PrivateLayout.list) if (f.name.startsWith('o_')) skip.add(base + f.off);
    // The port keeps two words of the parent (v6.2+ struct vfio_ccw_parent, which outlives every
    // mdev) in private: its registration and its drvdata (private->mdev here). Not freed with it.
    skip.add(p.v.parent_registered.id).add(p.v.mdev.id);
    spans.push({ lo: base, hi: base + PrivateLayout.words, p, ref, skip });
    spans.push({ lo: p.cp.v.initialized.id, hi: p.cp.v.initialized.id + ChannelProgram.words, p, ref, skip });
  }
  const told = new Set<string>();
  if (spans.length === 0) return { fn: null, told, active: false };
  const lo = Math.min(...spans.map((s) => s.lo));
  const hi = Math.max(...spans.map((s) => s.hi));
  const fn: HookFn = (kind, obj, site) => {
    // Most events are outside every private: two compares, then nothing.
    if (obj < lo || obj >= hi || kind === H.warn || kind === H.mark) return;
    for (const s of spans) {
      if (obj < s.lo || obj >= s.hi) continue;
      // A live private (the common case) costs one load.
      if (kref_read(s.ref) > 0) return;
      const gen = kref_gen(s.ref);
      if (gen === 0 || s.skip.has(obj) || HARNESS_SITES.has(site)) return;
      // KASAN without kasan_multi_shot reports the first bad access only: one per freed object.
      const key = `${s.p.dev}/${gen}`;
      if (told.has(key)) return;
      told.add(key);
      obj_use({ ref: s.ref, what: objName(obj) }, gen, site);
      return;
    }
  };
  return { fn, told, active: false };
}
