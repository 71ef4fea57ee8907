// The shape of the two-user lifecycle programs (remove-order.ts, device-back.ts): user 0 realizes
// the device as QEMU does, through the vfio core's references; then QEMU and the host's admin run.
import { run_user, type ScenarioEnv, type UserArgs, type UserResult } from '../../src/scenarios/env.ts';
import type { ProgramCtx } from '../../src/runtime/context.ts';
import { vfio_core_of } from '../../src/system/device.ts';
import { fd_realize, type UserFds } from '../../src/fuzz/fds.ts';

export type Role = (env: ScenarioEnv, st: UserFds) => void;

/** `prefix`.realized is user 0's check of its realize. */
export function qemu_and_admin(ctx: ProgramCtx, args: UserArgs, prefix: string, qemu: Role, admin: Role): UserResult {
  return run_user(ctx, args, (env) => {
    const st: UserFds = { fds: 0, realized: false, core: vfio_core_of(env.p), req_slot: null, ctx: [] };
    env.wait_hw_running();
    if (env.user === 0) {
      const err = fd_realize(env, st);
      env.check(`${prefix}.realized`, err === null, err ?? 'realized');
    }
    env.barrier();
    if (env.user === 0) qemu(env, st);
    else admin(env, st);
  });
}

/**
 * Poll `pred`, 1 ms apart, at most 20 000 times: flag `tick` is never set, and its bounded waits
 * pace the polls (a schedule point under a controlled strategy, a real 1 ms wait in free mode).
 */
export function until(env: ScenarioEnv, tick: number, pred: () => boolean): boolean {
  for (let i = 0; i < 20_000 && !pred(); i++) env.wait_flag(tick, (v) => v !== 0, 1);
  return pred();
}
