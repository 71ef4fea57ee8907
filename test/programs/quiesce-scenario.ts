// A scenario for the I11 test: reset with a started I/O in flight on a device that ignores every halt
// and clear, so the close's quiesce must give up (or, in v4.12 … v5.1, never does).
import { dasd_read } from '../../src/client/guest.ts';
import { run_user, type UserArgs, type UserResult } from '../../src/scenarios/env.ts';
import type { Scenario } from '../../src/scenarios/types.ts';
import type { ProgramCtx } from '../../src/runtime/context.ts';

export const scenario: Scenario = {
  id: 'T-quiesce-ignored',
  slug: 'quiesce-ignored',
  title: 'Close with I/O in flight; the device ignores halt and clear',
  module: import.meta.url,
  users: { min: 1, default: 1 },
  iterations: 1,
  hw: { hung: true, halt: 'ignore', clear: 'ignore' },
};

export function user(ctx: ProgramCtx, args: UserArgs): UserResult {
  return run_user(ctx, args, (env) => {
    env.wait_hw_running();
    if (!env.client.realize().ok) return;
    const cc = env.client.ssch(env.program(dasd_read({ blocks: 2 })).orb);
    env.count('ssch-cc', typeof cc === 'number' ? cc : -1);
    // The start begins (an intermediate interrupt), so a cancel cannot end it: halts and clears must.
    env.hw({ op: 'complete', kind: 'pci' });
    if (env.client.wait_io(10_000) !== null) env.client.tsch();
    // DEVICE_RESET quiesces in every version (B's release does not).
    env.count('reset-rc', env.client.reset());
    env.client.unrealize();
  });
}
