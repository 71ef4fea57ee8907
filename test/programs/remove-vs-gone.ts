// A two-user program for test/fuzz-lifecycle.test.ts: the device goes while an admin's mdev remove
// waits for QEMU's FD. The css worker's unregistration must not remove the mdev a second time.
//
//   user 0 (QEMU)                         user 1 (the admin)              css worker (cio_work_q)
//   fd_realize (an FD, its reference)
//                                         REMOVING = 1
//                                         mdev_remove: active = 0,
//                                           (v5.3+ unreg_sem for read)
//                                           put the registration, wait
//   sees refcount 1 (the remover waits)
//   hw gone -> NOT_OPER -> SCH_TODO_UNREG                                  css_sch_todo
//                                                                            vfio_ccw_sch_remove
//                                                                              vfio_ccw_mdev_unreg:
//                                                                              v5.3+ waits on unreg_sem;
//                                                                              ≤ v5.2 the mdev is taken:
//                                                                              goes on
//   checks: the FD's reference and the mdev are still there
//   CLOSING = 1; unplug (close)
//                                           ... woken by the last put
//                                         vfio_ccw_mdev_remove; REMOVED = 1
//                                                                            (v5.3+: the mdev is gone)
//   checks: the subchannel is unregistered
import { peek } from '../../src/kernel/index.ts';
import { WAITERS } from '../../src/kernel/lockword.ts';
import type { ScenarioEnv, UserArgs, UserResult } from '../../src/scenarios/env.ts';
import type { Scenario } from '../../src/scenarios/types.ts';
import type { ProgramCtx } from '../../src/runtime/context.ts';
import { mdev_remove, type VfioCoreView } from '../../src/vfio/mdev_core.ts';
import { fd_unplug, type UserFds } from '../../src/fuzz/fds.ts';
import { qemu_and_admin, until as until_tick } from './lifecycle-users.ts';

export const remove_vs_gone: Scenario = {
  id: 'T-REMOVE-GONE',
  slug: 'remove-vs-gone',
  title: 'mdev remove in progress when the device goes',
  module: import.meta.url,
  users: { min: 2, default: 2 },
  iterations: 1,
  hw: {},
};

const REMOVING = 0;
const CLOSING = 1;
const REMOVED = 2;
/** never set: its bounded waits pace the polls below */
const TICK = 3;
export const until = (env: ScenarioEnv, pred: () => boolean): boolean => until_tick(env, TICK, pred);


export function user(ctx: ProgramCtx, args: UserArgs): UserResult {
  return qemu_and_admin(ctx, args, 'gone', qemu, admin);
}

const sem_waited = (c: VfioCoreView): boolean => (Atomics.load(c.unreg_sem.a, c.unreg_sem.i) & WAITERS) !== 0;

function qemu(env: ScenarioEnv, st: UserFds): void {
  const core = st.core!;
  const registered = (): number => peek(env.p.sch.v.registered);
  env.wait_flag(REMOVING, (v) => v === 1, 30_000);
  env.check('gone.remover-waits', until(env, () => peek(core.refcount) === 1), `refcount ${peek(core.refcount)}: the remove never dropped its registration`);
  env.hw({ op: 'gone' });
  // the css worker's unregistration has come as far as it can while this FD is open: blocked on
  // unreg_sem (v5.3+), done without the mdev (≤ v5.2), or it dropped a reference it does not own
  const reached = until(env, () => sem_waited(core) || registered() === 0 || peek(core.refcount) !== 1);
  env.check('gone.css-ran', reached, `the css worker's unregistration did not run (registered ${registered()})`);
  env.check('gone.fd-kept', peek(core.refcount) === 1 && peek(env.p.v.mdev) === 1 && env.flag(REMOVED) === 0, `refcount ${peek(core.refcount)} (this FD's), private->mdev ${peek(env.p.v.mdev)}, REMOVED ${env.flag(REMOVED)} while this FD is open`);
  env.set_flag(CLOSING, 1);
  fd_unplug(env, st);
  env.check('gone.unregistered', until(env, () => registered() === 0), `the subchannel is still registered after the FD closed (refcount ${peek(core.refcount)}, private->mdev ${peek(env.p.v.mdev)})`);
}

function admin(env: ScenarioEnv, st: UserFds): void {
  env.set_flag(REMOVING, 1);
  const r = mdev_remove(env.p, st.core!);
  env.check('gone.remove-returned-after-close', r.rc === 0 && r.closed && env.flag(CLOSING) === 1, `rc ${r.rc}, closed ${r.closed}, CLOSING ${env.flag(CLOSING)} when the remove returned`);
  env.set_flag(REMOVED, 1);
}
