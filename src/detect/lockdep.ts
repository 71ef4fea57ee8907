// lockdep: lock classes, a lock-order graph kept in shared memory (so it spans every worker and
// every run of a campaign), IRQ-safe/unsafe usage, and waits as pseudo-locks: a workqueue flush
// depends on what its work items take; a completion wait depends on what its completer holds.
import { H, type HookFn, register_hook } from '../kernel/hook.ts';
import { objBuf, objClass } from '../kernel/layout.ts';
import { WQ_TAG_CIO } from '../kernel/global.ts';

const EDGE_CAP = 4096; // open addressing, power of two
const CLASS_CAP = 1024;
const E_WORDS = 6; // from, to, count, site hash, actor, buffer index + 1 of the held lock that made it first
const C_WORDS = 4; // class hash, usage bits, irq site hash, unsafe site hash
export const USED_IN_HARDIRQ = 1;
export const HARDIRQ_ON = 2;

export interface LockdepBuf {
  sab: SharedArrayBuffer;
}

export function alloc_lockdep(): LockdepBuf {
  return { sab: new SharedArrayBuffer((EDGE_CAP * E_WORDS + CLASS_CAP * C_WORDS + 8) * 4) };
}

const hash = (s: string): number => {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h | 1; // never 0: 0 marks an empty slot
};

/** Classes of waits that are not objects of a layout. */
export const WQ_CLASS = '(wq_completion)vfio-ccw';
/** the css layer's cio_work_q (its hooks carry WQ_TAG_CIO) */
export const CIO_WQ_CLASS = '(wq_completion)cio';
export const completionClass = (id: number): string => `completion:${objClass(id)}`;

interface Held {
  cls: number;
  name: string;
  site: string;
  /** the instance's buffer (which device it belongs to) */
  buf: number;
}

