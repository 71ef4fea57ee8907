// Module resolve hook used when the tools run from dist/ and a user's own .ts file is loaded (tsx
// compiles it): the package's sources that file imports are sent to their built copies, so the
// process keeps one instance of each module (one hook table, one invariant registry).
let root = '';
let dist = '';

export function initialize(data) {
  root = data.root;
  dist = data.dist;
}

export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  // a query (entry.ts?file=…) stays on the built copy's URL
  const q = r.url.indexOf('?');
  const path = q < 0 ? r.url : r.url.slice(0, q);
  if (path.endsWith('.ts') && (path.startsWith(`${root}src/`) || path.startsWith(`${root}tools/`))) {
    return { url: dist + path.slice(root.length, -3) + '.js' + (q < 0 ? '' : r.url.slice(q)), format: 'module', shortCircuit: true };
  }
  return r;
}
