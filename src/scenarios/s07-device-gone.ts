// S7: device goes not-operational mid-I/O. User 0 is QEMU. NOT_OPER schedules the subchannel's
// unregistration on the css layer's cio_work_q; the css worker runs it: the driver's remove, whose
// mdev removal asks QEMU for the device (REQ, v5.11+) and waits until it is closed. User 1 is the
// host waiting for the css slow path to settle (css_wait_for_slow_path: flush cio_work_q, as a
// write to /proc/cio_settle does). First the path-lost variant, while the device is there.
import { flush_workqueue, peek } from '../kernel/index.ts';
import { CRW_ERC_INIT, CRW_ERC_PERRN, CRW_RSC_CPATH } from '../driver/drv.ts';
import { dasd_read } from '../client/guest.ts';
import { HwPathEvent } from '../hw/mailbox.ts';
import { HwStartEnd } from '../hw/layout.ts';
import type { ProgramCtx } from '../runtime/context.ts';
import { type ScenarioEnv, type UserArgs, type UserResult } from './env.ts';
import type { Scenario } from './types.ts';
import {
  CE_DE, FC, MACHINE_CHPID, SC_ENDED, cp_clean, crw_word, irb_info, irb_str, marks, next_irb, pending_name, refused_by_fault, scripted_io, ssch, state, two_users, wait_begun, wait_final,
} from './lib/index.ts';

export const scenario: Scenario = {
  id: 'S7',
  slug: 'device-gone',
  title: 'Device goes not-operational mid-I/O',
  module: import.meta.url,
  users: { min: 2, default: 2 },
  iterations: 1,
  hw: { hung: true },
};

const F_GONE = 0; // user 0: the device is gone and step 3 is done
const F_CLOSED = 1; // user 0: unplugged (device fd closed)
const F_REMOVED = 2; // user 1: the css slow path settled (subchannel unregistered, mdev removed)

const CHPID = MACHINE_CHPID;

export function user(ctx: ProgramCtx, args: UserArgs): UserResult {
  return two_users(ctx, args, 'S7', {
    guest,
    release: [F_GONE, F_CLOSED],
    other: admin,
  });
}

