// A two-user program for test/fuzz-lifecycle.test.ts: the device goes while an admin's mdev create
// is between the driver's probe and the vfio registration. v5.3+ create_store holds
// parent->unreg_sem for read from before the probe until the mdev is active (mdev_core.c,
// 5715c4dd66a3), so the css worker's unregistration waits for it; it must not remove (and, v6.2+,
// free) a private whose registration is still to come, leaving a registered device on freed memory.
//
//   user 0 (the gate)                     user 1 (the admin)              css worker (cio_work_q)
//   mdev_remove of main's mdev (no FD)
//   group->device_lock held
//                                         CREATING = 1
//                                         mdev_create: unreg_sem (read),
//                                           vfio_ccw_mdev_probe,
//                                           vfio_register_group_dev:
//                                           waits for device_lock
//   hw gone -> NOT_OPER -> SCH_TODO_UNREG                                  css_sch_todo
//                                                                            vfio_ccw_sch_remove
//                                                                              unregister the parent:
//                                                                              waits on unreg_sem
//   checks: the css worker waits, private is alive
//   device_lock released
//                                         registered, active; up_read
//                                                                            the mdev is removed
//   checks: create answered 0, the mdev is gone, nothing registered
import { kref_read, mutex_lock, mutex_unlock, peek } from '../../src/kernel/index.ts';
import { WAITERS } from '../../src/kernel/lockword.ts';
import { run_user, type ScenarioEnv, type UserArgs, type UserResult } from '../../src/scenarios/env.ts';
import type { Scenario } from '../../src/scenarios/types.ts';
import type { ProgramCtx } from '../../src/runtime/context.ts';
import { vfio_core_of } from '../../src/system/device.ts';
import { private_ref } from '../../src/driver/ops.ts';
import { mdev_adopt, mdev_create, mdev_remove, type VfioCoreView } from '../../src/vfio/mdev_core.ts';
import { until } from './remove-vs-gone.ts';

export const create_vs_gone: Scenario = {
  id: 'T-CREATE-GONE',
  slug: 'create-vs-gone',
  title: 'mdev create in progress when the device goes',
  module: import.meta.url,
  users: { min: 2, default: 2 },
  iterations: 1,
  hw: {},
};

const GATED = 0;
const CREATING = 1;
const CREATED = 2;

const waited = (w: { a: Int32Array; i: number }): boolean => (Atomics.load(w.a, w.i) & WAITERS) !== 0;

export function user(ctx: ProgramCtx, args: UserArgs): UserResult {
  return run_user(ctx, args, (env) => {
    const core = vfio_core_of(env.p);
    env.wait_hw_running();
    env.barrier();
    if (env.user === 0) gate(env, core);
    else admin(env, core);
  });
}

function gate(env: ScenarioEnv, core: VfioCoreView): void {
  if (peek(env.p.v.mdev) !== 0) mdev_adopt(core);
  const r = mdev_remove(env.p, core);
  env.check('create-gone.removed', r.rc === 0 && r.closed, `removing main's mdev: rc ${r.rc}, closed ${r.closed}`);
  mutex_lock(core.device_lock, 't');
  env.set_flag(GATED, 1);
  env.wait_flag(CREATING, (v) => v === 1, 30_000);
  const stalled = until(env, () => waited(core.device_lock));
  env.check('create-gone.create-stalled', stalled, 'the create never reached vfio_register_group_dev');
  env.hw({ op: 'gone' });
  const registered = (): number => peek(env.p.sch.v.registered);
  // the css worker's unregistration goes as far as it can: blocked on unreg_sem (the create holds
  // it), or through, having removed the mdev under the create
  const reached = until(env, () => waited(core.unreg_sem) || registered() === 0);
  const alive = !env.p.drv.f.parent_split || kref_read(private_ref(env.p)) > 0;
  env.check('create-gone.css-waits', reached && waited(core.unreg_sem) && alive && peek(env.p.v.mdev) === 1, `css unregistration: waits on unreg_sem ${waited(core.unreg_sem)}, private alive ${alive}, private->mdev ${peek(env.p.v.mdev)}, subchannel registered ${registered()}`);
  mutex_unlock(core.device_lock, 't');
  env.wait_flag(CREATED, (v) => v === 1, 30_000);
  const gone = until(env, () => registered() === 0);
  env.check('create-gone.removed-after', gone && peek(env.p.v.mdev) === 0 && peek(core.refcount) === 0 && peek(core.listed) === 0, `after the create: subchannel registered ${registered()}, private->mdev ${peek(env.p.v.mdev)}, refcount ${peek(core.refcount)}, listed ${peek(core.listed)}`);
}

function admin(env: ScenarioEnv, core: VfioCoreView): void {
  env.wait_flag(GATED, (v) => v === 1, 30_000);
  env.set_flag(CREATING, 1);
  const rc = mdev_create(env.p, core);
  env.check('create-gone.create-answered', rc === 0, `mdev_create answered ${rc}`);
  env.set_flag(CREATED, 1);
}
