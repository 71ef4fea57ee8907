import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeHarness } from './contracts/free-harness.ts';
import { primitiveContracts } from './contracts/primitives.contract.ts';
import type { Harness } from './contracts/harness.ts';
import { TestArea } from './programs/area.ts';

let h: Awaited<ReturnType<typeof freeHarness>>;
beforeAll(async () => {
  h = await freeHarness();
});
afterAll(async () => {
  await h.close();
});

describe('kernel primitives, free mode', () => {
  primitiveContracts(() => h as Harness, { iters: 1_000_000 });

  it('without the mutex, 3 actors lose updates (the exclusion test can fail)', async () => {
    h.reset();
    // the window between read and write is held open by a handshake, not left to the host's luck
    await h.run([2, 3, 4].map((actor) => ({ actor, fn: 'lostUpdate', args: { n: 3 } })));
    expect(new Int32Array(h.area.sab)[TestArea.fields.counter.off]).toBe(1);
  });
});
