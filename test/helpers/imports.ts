// The import graph of src/ as the compiler reads it: every relative import, `import type`,
// re-export and literal dynamic import of each .ts file. Test-only: the layering tests walk it.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';

export const ROOT = new URL('../..', import.meta.url).pathname;

/** Every .ts file under `dir` (relative to the package root), sorted. */
export function ts_files(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(join(ROOT, d), { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith('.ts')) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

/** The files `file` imports, relative to the package root; bare (package) imports are left out. */
export function imports_of(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(join(ROOT, file), 'utf8'), true, true);
  const out: string[] = [];
  for (const { fileName } of info.importedFiles) {
    if (!fileName.startsWith('.')) continue;
    const p = relative(ROOT, join(ROOT, dirname(file), fileName));
    const hit = [p, p.replace(/\.js$/, '.ts'), `${p}.ts`, join(p, 'index.ts')].find((c) => c.endsWith('.ts') && existsSync(join(ROOT, c)));
    out.push(hit ?? p);
  }
  return out;
}

export type Graph = ReadonlyMap<string, readonly string[]>;

export function import_graph(dir: string): Graph {
  return new Map(ts_files(dir).map((f) => [f, imports_of(f)]));
}

/**
 * The cycles of `g`, one per strongly connected component (Tarjan), each written as the path
 * a -> b -> ... -> a through that component. Empty when the graph is layered.
 */
export function cycles(g: Graph): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    on.add(v);
    for (const w of g.get(v) ?? []) {
      if (!g.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const scc = new Set<string>();
    let w: string;
    do {
      w = stack.pop()!;
      on.delete(w);
      scc.add(w);
    } while (w !== v);
    if (scc.size > 1 || (g.get(v) ?? []).includes(v)) out.push(path_within(g, scc, v));
  };
  for (const v of g.keys()) if (!index.has(v)) visit(v);
  return out;
}

/** A shortest path from `start` back to itself inside one component. */
function path_within(g: Graph, scc: ReadonlySet<string>, start: string): string[] {
  const prev = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of g.get(v) ?? []) {
      if (!scc.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let x = v; x !== start; x = prev.get(x)!) path.splice(1, 0, x);
        return [...path, start];
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}
