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
// params.rounds repeats it; params.probe_fails expects the last round's probe to fail (fault
// injection), params.back === false leaves the device gone.
import { flush_workqueue, peek } from '../../src/kernel/index.ts';
import type { ScenarioEnv, UserArgs, UserResult } from '../../src/scenarios/env.ts';
import type { Scenario } from '../../src/scenarios/types.ts';
import type { ProgramCtx } from '../../src/runtime/context.ts';
import { mdev_create } from '../../src/vfio/mdev_core.ts';
import { fd_realize, fd_unplug, type UserFds } from '../../src/fuzz/fds.ts';
import { qemu_and_admin } from './lifecycle-users.ts';
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

const CLOSED = 0; // QEMU: rounds it has closed the device in
const CREATED = 1; // the admin: rounds whose mdev it created (or gave up on)
const NO_MDEV = 2; // the admin: 1 when the last round left no mdev
const DONE = 3;

/** params.rounds (default 1): gone and back this many times; params.back === false: the device stays gone. */
const rounds_of = (env: ScenarioEnv): number => Number(env.args.params.rounds ?? 1);

export function user(ctx: ProgramCtx, args: UserArgs): UserResult {
  return qemu_and_admin(ctx, args, 'back', qemu, admin);
}

function qemu(env: ScenarioEnv, st: UserFds): void {
  for (let r = 1; r <= rounds_of(env); r++) {
    env.hw({ op: 'gone' });
    // QEMU unplugs when the unregistration asks (REQ, v5.11+); before, once it dropped the
    // registration's reference and waits for this FD (what a guest shutdown would do, in time)
    let asked = false;
    if (env.f.irqs >= 3) asked = env.client.wait_req(30_000);
    else for (let i = 0; i < 1_000_000 && !asked; i++) {
      asked = peek(st.core!.refcount) === 1;
      if (!asked) env.relax();
    }
    env.check(`back.unregistration-waits${r > 1 ? `.${r}` : ''}`, asked, 'the unregistration never asked for the device');
    fd_unplug(env, st);
    env.add_flag(CLOSED, 1);
    const created = env.wait_flag(CREATED, (v) => v >= r, 60_000) && env.flag(NO_MDEV) === 0;
    if (!created) break;
    const err = fd_realize(env, st);
    env.check(`back.reopened${r > 1 ? `.${r}` : ''}`, err === null, err ?? 'realized again');
    if (err !== null) break;
    const io = scripted_io(env, env.program(dasd_read({ blocks: 2 })).orb, { dstat: CE_DE });
    env.check(`back.io${r > 1 ? `.${r}` : ''}`, io.final !== null, `ssch cc ${io.cc}, final ${io.final === null ? 'none' : 'presented'}`);
  }
  fd_unplug(env, st);
  env.set_flag(DONE, 1);
}

function admin(env: ScenarioEnv, st: UserFds): void {
  const p = env.p;
  const wq = p.sch.cio_wq;
  if (wq === null) throw new Error('device-back: no cio_work_q');
  const words = (): number[] => [peek(p.sch.v.registered), peek(p.v.parent_registered), peek(p.sch.d.driver)];
  for (let r = 1; r <= rounds_of(env); r++) {
    const last = r === rounds_of(env);
    const sfx = r > 1 ? `.${r}` : '';
    env.wait_flag(CLOSED, (v) => v >= r, 60_000);
    flush_workqueue(wq, 'css_wait_for_slow_path');
    const gone = words();
    env.check(`back.unregistered${sfx}`, gone.every((x) => x === 0), `registered, parent, driver: ${gone.join(', ')}`);
    const early = mdev_create(p, st.core!);
    env.check(`back.create-without-parent${sfx}`, early === -ENOENT, `mdev create before the probe: ${errname(early)}`);
    if (env.args.params.back === false) {
      env.set_flag(NO_MDEV, 1);
      env.add_flag(CREATED, 1);
      break;
    }
    env.hw({ op: 'back' });
    flush_workqueue(wq, 'css_wait_for_slow_path');
    const back = words();
    // params.probe_fails (fault injection at the last round's mdev_register): on the bus, no driver, no parent
    if (last && env.args.params.probe_fails === true) {
      const rc = mdev_create(p, st.core!);
      env.check('back.probe-failed', back.join() === '1,0,0' && rc === -ENOENT, `registered, parent, driver: ${back.join(', ')}; mdev create ${errname(rc)}`);
      env.set_flag(NO_MDEV, 1);
      env.add_flag(CREATED, 1);
      break;
    }
    env.check(`back.probed${sfx}`, back.every((x) => x === 1), `registered, parent, driver: ${back.join(', ')}`);
    const rc = mdev_create(p, st.core!);
    env.check(`back.created${sfx}`, rc === 0, `mdev create after the probe: ${errname(rc)}`);
    env.add_flag(CREATED, 1);
  }
  env.wait_flag(DONE, (v) => v === 1, 60_000);
}