/** The consumer for this thread. Findings are computed from the shared graph by `lockdep_report`. */
export function start_lockdep(buf: LockdepBuf): () => void {
  const a = new Int32Array(buf.sab);
  const CB = EDGE_CAP * E_WORDS;
  const held = new Map<number, Held[]>(); // per actor
  const inIrq = new Map<number, boolean>();
  const classHash = new Map<number, [number, string]>();
  const cls = (id: number): [number, string] => {
    let c = classHash.get(id);
    if (c === undefined) {
      const n = objClass(id);
      c = [hash(n), n];
      classHash.set(id, c);
    }
    return c;
  };
  const stack = (actor: number): Held[] => {
    let s = held.get(actor);
    if (s === undefined) held.set(actor, (s = []));
    return s;
  };
  const edge = (from: number, to: number, site: string, actor: number, buf: number): void => {
    if (from === to) return;
    let i = (Math.imul(from, 31) ^ to) & (EDGE_CAP - 1);
    for (let n = 0; n < EDGE_CAP; n++, i = (i + 1) & (EDGE_CAP - 1)) {
      const b = i * E_WORDS;
      const f = Atomics.load(a, b);
      if (f === 0) {
        if (Atomics.compareExchange(a, b, 0, from) !== 0) {
          n--;
          continue;
        }
        Atomics.store(a, b + 1, to);
        Atomics.store(a, b + 3, hash(site));
        Atomics.store(a, b + 4, actor);
        Atomics.store(a, b + 5, buf + 1);
      } else if (f !== from || Atomics.load(a, b + 1) !== to) {
        // A slot being filled has `to` 0 for a moment; treat as a different edge.
        continue;
      }
      Atomics.add(a, b + 2, 1);
      return;
    }
  };
  const usage = (c: number, bit: number, site: string): void => {
    let i = c & (CLASS_CAP - 1);
    for (let n = 0; n < CLASS_CAP; n++, i = (i + 1) & (CLASS_CAP - 1)) {
      const b = CB + i * C_WORDS;
      const v = Atomics.load(a, b);
      if (v === 0 && Atomics.compareExchange(a, b, 0, c) !== 0) {
        n--;
        continue;
      }
      if (Atomics.load(a, b) !== c) continue;
      if ((Atomics.or(a, b + 1, bit) & bit) === 0) Atomics.store(a, b + (bit === USED_IN_HARDIRQ ? 2 : 3), hash(site));
      return;
    }
  };
  const names = new Map<number, string>();
  const completed = new Map<number, Set<number>>(); // per actor: completions it completed and has not waited for since
  const self_completed = (actor: number): Set<number> => {
    let c = completed.get(actor);
    if (c === undefined) completed.set(actor, (c = new Set()));
    return c;
  };
  // A complete()'s edges (completion -> each lock held) wait for the actor's next event: if that
  // event is its own wait on the same completion (vfio_unregister_group_dev after its own last
  // put), the completion woke no other waiter, so it orders nothing and the edges are dropped.
  const deferred = new Map<number, { obj: number; c: number; held: Held[]; site: string }>();
  const settle_complete = (actor: number, kind: number, obj: number): void => {
    const d = deferred.get(actor);
    if (d === undefined) return;
    deferred.delete(actor);
    if (kind === H.wait && obj === d.obj) return;
    for (const h of d.held) edge(d.c, h.cls, d.site, actor, h.buf);
  };
  const acquire = (actor: number, c: [number, string], site: string, irqsOff: boolean, buf: number): void => {
    const s = stack(actor);
    for (const h of s) edge(h.cls, c[0], site, actor, h.buf);
    names.set(c[0], c[1]);
    if (inIrq.get(actor) === true) usage(c[0], USED_IN_HARDIRQ, site);
    else if (!irqsOff) usage(c[0], HARDIRQ_ON, site);
    s.push({ cls: c[0], name: c[1], site, buf });
  };
  const wqc: [number, string] = [hash(WQ_CLASS), WQ_CLASS];
  const cioc: [number, string] = [hash(CIO_WQ_CLASS), CIO_WQ_CLASS];
  const wq_of = (tag: number): [number, string] => (tag === WQ_TAG_CIO ? cioc : wqc);

  const fn: HookFn = (kind, obj, site, actor, arg) => {
    settle_complete(actor, kind, obj);
    switch (kind) {
      case H.acquired:
        // arg: 1 = interrupts were off (spinlocks); mutexes are always taken with them on.
        acquire(actor, cls(obj), site, arg === 1, objBuf(obj));
        break;
      case H.release: {
        const s = stack(actor);
        const c = cls(obj)[0];
        for (let i = s.length - 1; i >= 0; i--) {
          if (s[i]!.cls === c) {
            s.splice(i, 1);
            break;
          }
        }
        break;
      }
      case H.irq_enter:
        inIrq.set(actor, true);
        break;
      case H.irq_exit:
        inIrq.set(actor, false);
        break;
      case H.run: {
        // a work item runs "inside" its workqueue's pseudo-lock
        const q = wq_of(arg);
        stack(actor).push({ cls: q[0], name: q[1], site, buf: objBuf(obj) });
        break;
      }
      case H.run_end: {
        const s = stack(actor);
        const q = wq_of(arg)[0];
        const i = s.findIndex((h) => h.cls === q);
        if (i >= 0) s.splice(i, 1);
        break;
      }
      case H.flush: {
        // flushing waits for every work: it "takes" the workqueue
        const q = wq_of(arg)[0];
        for (const h of stack(actor)) edge(h.cls, q, site, actor, h.buf);
        break;
      }
      case H.wait: {
        const c = hash(completionClass(obj));
        names.set(c, completionClass(obj));
        // A wait for a completion this actor completed itself since its last wait on it (v6.1's
        // mdev remove: vfio_put_device runs .release, which completes release_comp, and then waits
        // for it) cannot wait for another actor's complete: it is no dependency.
        if (self_completed(actor).delete(obj)) break;
        for (const h of stack(actor)) edge(h.cls, c, site, actor, h.buf);
        break;
      }
      case H.complete: {
        const c = hash(completionClass(obj));
        self_completed(actor).add(obj);
        deferred.set(actor, { obj, c, held: [...stack(actor)], site });
        break;
      }
    }
  };
  return register_hook(fn);
}

