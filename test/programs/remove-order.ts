// A two-user program for test/fuzz-lifecycle.test.ts: mdev remove must wait for the FD QEMU holds.
//
//   user 0 (QEMU)                          user 1 (the admin)
//   fd_realize (an FD, its reference)
//                                          REMOVING = 1
//                                          mdev_remove -> vfio_unregister_group_dev:
//                                            put the registration, request (REQ), wait
//   sees the REQ (irqs >= 3) or the
//   registration gone (refcount 1), and
//   REMOVED still 0 a while after
//   checks: the driver's remove has not
//   run (private->mdev still set); a new
//   FD: -ENODEV once the device left its
//   group before the wait (v6.5+), else 0
//   CLOSING = 1; unplug (close)
//                                            ... woken by the last put
//                                          vfio_ccw_mdev_remove; REMOVED = 1
//                                          checks: CLOSING was set before the remove returned
import { peek } from '../../src/kernel/index.ts';
import type { ScenarioEnv, UserArgs, UserResult } from '../../src/scenarios/env.ts';
import type { Scenario } from '../../src/scenarios/types.ts';
import type { ProgramCtx } from '../../src/runtime/context.ts';
import { mdev_remove } from '../../src/vfio/mdev_core.ts';
import { fd_open, fd_unplug, type UserFds } from '../../src/fuzz/fds.ts';
import { ENODEV } from '../../src/uapi/errno.ts';
import { qemu_and_admin, until } from './lifecycle-users.ts';

export const remove_order: Scenario = {
  id: 'T-REMOVE-ORDER',
  slug: 'remove-order',
  title: 'mdev remove waits for the FD QEMU holds',
  module: import.meta.url,
  users: { min: 2, default: 2 },
  iterations: 1,
  hw: {},
};

const REMOVING = 0;
const CLOSING = 1;
const REMOVED = 2;
/** never set: paces the poll below */
const TICK = 3;

export function user(ctx: ProgramCtx, args: UserArgs): UserResult {
  return qemu_and_admin(ctx, args, 'order', qemu, admin);
}

function qemu(env: ScenarioEnv, st: UserFds): void {
  env.wait_flag(REMOVING, (v) => v === 1, 30_000);
  const core = st.core!;
  let asked: boolean;
  if (env.f.irqs >= 3) asked = env.client.wait_req(30_000);
  else {
    // no .request before v5.11: the remover only drops its reference and waits
    // (polled on a bounded clock, not a count: a loaded free run may take the remover a while)
    asked = until(env, TICK, () => peek(core.refcount) === 1);
    // and give it the chance to return early: a remove that does not wait sets REMOVED now (a
    // controlled schedule runs it while this user waits; free mode gives it a second)
    if (env.wait_flag(REMOVED, (v) => v === 1, 1000)) asked = false;
  }
  env.check('order.remover-waits', asked, env.f.irqs >= 3 ? 'no REQ signal from the remove' : 'the remove never dropped its registration');
  env.check('order.not-removed-while-open', peek(env.p.v.mdev) === 1 && env.flag(REMOVED) === 0, `private->mdev ${peek(env.p.v.mdev)}, REMOVED ${env.flag(REMOVED)} while this FD is open`);
  const again = fd_open(env, st);
  const want = env.f.vfio_unhooks_before_wait ? -ENODEV : 0;
  env.check('order.open-while-removing', again === want, `VFIO_GROUP_GET_DEVICE_FD while the remove waits: ${again}, want ${want}`);
  env.set_flag(CLOSING, 1);
  fd_unplug(env, st);
  const done = env.wait_flag(REMOVED, (v) => v === 1, 60_000);
  env.check('order.removed-after-close', done && peek(env.p.v.mdev) === 0, `REMOVED ${env.flag(REMOVED)}, private->mdev ${peek(env.p.v.mdev)}`);
}

function admin(env: ScenarioEnv, st: UserFds): void {
  env.set_flag(REMOVING, 1);
  const r = mdev_remove(env.p, st.core!);
  env.check('order.remove-returned-after-close', r.rc === 0 && r.closed && env.flag(CLOSING) === 1, `rc ${r.rc}, closed ${r.closed}, CLOSING ${env.flag(CLOSING)} when the remove returned`);
  env.set_flag(REMOVED, 1);
}
