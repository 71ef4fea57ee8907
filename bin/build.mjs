// Build step run at install (npm's postinstall) and by `npm run build`: every .ts file under src/
// and tools/ compiled one to one into dist/ with esbuild (types stripped, nothing bundled, so each
// module keeps its own import.meta.url), relative '.ts' specifiers and URLs renamed to '.js'.
// dist/STAMP, written last, names the sources it was built from (see dist.mjs).
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, transform } from 'esbuild';
import { DIST, ROOT, TREES, source_hash } from './dist.mjs';

const root = fileURLToPath(ROOT);
const out = fileURLToPath(DIST).replace(/\/$/, '');
const tmp = `${out}.tmp-${process.pid}`;
const hash = source_hash();

// Relative string literals naming a .ts module: import specifiers and new URL('./x.ts', import.meta.url).
const REL_TS = /(["'`])(\.{1,2}\/[^"'`\n]*?)\.ts\1/g;

// Bare imports of third-party packages: each bundled once into vendor/ (one file instead of the
// tens of small CommonJS files some load, paid again by every worker thread). Not piscina (it
// starts its own worker by file name) nor tsx (the fallback's compiler).
const BARE = /(import\s*(?:([\w$]+)|\*\s*as\s+([\w$]+)|\{([^}]*)\})\s*from\s*)"([^".][^"]*)"/g;
const KEEP = (spec) => spec.startsWith('node:') || spec === 'piscina' || spec.startsWith('tsx');
// CommonJS code in an ES module bundle still calls require() for Node's built-ins.
const REQUIRE = "import { createRequire as __vfio_ccw_sim_require } from 'node:module'; const require = __vfio_ccw_sim_require(import.meta.url);";
/** specifier -> names imported from it ('default' for a default import) */
const vendor = new Map();
const vendorFile = (spec) => `vendor/${spec.replace(/[^\w.-]+/g, '_')}.mjs`;

function collect(code) {
  for (const m of code.matchAll(BARE)) {
    const [, , def, ns, named, spec] = m;
    if (KEEP(spec)) continue;
    const names = vendor.get(spec) ?? new Set();
    vendor.set(spec, names);
    if (def !== undefined) names.add('default');
    if (named !== undefined) for (const part of named.split(',')) if (part.trim()) names.add(part.trim().split(/\s+as\s+/)[0]);
    if (ns !== undefined) for (const u of code.matchAll(new RegExp(`\\b${ns.replace('$', '\\$')}\\.([\\w$]+)`, 'g'))) names.add(u[1]);
  }
}

rmSync(tmp, { recursive: true, force: true });
let n = 0;
const outputs = [];
for (const tree of TREES) {
  for (const f of readdirSync(join(root, tree), { recursive: true }).map(String).sort()) {
    if (!f.endsWith('.ts')) continue;
    const src = readFileSync(join(root, tree, f), 'utf8');
    const r = await transform(src, { loader: 'ts', format: 'esm', target: 'node20', sourcefile: `${tree}/${f}`, tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true } } });
    const code = r.code.replace(REL_TS, '$1$2.js$1');
    collect(code);
    outputs.push([join(tree, f.replace(/\.ts$/, '.js')), code]);
    n++;
  }
}
// Loaded on first call, where every name imported is a function: hdr-histogram-js (a 300 KB
// module with a wasm image) is used only by lock statistics, and every worker thread imports it.
const LAZY = new Set(['hdr-histogram-js']);
const requireHere = createRequire(join(root, 'package.json'));

for (const [spec, names] of vendor) {
  const stub = join(root, `.vendor-stub-${process.pid}.mjs`);
  const out = join(tmp, vendorFile(spec));
  const lazy = LAZY.has(spec) && !names.has('default') && [...names].every((k) => typeof requireHere(spec)[k] === 'function');
  try {
    if (lazy) {
      // the package as one CommonJS file, required by a stub of functions on their first call
      writeFileSync(stub, `module.exports = require('${spec}');\n`);
      await build({ entryPoints: [stub], bundle: true, format: 'cjs', platform: 'node', target: 'node20', outfile: out.replace(/\.mjs$/, '.cjs'), logLevel: 'error' });
      const base = out.replace(/\.mjs$/, '.cjs').split('/').pop();
      const fns = [...names].map((k) => `export function ${k}(...a) {\n  return load().${k}(...a);\n}`).join('\n');
      writeFileSync(out, `import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\nlet m = null;\nconst load = () => (m ??= require('./${base}'));\n${fns}\n`);
    } else {
      writeFileSync(stub, `export { ${[...names].join(', ')} } from '${spec}';\n`);
      await build({ entryPoints: [stub], bundle: true, format: 'esm', platform: 'node', target: 'node20', outfile: out, logLevel: 'error', banner: { js: REQUIRE } });
    }
  } finally {
    rmSync(stub, { force: true });
  }
}
for (const [rel, code] of outputs) {
  const dest = join(tmp, rel);
  const up = '../'.repeat(rel.split('/').length - 1);
  mkdirSync(dirname(dest), { recursive: true });
  writeFileSync(dest, code.replace(BARE, (all, head, _d, _n, _s, spec) => (KEEP(spec) ? all : `${head}"${up}${vendorFile(spec)}"`)));
}
// The worker entries of the built tree go straight to compiled code (its stamp was checked by
// the thread that started them); the ones in workers/ are for the sources.
mkdirSync(join(tmp, 'workers'), { recursive: true });
writeFileSync(join(tmp, 'workers/actor.mjs'), "import '../src/runtime/actor-worker.js';\n");
writeFileSync(join(tmp, 'workers/search.mjs'), "export { search_job as default } from '../src/sched/job.js';\n");
writeFileSync(join(tmp, 'STAMP'), hash + '\n');
// Replace the old build in one step, so a concurrent reader sees either build, never a mix.
rmSync(`${out}.old-${process.pid}`, { recursive: true, force: true });
try {
  renameSync(out, `${out}.old-${process.pid}`);
} catch {
  // no previous build
}
renameSync(tmp, out);
rmSync(`${out}.old-${process.pid}`, { recursive: true, force: true });
if (process.argv.includes('--quiet') === false) process.stdout.write(`vfio-ccw-sim: built ${n} modules into dist/ (${hash.slice(0, 12)})\n`);
