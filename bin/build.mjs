// Build step run at install (npm's postinstall) and by `npm run build`: every .ts file under src/
// and tools/ compiled one to one into dist/ with esbuild (types stripped, nothing bundled, so each
// module keeps its own import.meta.url), relative '.ts' specifiers and URLs renamed to '.js'.
// dist/STAMP, written last, names the sources it was built from (see dist.mjs).
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transform } from 'esbuild';
import { DIST, ROOT, TREES, source_hash } from './dist.mjs';

const root = fileURLToPath(ROOT);
const out = fileURLToPath(DIST).replace(/\/$/, '');
const tmp = `${out}.tmp-${process.pid}`;
const hash = source_hash();

// Relative string literals naming a .ts module: import specifiers and new URL('./x.ts', import.meta.url).
const REL_TS = /(["'`])(\.{1,2}\/[^"'`\n]*?)\.ts\1/g;

rmSync(tmp, { recursive: true, force: true });
let n = 0;
for (const tree of TREES) {
  for (const f of readdirSync(join(root, tree), { recursive: true }).map(String).sort()) {
    if (!f.endsWith('.ts')) continue;
    const src = readFileSync(join(root, tree, f), 'utf8');
    const r = await transform(src, { loader: 'ts', format: 'esm', target: 'node20', sourcefile: `${tree}/${f}`, tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true } } });
    const dest = join(tmp, tree, f.replace(/\.ts$/, '.js'));
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, r.code.replace(REL_TS, '$1$2.js$1'));
    n++;
  }
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