function guest(env: ScenarioEnv): void {
  const c = env.client;
  const timeout_ms = Number(env.args.params.timeout_ms ?? 20);
  // a first I/O: the machine records its path as last used (LPUM), which the path variant needs
  const prog0 = env.program(dasd_read({ blocks: 2 }));
  const { v: warm, fault: fault0 } = env.faulted(() => scripted_io(env, prog0.orb, { dstat: CE_DE }));
  env.check_answer('S7.first-io', warm.final !== null, refused_by_fault(env, fault0, warm.cc), warm.final === null ? `ssch cc ${warm.cc}` : irb_str(warm.final));

  // the path variant needs the first I/O's path as last used: not after an injected failure refused it
  if (warm.final === null && fault0) env.note('S7 path variant: skipped, the first I/O was refused under an injected failure');
  else if (env.f.chp_event && c.regions.async !== null) path_lost(env, timeout_ms);
  else env.not_applicable('S7 path variant: no chp_event/CRW region or no async region in this version');

  // 1. a start the device will never end
  const m0 = marks(env);
  const prog1 = env.program(dasd_read({ blocks: 8 }));
  const { v: cc, fault: fault1 } = env.faulted(() => ssch(env, prog1.orb));
  // refused under a failure injected into it: the device still goes, with no I/O in flight
  const refused = refused_by_fault(env, fault1, cc);
  const g1 = marks(env).gen;
  env.check_answer('S7.ssch', cc === 0 && state(env) === pending_name(env), refused, `ssch cc ${cc}, state ${state(env)}`);

  // 2. the device goes: css slow path -> sch_event -> NOT_OPER (done before the machine acks)
  env.hw({ op: 'gone' });
  const sig_gone = marks(env).signals;
  const clean = cp_clean(env);
  env.check('S7.notoper', state(env) === 'NOT_OPER' && clean.ok && (refused ? g1 : m0.gen + 1) === marks(env).gen, `state ${state(env)}; ${clean.message}`);
  // the queued css_sch_todo holds a reference on the subchannel until it has unregistered it,
  // which waits for this user to close the device
  const refs = Atomics.load(env.p.sch.d.dev_ref.a, env.p.sch.d.dev_ref.i);
  env.check('S7.unreg-scheduled', refs === 2, `sch device references ${refs} (registration + queued todo), todo ${peek(env.p.sch.v.todo)}`);
  const late = c.poll_io();
  env.check('S7.no-irb-for-aborted-io', late === null, late === null ? 'no IO signal' : `IO signal, region IRB ${late.irb === null ? 'unreadable' : irb_str(irb_info(late.irb))}`);

  // 3. what QEMU sees from now on
  const res = c.counters.results;
  const n = (op: keyof typeof res, k: string): number => res[op][k] ?? 0;
  const enodev0 = n('schib_read', '-ENODEV');
  const st = c.stsch();
  if (c.regions.schib !== null) env.check('S7.schib-enodev', st.cc === 0 && n('schib_read', '-ENODEV') === enodev0 + 1, `guest stsch cc ${st.cc}, schib read -ENODEV ${n('schib_read', '-ENODEV') - enodev0}`);
  const ue0 = c.counters.unit_exceptions;
  if (c.regions.async !== null) {
    const eio0 = n('cmd_write', '-EIO');
    const ccc = c.csch();
    c.tsch();
    env.check('S7.csch-eio', ccc === 0 && n('cmd_write', '-EIO') === eio0 + 1 && c.counters.unit_exceptions === ue0 + 1, `guest csch cc ${ccc}, cmd write -EIO ${n('cmd_write', '-EIO') - eio0}, unit exceptions ${c.counters.unit_exceptions - ue0}`);
  }
  const eio1 = n('io_write', '-EIO');
  const scc = c.ssch(env.program(dasd_read({ blocks: 1 })).orb);
  c.tsch();
  env.check('S7.ssch-eio', scc === 0 && n('io_write', '-EIO') === eio1 + 1, `guest ssch cc ${scc} (unit exception injected), io write -EIO ${n('io_write', '-EIO') - eio1}`);
  const rd = c.read_io_region();
  env.check('S7.io-read-ok', rd.rc === rd.region.length, `io region read ${rd.rc}`);
  env.set_flag(F_GONE, 1);

  // 4. unplug when the host asks (REQ); without a REQ irq (< v5.11) the guest would never know
  if (env.f.irqs >= 3) {
    const req = c.wait_req(10_000);
    // no REQ notifier when an injected eventfd failure made QEMU's realize go on without it
    env.check_answer('S7.req', req, env.realize_faulted && c.irq_fds.req === null, req ? `REQ signalled (${c.counters.req_signals})` : 'no REQ signal within 10 s');
  } else env.not_applicable('S7 step 4: no REQ irq before v5.11');
  const u = c.unrealize();
  env.set_flag(F_CLOSED, 1);
  env.check('S7.unplug', u.set_irqs.every((s) => s.rc === 0) && state(env) === 'NOT_OPER', `SET_IRQS fd=-1 ${JSON.stringify(u.set_irqs)}, state after close ${state(env)}`);
  env.wait_flag(F_REMOVED, (v) => v === 1);
  env.check('S7.no-signal-after-notoper', marks(env).signals === sig_gone, `${marks(env).signals - sig_gone} IO signals after NOT_OPER`);
  const clean2 = cp_clean(env);
  env.check('S7.no-double-free', clean2.ok, clean2.message);
}

