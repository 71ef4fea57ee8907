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
  if (r.url.endsWith('.ts') && (r.url.startsWith(`${root}src/`) || r.url.startsWith(`${root}tools/`))) {
    return { url: dist + r.url.slice(root.length, -3) + '.js', format: 'module', shortCircuit: true };
  }
  return r;
}
