// The primitives' contract suites again, under the controlled scheduler (several seeds).
import { afterAll, beforeAll, describe } from 'vitest';
import { controlledHarness } from './contracts/controlled-harness.ts';
import { primitiveContracts } from './contracts/primitives.contract.ts';
import type { Harness } from './contracts/harness.ts';

for (const seed of [1, 2]) {
  describe(`kernel primitives, controlled mode, seed ${seed}`, () => {
    let h: Awaited<ReturnType<typeof controlledHarness>>;
    beforeAll(async () => {
      h = await controlledHarness(seed * 1000);
    });
    afterAll(async () => {
      await h.close();
    });
    primitiveContracts(() => h as Harness, { iters: 300 });
  });
}
