// Delta debugging (Zeller's ddmin) over a list: the smallest sublist it can find for which `fails`
// still holds, trying halves, then complements, at finer and finer grain. Bounded by the caller's
// predicate (it answers false once its budget is spent).

export async function ddmin<T>(items: readonly T[], fails: (xs: readonly T[]) => Promise<boolean>): Promise<T[]> {
  let cur = [...items];
  let n = 2;
  while (cur.length >= 2) {
    const size = Math.ceil(cur.length / n);
    const parts: T[][] = [];
    for (let i = 0; i < cur.length; i += size) parts.push(cur.slice(i, i + size));
    let next: T[] | null = null;
    for (const part of parts) {
      if (await fails(part)) {
        next = part;
        n = 2;
        break;
      }
    }
    if (next === null && parts.length > 2) {
      for (let k = 0; k < parts.length; k++) {
        const rest = parts.filter((_, j) => j !== k).flat();
        if (await fails(rest)) {
          next = rest;
          n = Math.max(n - 1, 2);
          break;
        }
      }
    }
    if (next !== null) cur = next;
    else if (n >= cur.length) break;
    else n = Math.min(2 * n, cur.length);
  }
  if (cur.length === 1 && (await fails([]))) cur = [];
  return cur;
}
