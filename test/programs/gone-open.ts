// A one-user program for test/fuzz-lifecycle.test.ts: QEMU keeps its FD when the device goes and
// never answers the request. The css worker's unregistration then waits for that FD for ever, as
// the kernel's does; the run must still end, with the wait reported.
//
//   user 0 (QEMU)                          css worker (cio_work_q)
//   fd_realize (an FD, its reference)
//   hw gone -> NOT_OPER -> SCH_TODO_UNREG   css_sch_todo -> vfio_ccw_sch_remove
//                                            vfio_ccw_mdev_unreg: put the registration, wait
//   sees refcount 1 (the css waits)
//   ends with the FD open                      ... request, wait HZ * 10, request, ...
import { peek } from '../../src/kernel/index.ts';
import { run_user, type UserArgs, type UserResult } from '../../src/scenarios/env.ts';
import type { Scenario } from '../../src/scenarios/types.ts';
import type { ProgramCtx } from '../../src/runtime/context.ts';
import { vfio_core_of } from '../../src/system/device.ts';
import { fd_realize, type UserFds } from '../../src/fuzz/fds.ts';

export const gone_open: Scenario = {
  id: 'T-GONE-OPEN',
  slug: 'gone-open',
  title: 'the device goes while QEMU keeps its FD for ever',
  module: import.meta.url,
  users: { min: 1, default: 1 },
  iterations: 1,
  hw: {},
};

/** never set: its bounded waits pace the poll */
const TICK = 0;

export function user(ctx: ProgramCtx, args: UserArgs): UserResult {
  return run_user(ctx, args, (env) => {
    const st: UserFds = { fds: 0, realized: false, core: vfio_core_of(env.p), req_slot: null, ctx: [] };
    env.wait_hw_running();
    const err = fd_realize(env, st);
    env.check('gone-open.realized', err === null, err ?? 'realized');
    env.hw({ op: 'gone' });
    let waits = false;
    for (let i = 0; i < 20_000 && !waits; i++) {
      waits = peek(st.core!.refcount) === 1;
      if (!waits) env.wait_flag(TICK, (v) => v !== 0, 1);
    }
    env.check('gone-open.css-waits', waits, `refcount ${peek(st.core!.refcount)}: the css worker never dropped the registration`);
  });
}
