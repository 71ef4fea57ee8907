// A two-user program for test/css-probe.test.ts: the device goes, is unregistered by the css
// worker, comes back, and is probed again by the css worker's slow path; then it is used again.
//
//   user 0 (QEMU)                          user 1 (the host's admin)
//   fd_realize
//   hw gone: sch_event -> NOT_OPER ->
//     css_sched_sch_todo(UNREG)
//   the css worker's unregistration waits
//   for this FD (REQ, v5.11+): unplug; CLOSED = 1
//                                          flush cio_work_q (css_wait_for_slow_path): unregistered
//                                          mdev create: no parent yet -> -ENOENT
//                                          hw back: the CRW -> css_schedule_eval
//                                          flush cio_work_q: the slow path probed it
//                                          mdev create -> 0; CREATED = 1
//   fd_realize again, one I/O to its final
//   interrupt, unplug; DONE = 1
import { flush_workqueue, peek } from '../../src/kernel/index.ts';
import { run_user, type ScenarioEnv, type UserArgs, type UserResult } from '../../src/scenarios/env.ts';
import type { Scenario } from '../../src/scenarios/types.ts';
import type { ProgramCtx } from '../../src/runtime/context.ts';
import { vfio_core_of } from '../../src/system/device.ts';
import { mdev_create } from '../../src/vfio/mdev_core.ts';
import { fd_realize, fd_unplug, type UserFds } from '../../src/fuzz/fds.ts';
import { dasd_read } from '../../src/client/guest.ts';
import { CE_DE, scripted_io } from '../../src/scenarios/lib/index.ts';
import { ENOENT, errname } from '../../src/uapi/errno.ts';

export const device_back: Scenario = {
  id: 'T-DEVICE-BACK',
  slug: 'device-back',
  title: 'a device that went comes back and is probed again on the css worker',
  module: import.meta.url,
  users: { min: 2, default: 2 },
  iterations: 1,
  hw: {},
};

const CLOSED = 0;
const CREATED = 1;
const DONE = 2;

export function user(ctx: ProgramCtx, args: UserArgs): UserResult {
  return run_user(ctx, args, (env) => {
    const st: UserFds = { fds: 0, realized: false, core: vfio_core_of(env.p), req_slot: null, ctx: [] };
    env.wait_hw_running();
    if (env.user === 0) {
      const err = fd_realize(env, st);
      env.check('back.realized', err === null, err ?? 'realized');
    }
    env.barrier();
    if (env.user === 0) qemu(env, st);
    else admin(env, st);
  });
}

function qemu(env: ScenarioEnv, st: UserFds): void {
  env.hw({ op: 'gone' });
  // QEMU unplugs when the unregistration asks (REQ, v5.11+); before, once it dropped the
  // registration's reference and waits for this FD (what a guest shutdown would do, in time)
  let asked = false;
  if (env.f.irqs >= 3) asked = env.client.wait_req(30_000);
  else for (let i = 0; i < 1_000_000 && !asked; i++) {
    asked = peek(st.core!.refcount) === 1;
    if (!asked) env.relax();
  }
  env.check('back.unregistration-waits', asked, 'the unregistration never asked for the device');
  fd_unplug(env, st);
  env.set_flag(CLOSED, 1);
  const created = env.wait_flag(CREATED, (v) => v !== 0, 60_000) && env.flag(CREATED) === 1;
  const err = created ? fd_realize(env, st) : 'no mdev was created';
  env.check('back.reopened', err === null, err ?? 'realized again');
  if (err === null) {
    const io = scripted_io(env, env.program(dasd_read({ blocks: 2 })).orb, { dstat: CE_DE });
    env.check('back.io', io.final !== null, `ssch cc ${io.cc}, final ${io.final === null ? 'none' : 'presented'}`);
    fd_unplug(env, st);
  }
  env.set_flag(DONE, 1);
}

function admin(env: ScenarioEnv, st: UserFds): void {
  const p = env.p;
  const wq = p.sch.cio_wq;
  if (wq === null) throw new Error('device-back: no cio_work_q');
  env.wait_flag(CLOSED, (v) => v === 1, 60_000);
  flush_workqueue(wq, 'css_wait_for_slow_path');
  const gone = [peek(p.sch.v.registered), peek(p.v.parent_registered), peek(p.sch.d.driver)];
  env.check('back.unregistered', gone.every((x) => x === 0), `registered, parent, driver: ${gone.join(', ')}`);
  const early = mdev_create(p, st.core!);
  env.check('back.create-without-parent', early === -ENOENT, `mdev create before the probe: ${errname(early)}`);
  // params.back === false: the device stays gone (the control run)
  if (env.args.params.back === false) {
    env.set_flag(CREATED, 2);
    return;
  }
  env.hw({ op: 'back' });
  flush_workqueue(wq, 'css_wait_for_slow_path');
  const back = [peek(p.sch.v.registered), peek(p.v.parent_registered), peek(p.sch.d.driver)];
  env.check('back.probed', back.every((x) => x === 1), `registered, parent, driver: ${back.join(', ')}`);
  const rc = mdev_create(p, st.core!);
  env.check('back.created', rc === 0, `mdev create after the probe: ${errname(rc)}`);
  env.set_flag(CREATED, 1);
  env.wait_flag(DONE, (v) => v === 1, 60_000);
}
