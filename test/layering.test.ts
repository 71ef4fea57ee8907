// The import graph of src/ has no circle (types included): dependencies run one way, e.g. the
// driver's header (driver/private.ts) below the registry, the registry below the driver builder.
import { describe, expect, it } from 'vitest';
import { cycles, import_graph, imports_of } from './helpers/imports.ts';

describe('import graph of src/', () => {
  it('has no cycle', () => {
    const found = cycles(import_graph('src')).map((c) => c.join(' -> '));
    expect(found).toEqual([]);
  });

  it('reads relative imports, `import type` included', () => {
    expect(imports_of('src/driver/cp.ts')).toContain('src/vfio/guest.ts');
    expect(imports_of('src/variants/types.ts')).toContain('src/driver/private.ts');
    expect(imports_of('src/driver/variant.ts')).toContain('src/driver/private.ts');
  });

  it('finds a circle when there is one', () => {
    const g = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a', 'd']],
      ['d', []],
      ['e', ['e']],
    ]);
    expect(cycles(g)).toEqual([['a', 'b', 'c', 'a'], ['e', 'e']]);
  });
});
