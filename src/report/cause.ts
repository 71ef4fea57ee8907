// Findings that share a root cause, linked under one `cause`: races on the same field with the
// same writer, an invariant that names that field and writer, and an invariant whose window
// holds both accesses of a race. The cause is named by its head's signature: the race if there
// is one (it names both sides), else the first finding of the group.
import type { Finding } from './report.ts';
import { signature_of } from './signature.ts';

const writers = (f: Finding): string[] => (f.race === undefined ? [] : [f.race.first, f.race.second].filter((a) => a.op === 'write').map((a) => a.function));

/** The window touches `field` in `fn` (a row of that function whose event names the field). */
function touches(f: Finding, field: string, fn: string): boolean {
  const re = new RegExp(`(^|\\s)${field.replace(/[-[\]{}()*+?.,\\^$|#]/g, '\\$&')}(\\+\\d+)?($|\\s)`);
  return (f.steps ?? []).some((s) => s.function === fn && re.test(s.what));
}

function same_cause(a: Finding, b: Finding): boolean {
  if (a.race !== undefined && b.race !== undefined) return a.race.field === b.race.field && writers(a).some((w) => writers(b).includes(w));
  const [r, o] = a.race !== undefined ? [a, b] : b.race !== undefined ? [b, a] : [undefined, undefined];
  if (r?.race === undefined || o === undefined) return false;
  const { field, first, second } = r.race;
  if (writers(r).some((w) => o.message.includes(field) && new RegExp(`\\b${w}\\b`).test(o.message))) return true;
  return touches(o, field, first.function) && touches(o, field, second.function);
}

const head_rank = (f: Finding): number => (f.race !== undefined ? 0 : f.steps !== undefined && f.steps.length > 0 ? 1 : 2);

/** Set `cause` on every finding (its own signature when it stands alone). */
export function link_causes(fs: readonly Finding[]): Finding[] {
  const parent = fs.map((_, k) => k);
  const root = (k: number): number => {
    while (parent[k] !== k) k = parent[k] = parent[parent[k]!]!;
    return k;
  };
  for (let i = 0; i < fs.length; i++)
    for (let j = i + 1; j < fs.length; j++) if (root(i) !== root(j) && same_cause(fs[i]!, fs[j]!)) parent[root(j)] = root(i);
  const head = new Map<number, number>();
  fs.forEach((f, k) => {
    const r = root(k);
    const h = head.get(r);
    if (h === undefined || head_rank(f) < head_rank(fs[h]!)) head.set(r, k);
  });
  return fs.map((f, k) => {
    const h = fs[head.get(root(k))!]!;
    return { ...f, cause: h.signature ?? signature_of(h) };
  });
}

/** Findings grouped by cause, in the order the causes first appear; the head first in each. */
export function by_cause(fs: readonly Finding[]): Finding[][] {
  const groups = new Map<string, Finding[]>();
  for (const f of fs) {
    const c = f.cause ?? f.signature ?? signature_of(f);
    const g = groups.get(c);
    if (g === undefined) groups.set(c, [f]);
    else g.push(f);
  }
  return [...groups.entries()].map(([c, g]) => {
    const k = g.findIndex((f) => (f.signature ?? signature_of(f)) === c);
    return k > 0 ? [g[k]!, ...g.filter((_, j) => j !== k)] : g;
  });
}