export interface LockdepFinding {
  id: 'ABBA' | 'irq-inversion' | 'flush-under-lock' | 'completion-cycle';
  message: string;
  cycle: string[];
}

/**
 * Build findings from the shared graph; `names` maps class hashes to names (from every known
 * class). With `device_of` (a run of many devices), a cycle also names the devices whose locks
 * made its edges: the graph is over classes, shared by every device, as the kernel's is.
 */
export function lockdep_report(buf: LockdepBuf, classNames: string[], device_of?: (buf: number) => string | null): LockdepFinding[] {
  const a = new Int32Array(buf.sab);
  const byHash = new Map<number, string>();
  for (const n of [...classNames, WQ_CLASS, CIO_WQ_CLASS]) byHash.set(hash(n), n);
  const nm = (h: number): string => byHash.get(h) ?? `class#${(h >>> 0).toString(16)}`;
  const adj = new Map<number, Set<number>>();
  const edgeBuf = new Map<string, number>();
  for (let i = 0; i < EDGE_CAP; i++) {
    const b = i * E_WORDS;
    const f = a[b]!;
    const t = a[b + 1]!;
    if (f === 0 || t === 0) continue;
    edgeBuf.set(`${f},${t}`, a[b + 5]! - 1);
    let s = adj.get(f);
    if (s === undefined) adj.set(f, (s = new Set()));
    s.add(t);
  }
  const on_devices = (cyc: number[]): string => {
    if (device_of === undefined) return '';
    const devs = new Set<string>();
    cyc.forEach((u, k) => {
      const d = device_of(edgeBuf.get(`${u},${cyc[(k + 1) % cyc.length]}`) ?? -1);
      if (d !== null) devs.add(d);
    });
    return devs.size === 0 ? '' : ` (edges made on ${[...devs].join(', ')})`;
  };
  const out: LockdepFinding[] = [];
  // Cycles: DFS from every node; report each cycle once (by its sorted member set).
  const seen = new Set<string>();
  const path: number[] = [];
  const onPath = new Set<number>();
  const dfs = (u: number): void => {
    path.push(u);
    onPath.add(u);
    for (const v of adj.get(u) ?? []) {
      if (onPath.has(v)) {
        const cyc = path.slice(path.indexOf(v));
        const key = [...cyc].sort().join(',');
        if (!seen.has(key)) {
          seen.add(key);
          const names = cyc.map(nm);
          const id = names.includes(WQ_CLASS) || names.includes(CIO_WQ_CLASS) ? 'flush-under-lock' : names.some((x) => x.startsWith('completion:')) ? 'completion-cycle' : 'ABBA';
          out.push({ id, message: `possible circular locking dependency: ${[...names, names[0]].join(' -> ')}${on_devices(cyc)}`, cycle: names });
        }
      } else if (path.length < 8) dfs(v);
    }
    path.pop();
    onPath.delete(u);
  };
  for (const u of adj.keys()) dfs(u);
  // IRQ safety: a class used in hard-IRQ context and also taken with interrupts on.
  const CB = EDGE_CAP * E_WORDS;
  for (let i = 0; i < CLASS_CAP; i++) {
    const b = CB + i * C_WORDS;
    const c = a[b]!;
    if (c !== 0 && (a[b + 1]! & (USED_IN_HARDIRQ | HARDIRQ_ON)) === (USED_IN_HARDIRQ | HARDIRQ_ON)) {
      out.push({ id: 'irq-inversion', message: `inconsistent lock state: ${nm(c)} {IN-HARDIRQ-W} -> {HARDIRQ-ON-W} usage`, cycle: [nm(c)] });
    }
  }
  return out;
}
