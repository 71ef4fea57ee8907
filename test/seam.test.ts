// The seam is closed: driver code (src/driver, src/cio, src/vfio, the variant files and the
// example patches) reaches shared memory only through src/kernel's accessors, which call the
// hook, so the race detector and the scheduler see every access. A raw Atomics call, a view's
// buffer or word index, or a view built by hand would be an access they cannot see.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, ts_files } from './helpers/imports.ts';

const DRIVER_DIRS = ['src/driver', 'src/cio', 'src/vfio', 'src/variants', 'examples'];

const RULES: readonly { what: string; re: RegExp }[] = [
  { what: 'a raw Atomics call', re: /\bAtomics\s*\./ },
  { what: "a view's buffer or word index (.a, .i, .i32, .u8, .sab)", re: /\.(?:a|i|i32|u8|sab)\b(?!\s*\()/ },
  { what: 'a kernel object built by hand', re: /\bnew\s+(?:Field|KObj|AtomicT|Words|Kref|Completion|Mutex|Spinlock|WorkStruct|Bytes)\s*\(/ },
  { what: 'a typed array over shared memory', re: /\bnew\s+(?:Int32Array|SharedArrayBuffer)\s*\(/ },
];

/** The code of a file with its comments blanked (strings kept: they are never shared memory). */
function code_of(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' ')).replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

/** Every line of `text` that touches shared memory outside the seam, as "line: what". */
export function leaks(text: string): string[] {
  const out: string[] = [];
  code_of(text)
    .split('\n')
    .forEach((line, n) => {
      for (const r of RULES) if (r.re.test(line)) out.push(`${n + 1}: ${r.what}: ${line.trim()}`);
    });
  return out;
}

describe('the seam', () => {
  it('no driver file touches shared memory outside src/kernel', () => {
    const found: string[] = [];
    for (const dir of DRIVER_DIRS) for (const f of ts_files(dir)) for (const l of leaks(readFileSync(join(ROOT, f), 'utf8'))) found.push(`${f}:${l}`);
    expect(found).toEqual([]);
  });

  it('catches each kind of leak, and not the same words in a comment', () => {
    expect(leaks('const v = Atomics.load(p.v.state.a, p.v.state.i);')).toHaveLength(2);
    expect(leaks('const f = new Field(p.v.log.a, 3, 4);')).toHaveLength(2);
    expect(leaks('const w = new Int32Array(sab);')).toHaveLength(1);
    expect(leaks('p.v.crw_next.i32[3] = 1;')).toHaveLength(1);
    expect(leaks('// Atomics.load would be invisible\n/* new Field(x) */\nconst n = p.v.state.get(F);')).toEqual([]);
  });

  it('detectors key on call sites through the constants the driver passes (src/driver/sites.ts)', () => {
    // a string literal compared with a site would stop matching the day the driver renames it
    const literal = /\bsite\s*[!=]==?\s*['"`]|['"`]\s*[!=]==?\s*site\b/;
    const found: string[] = [];
    for (const f of ts_files('src/detect')) {
      code_of(readFileSync(join(ROOT, f), 'utf8'))
        .split('\n')
        .forEach((line, n) => {
          if (literal.test(line)) found.push(`${f}:${n + 1}: ${line.trim()}`);
        });
    }
    expect(found).toEqual([]);
    expect(literal.test("if (site === 'vfio_ccw_sch_io_todo') x();")).toBe(true);
  });
});
