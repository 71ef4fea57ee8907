// The prologue scenarios with more than one user share: the machine is running, user 0 realizes
// the device as QEMU does, and then every user meets at the barrier, so no user touches the
// device before it is there.
import type { RealizeResult } from '../../client/client.ts';
import type { ProgramCtx } from '../../runtime/context.ts';
import { run_user, type ScenarioEnv, type UserArgs, type UserResult } from '../env.ts';

/**
 * User 0 realizes the device (with the `<check_id>.realize` check; none when check_id is null),
 * then all users meet. User 0 gets its realize answer, the others null.
 */
export function realize_and_meet(env: ScenarioEnv, check_id: string | null): RealizeResult | null {
  env.wait_hw_running();
  let r: RealizeResult | null = null;
  if (env.user === 0) r = check_id === null ? env.client.realize() : env.realize(check_id);
  env.barrier();
  return r;
}

export interface TwoRoles {
  /** user 0, QEMU, once the device is realized and user 1 has met it */
  guest: (env: ScenarioEnv) => void;
  /** flags user 0 sets to 1 when realize failed, so that user 1 does not wait for them */
  release?: readonly number[];
  /** then what else user 0 does when realize failed (meet user 1 where it waits) */
  failed?: (env: ScenarioEnv) => void;
  /** user 1, the other side (the host's vfio core, the machine's operator, a second client) */
  other: (env: ScenarioEnv) => void;
}

/** A two-user scenario: QEMU as user 0, the other side as user 1; further users do nothing. */
export function two_users(ctx: ProgramCtx, args: UserArgs, id: string, roles: TwoRoles): UserResult {
  return run_user(ctx, args, (env) => {
    if (env.user > 1) {
      env.wait_hw_running();
      return;
    }
    const r = realize_and_meet(env, id);
    // user 0's realize failed under an injected failure (its note says so): nothing to drive
    if (env.fault_stopped()) {
      if (env.user === 1) env.note(`${id}: user 0 could not realize the device under an injected failure; user 1 stops`);
      return;
    }
    if (env.user === 1) roles.other(env);
    else if (r?.ok === true) roles.guest(env);
    else {
      for (const f of roles.release ?? []) env.set_flag(f, 1);
      roles.failed?.(env);
    }
  });
}
