// A two-user program for test/hang-cause.test.ts: one user throws while it holds io_mutex, and the
// other then waits on that mutex for ever. The hang report must carry the exception.
//
//   user 1                               user 0
//   mutex_lock(io_mutex); HELD = 1
//   throws (the lock stays held)
//                                        waits for HELD
//                                        mutex_lock(io_mutex) ... for ever
import { mutex_lock, mutex_unlock } from '../../src/kernel/index.ts';
import { run_user, type UserArgs, type UserResult } from '../../src/scenarios/env.ts';
import type { Scenario } from '../../src/scenarios/types.ts';
import type { ProgramCtx } from '../../src/runtime/context.ts';

export const throw_holding: Scenario = {
  id: 'T-THROW-HOLDING',
  slug: 'throw-holding',
  title: 'a user throws with io_mutex held',
  module: import.meta.url,
  users: { min: 2, default: 2 },
  iterations: 1,
  hw: {},
};

const HELD = 0;

/**
 * params.throws: 1 = user 1 throws with the lock held; 2 = it records a failed check and returns
 * with the lock held (the fuzzer's way with a call that threw); 0 = it unlocks and returns (the twin).
 */
export function user(ctx: ProgramCtx, args: UserArgs): UserResult {
  return run_user(ctx, args, (env) => {
    const io_mutex = env.p.v.io_mutex;
    if (env.user === 1) {
      mutex_lock(io_mutex, 'throw_holding');
      env.set_flag(HELD, 1);
      if (args.params['throws'] === 1) throw new TypeError('Cannot read properties of undefined (reading \'cpa\')');
      if (args.params['throws'] === 2) return void env.check('held.oops', false, 'a call threw with io_mutex held');
      mutex_unlock(io_mutex, 'throw_holding');
      return;
    }
    env.check('held', env.wait_flag(HELD, (v) => v === 1, 30_000), 'user 1 never took io_mutex');
    mutex_lock(io_mutex, 'throw_holding');
    mutex_unlock(io_mutex, 'throw_holding');
  });
}