/** The variant: the LPUM path goes offline; the driver cancels/halts/clears itself and queues a CRW. */
function path_lost(env: ScenarioEnv, timeout_ms: number): void {
  const c = env.client;
  const hw = env.p.sch.hw;
  const perrn = crw_word(CRW_RSC_CPATH, CRW_ERC_PERRN, CHPID);
  const init = crw_word(CRW_RSC_CPATH, CRW_ERC_INIT, CHPID);

  // (a) the start has not begun: xsch cc 0 withdraws it and no interrupt ever comes
  const xsch0 = hw.at('start_end', HwStartEnd.xsch);
  env.hw({ op: 'hold' });
  const prog = env.program(dasd_read({ blocks: 4 }));
  const { v: cc, fault } = env.faulted(() => ssch(env, prog.orb));
  if (refused_by_fault(env, fault, cc)) {
    env.hw({ op: 'release' });
    env.note('S7 path variant: the start was refused under an injected failure; the variant stops');
    return;
  }
  env.hw({ op: 'path', event: HwPathEvent.offline, chpid: CHPID });
  const st = state(env);
  const m = marks(env);
  env.hw({ op: 'release' });
  env.check('S7.a-cancelled', cc === 0 && hw.at('start_end', HwStartEnd.xsch) === xsch0 + 1 && st === pending_name(env) && m.initialized, `ssch cc ${cc}, xsch ends ${hw.at('start_end', HwStartEnd.xsch) - xsch0}, state ${st}, cp initialized ${m.initialized}`);
  const crw1 = c.wait_crw(10_000);
  env.check('S7.a-crw', crw1.length === 1 && crw1[0] === perrn, `CRWs ${crw1.map((w) => w.toString(16))} (want ${perrn.toString(16)})`);
  const none = next_irb(env, timeout_ms);
  env.check('S7.a-no-interrupt', none === null && state(env) === pending_name(env), none === null ? `nothing within ${timeout_ms} ms, state ${state(env)}` : irb_str(none));
  // the guest's timeout: csch (S4) ends it
  const ccc = c.csch();
  const f = wait_final(env).final;
  const clean = cp_clean(env);
  env.check('S7.a-csch-recovers', ccc === 0 && f !== null && (f.fctl & FC.clear) !== 0 && state(env) === 'IDLE' && clean.ok, `csch cc ${ccc}, ${f === null ? 'no IRB' : irb_str(f)}, state ${state(env)}; ${clean.message}`);
  env.hw({ op: 'path', event: HwPathEvent.online, chpid: CHPID });
  const crw2 = c.wait_crw(10_000);
  env.check('S7.a-crw-online', crw2.length === 1 && crw2[0] === init, `CRWs ${crw2.map((w) => w.toString(16))} (want ${init.toString(16)})`);

  // (b) the start is active: xsch cc 2, hsch cc 0, and the halt IRB reaches the guest unasked
  const prog2 = env.program(dasd_read({ blocks: 4 }));
  const { v: cc2, fault: fault2 } = env.faulted(() => ssch(env, prog2.orb));
  if (refused_by_fault(env, fault2, cc2)) {
    env.note('S7 path variant (b): the start was refused under an injected failure; the variant stops');
    return;
  }
  const begun = cc2 === 0 && wait_begun(env);
  env.hw({ op: 'path', event: HwPathEvent.offline, chpid: CHPID });
  const h = wait_final(env).final;
  const clean2 = cp_clean(env);
  env.check(
    'S7.b-halted',
    begun && h !== null && (h.fctl & FC.halt) !== 0 && h.stctl === SC_ENDED && state(env) === 'IDLE' && clean2.ok,
    `ssch cc ${cc2}, begun ${begun}, ${h === null ? 'no IRB' : irb_str(h)}, state ${state(env)}; ${clean2.message}`,
  );
  const crw3 = c.wait_crw(10_000);
  env.hw({ op: 'path', event: HwPathEvent.online, chpid: CHPID });
  const crw4 = c.wait_crw(10_000);
  const got = [...crw3, ...crw4];
  env.check('S7.b-crws', got.length === 2 && got[0] === perrn && got[1] === init, `CRWs ${got.map((w) => w.toString(16))}`);
}

/** The host settling the css slow path: flush cio_work_q, so the unregistration has run. Sleeps. */
function admin(env: ScenarioEnv): void {
  env.wait_flag(F_GONE, (v) => v === 1, 60_000);
  const wq = env.p.sch.cio_wq;
  if (wq === null) throw new Error('S7: no cio_work_q');
  flush_workqueue(wq, 'css_wait_for_slow_path');
  const open = peek(env.p.v.open_count);
  const users = peek(env.p.core.refcount);
  env.check('S7.remove-after-close', open === 0 && users === 0, `${open} device fds open, ${users} vfio device references once the unregistration ran`);
  const registered = peek(env.p.sch.v.registered);
  env.check('S7.removed', peek(env.p.v.mdev) === 0 && registered === 0 && state(env) === 'NOT_OPER', `mdev ${peek(env.p.v.mdev)}, subchannel registered ${registered}, state ${state(env)}`);
  env.set_flag(F_REMOVED, 1);
}
