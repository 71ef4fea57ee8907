// S1: bring-up, boot reset, single Sense ID, in the shape of kvm-unit-tests' s390x css test:
// open and realize the device as QEMU does, reset it, then one Sense ID whose ending comes
// prompt (initial status then final) and delayed (both statuses presented back to back).
import { sense_id } from '../client/guest.ts';
import { SCSW_ZCC } from '../uapi/scsw.ts';
import { make_irq_info, make_region_info, read_irq_info, read_region_caps, read_region_info } from '../uapi/ioctl.ts';
import { EINVAL } from '../uapi/errno.ts';
import {
  CMD_REGION_SIZE, CRW_REGION_SIZE, IO_REGION_SIZE, SCHIB_AREA_SIZE, VFIO_CCW_INDEX_TO_OFFSET, VFIO_DEVICE_FLAGS_CCW, VFIO_DEVICE_FLAGS_RESET,
  VFIO_DEVICE_GET_IRQ_INFO, VFIO_DEVICE_GET_REGION_INFO, VFIO_IRQ_INFO_EVENTFD, VFIO_REGION_INFO_CAP_TYPE, VFIO_REGION_INFO_FLAG_CAPS,
  VFIO_REGION_INFO_FLAG_READ, VFIO_REGION_INFO_FLAG_WRITE, VFIO_REGION_SUBTYPE_CCW_ASYNC_CMD, VFIO_REGION_SUBTYPE_CCW_CRW,
  VFIO_REGION_SUBTYPE_CCW_SCHIB, VFIO_REGION_TYPE_CCW,
} from '../uapi/vfio_ccw.ts';
import { extra_regions } from '../driver/ops.ts';
import type { ProgramCtx } from '../runtime/context.ts';
import { run_user, type ScenarioEnv, type UserArgs, type UserResult } from './env.ts';
import type { Scenario } from './types.ts';
import {
  CE_DE, FC, SC_ENDED, SC_INTERMEDIATE, cp_clean, drain_io, expect, refused_by_fault, irb_str, marks, next_irb, pending_name, settle, ssch, state, wait_final, type Marks,
} from './lib/index.ts';

export const scenario: Scenario = {
  id: 'S1',
  slug: 'bring-up',
  title: 'Bring-up, boot reset, single Sense ID (kvm-unit-tests shape)',
  module: import.meta.url,
  users: { min: 1, default: 1 },
  // attempts of the "T delayed" variant (the ordering is up to the threads; each attempt is recorded)
  iterations: 20,
  // the device ends nothing by itself: every ending comes through the mailbox; ISIC as the architecture says
  hw: { hung: true, p_isic: 1 },
};

const SUBTYPES = [VFIO_REGION_SUBTYPE_CCW_ASYNC_CMD, VFIO_REGION_SUBTYPE_CCW_SCHIB, VFIO_REGION_SUBTYPE_CCW_CRW];
const SIZES = [CMD_REGION_SIZE, SCHIB_AREA_SIZE, CRW_REGION_SIZE];
const FLAGS = [VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE, VFIO_REGION_INFO_FLAG_READ, VFIO_REGION_INFO_FLAG_READ];

export function user(ctx: ProgramCtx, args: UserArgs): UserResult {
  return run_user(ctx, args, (env) => {
    env.wait_hw_running();
    const f = env.f;
    const c = env.client;
    const extra = extra_regions(env.p).length;

    // 1-2. open and the region/IRQ discovery QEMU's realize does
    const r = env.realize('S1');
    if (!r.ok) return;
    env.check('S1.open-idle', state(env) === 'IDLE', `state after open: ${state(env)}`);
    const flags = VFIO_DEVICE_FLAGS_CCW | VFIO_DEVICE_FLAGS_RESET;
    env.check(
      'S1.device-info',
      r.flags === flags && r.num_regions === 1 + extra && r.num_irqs === f.irqs,
      `GET_INFO: flags ${r.flags.toString(16)} (want ${flags.toString(16)}), ${r.num_regions} regions (want ${1 + extra}), ${r.num_irqs} irqs (want ${f.irqs})`,
    );
    // argsz 32 then 48 for every extra region (the first answer asks for room for the capability)
    const want_ri = 1 + 2 * extra;
    env.check('S1.region-info-calls', r.ioctls.get_region_info === want_ri, `${r.ioctls.get_region_info} GET_REGION_INFO calls in realize (want ${want_ri})`);
    region_info_exact(env, extra);
    irq_info_exact(env);
    const fds = r.irq_fds;
    // QEMU only warns when the REQ notifier fails: under an injected eventfd failure realize goes on without it
    const no_req = env.realize_faulted && fds.req === null && r.warnings.length > 0;
    env.check_answer(
      'S1.set-irqs',
      fds.io !== null && (fds.crw !== null) === f.irqs >= 2 && (fds.req !== null) === f.irqs >= 3,
      no_req && fds.io !== null && (fds.crw !== null) === f.irqs >= 2,
      `eventfds io ${fds.io} crw ${fds.crw} req ${fds.req}`,
    );

    // 3. machine reset at VM start
    const rrc = c.reset();
    env.check('S1.reset', rrc === 0 && state(env) === 'IDLE', `DEVICE_RESET ${rrc}, state ${state(env)}`);
    // QEMU's main loop handles what the reset signalled (before v6.0 the reset's quiesce halts an idle subchannel)
    env.count('reset_irbs', drain_io(env).length);

    // 4-6. one Sense ID; the machine is held, so what the write returns is the driver's synchronous answer
    const m0 = marks(env);
    env.hw({ op: 'hold' });
    const prog = env.program(sense_id());
    const { v: cc, fault } = env.faulted(() => ssch(env, prog.orb));
    const st = state(env);
    const m1 = marks(env);
    // an allocation or pin injected into this ssch fails cp_init/cp_prefetch: the write's errno
    // is the kernel's answer (QEMU makes it a unit exception); the state must still be IDLE
    const refused = fault && cc === 'ue';
    env.check_answer(
      'S1.sync-start',
      cc === 0 && st === pending_name(env) && m1.irbs === m0.irbs && m1.gen === m0.gen + 1,
      refused && st === 'IDLE' && m1.irbs === m0.irbs,
      `ssch cc ${cc}, state ${st} right after the write, io_todo runs ${m1.irbs - m0.irbs}, cp_init ${m1.gen - m0.gen}`,
    );
    if (cc === 0) env.hw({ op: 'complete', kind: 'final', dstat: CE_DE });
    env.hw({ op: 'release' });
    if (refused) {
      // no start, so no final; what stays checked is the state and that the error path freed the cp
      env.note('S1: the base Sense ID was refused under an injected failure: no final IRB to check');
      one_io_done(env, 'S1.base', m0, m1.gen - m0.gen);
    } else {
      const base = cc === 0 ? wait_final(env) : { final: null, seen: [] };
      const fin = base.final;
      env.check(
        'S1.final-irb',
        fin !== null && fin.fctl === FC.start && fin.actl === 0 && fin.stctl === SC_ENDED && fin.dstat === CE_DE && fin.cstat === 0 && base.seen.length === 1,
        fin === null ? 'no final IRB' : `${base.seen.map(irb_str).join(', ')}`,
      );
      one_io_done(env, 'S1.base', m0, 1);
    }

    // Variant, T prompt: the machine raises the initial-status (ISIC) interrupt itself when the
    // start begins; the final is posted only after the user saw it, so io_todo ran in between.
    const m2 = marks(env);
    const { v: cc2, fault: fault2 } = env.faulted(() => ssch(env, env.program(sense_id()).orb));
    const isic = cc2 === 0 ? next_irb(env, 2000) : null;
    if (fault2 && cc2 === 'ue') {
      env.note('S1 variant T prompt: the ssch was refused under an injected failure');
      one_io_done(env, 'S1.prompt', m2, marks(env).gen - m2.gen);
    } else if (isic === null) {
      env.not_applicable('S1 variant T prompt: the machine raised no initial-status interrupt (p_isic 0?)');
    } else {
      const st2 = state(env);
      const mi = marks(env);
      env.check(
        'S1.isic-keeps-cp',
        !isic.final && isic.stctl === SC_INTERMEDIATE && (isic.w0 & SCSW_ZCC) !== 0 && st2 === pending_name(env) && mi.initialized && mi.irbs === m2.irbs + 1,
        `after ${irb_str(isic)}: state ${st2}, cp initialized ${mi.initialized}, io_todo runs ${mi.irbs - m2.irbs}`,
      );
    }
    if (cc2 === 0) {
      env.hw({ op: 'complete', kind: 'final', dstat: CE_DE });
      const pr = wait_final(env);
      env.check('S1.prompt-final', pr.final !== null && pr.final.fctl === FC.start, pr.final === null ? 'no final IRB' : irb_str(pr.final));
      one_io_done(env, 'S1.prompt', m2, 1);
      const runs = marks(env).irbs - m2.irbs;
      if (isic !== null) env.check('S1.prompt-two-runs', runs === 2, `${runs} io_todo runs for initial status + final (want 2)`);
    }

    // Variant, T delayed: both statuses are made while the machine is held, then presented back
    // to back. Whether io_todo runs between the two interrupts is up to the threads: record it.
    for (let i = 0; env.more(i); i++) delayed_attempt(env);

    const busy = c.counters.results.io_write['-EBUSY'] ?? 0;
    env.check('S1.no-ebusy', busy === 0, `${busy} -EBUSY answers to ssch`);
    c.unrealize();
    // Closing resets the device from v5.2 (release: reset + cp_free) and fires CLOSE from v6.0;
    // before v5.2 the release only unregistered the notifier and left the FSM as it was.
    if (env.f.open_close_fsm_events || env.f.release_frees_cp) {
      // state() speaks in roles (F's CLOSED is the STANDBY role); the message names the variant's state
      const standby = env.p.drv.shape.states[env.p.drv.R.STANDBY] ?? 'STANDBY';
      env.check('S1.close-standby', state(env) === 'STANDBY', `state after close: ${env.state_name()} (want ${standby})`);
    } else env.not_applicable('S1 close -> STANDBY: before v5.2 the release leaves the FSM state as it was');
  });
}

/** After an I/O's final: IDLE, exactly `starts` cp allocations since m0, and the cp freed. */
function one_io_done(env: ScenarioEnv, id: string, m0: Marks, starts: number): void {
  const m = marks(env);
  const clean = cp_clean(env);
  expect(env, `${id}-idle`, state(env) === 'IDLE', `state after the final IRB: ${state(env)}`);
  expect(env, `${id}-cp-once`, m.gen - m0.gen === starts && clean.ok, `${m.gen - m0.gen} cp_init (want ${starts}); ${clean.message}`);
}

function delayed_attempt(env: ScenarioEnv): void {
  const m0 = marks(env);
  env.hw({ op: 'hold' });
  const { v: cc, fault } = env.faulted(() => ssch(env, env.program(sense_id()).orb));
  if (cc !== 0) {
    env.hw({ op: 'release' });
    // refused under a failure injected into this ssch: the kernel's answer, if it left IDLE and a free cp
    const excused = refused_by_fault(env, fault, cc);
    env.check_answer('S1.delayed-ssch', false, excused, `ssch cc ${cc}, state ${state(env)}, ${cp_clean(env).message}`, false);
    return;
  }
  // the initial status (intermediate, no PCI), then the final queued behind it at the machine
  env.hw({ op: 'complete', kind: 'pci', cstat: 0 });
  env.hw({ op: 'complete', kind: 'final', dstat: CE_DE });
  env.hw({ op: 'release' });
  const r = wait_final(env);
  const ok = settle(env, m0.taken + 2);
  const late = drain_io(env);
  const runs = marks(env).irbs - m0.irbs;
  const coalesced = runs === 1;
  env.count(coalesced ? 'delayed.coalesced' : 'delayed.separate');
  const seen = [...r.seen, ...late];
  if (coalesced) {
    expect(env, 'S1.delayed-coalesced-final-only', seen.length === 1 && seen[0]?.final === true, `coalesced: the user saw ${seen.map(irb_str).join(', ')}`);
  } else if (seen.some((s) => !s.final)) {
    env.count('delayed.saw_intermediate');
  }
  expect(env, 'S1.delayed-final', ok && r.final !== null && r.final.fctl === FC.start, r.final === null ? 'no final IRB' : irb_str(r.final));
  one_io_done(env, 'S1.delayed', m0, 1);
}

/** GET_REGION_INFO answers, byte for byte as vfio_ccw_mdev_ioctl answers them (index 0, then each extra region at argsz 32 and 48). */
function region_info_exact(env: ScenarioEnv, extra: number): void {
  const ops = env.client.ops;
  const problems: string[] = [];
  const b0 = make_region_info({ argsz: 32, index: 0 });
  const rc0 = ops.ioctl(VFIO_DEVICE_GET_REGION_INFO, b0);
  const i0 = read_region_info(b0);
  if (rc0 !== 0 || i0.size !== IO_REGION_SIZE || i0.offset !== 0 || i0.flags !== (VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE)) {
    problems.push(`index 0: rc ${rc0} size ${i0.size} offset ${i0.offset} flags ${i0.flags}`);
  }
  for (let k = 0; k < extra; k++) {
    const index = k + 1;
    const small = make_region_info({ argsz: 32, index });
    const rcs = ops.ioctl(VFIO_DEVICE_GET_REGION_INFO, small);
    const s = read_region_info(small);
    const want_flags = (FLAGS[k] ?? 0) | VFIO_REGION_INFO_FLAG_CAPS;
    if (rcs !== 0 || s.argsz !== 48 || s.cap_offset !== 0 || s.flags !== want_flags || s.size !== SIZES[k] || s.offset !== VFIO_CCW_INDEX_TO_OFFSET(index)) {
      problems.push(`index ${index} argsz 32: rc ${rcs} argsz ${s.argsz} cap_offset ${s.cap_offset} flags ${s.flags} size ${s.size} offset ${s.offset}`);
    }
    const big = make_region_info({ argsz: 48, index });
    const rcb = ops.ioctl(VFIO_DEVICE_GET_REGION_INFO, big);
    const b = read_region_info(big);
    const caps = read_region_caps(big);
    const cap = caps[0];
    if (
      rcb !== 0 || b.argsz !== 48 || b.cap_offset !== 32 || caps.length !== 1 || cap === undefined || cap.header.id !== VFIO_REGION_INFO_CAP_TYPE ||
      cap.header.version !== 1 || cap.header.next !== 0 || cap.type !== VFIO_REGION_TYPE_CCW || cap.subtype !== SUBTYPES[k]
    ) {
      problems.push(`index ${index} argsz 48: rc ${rcb} cap_offset ${b.cap_offset} caps ${JSON.stringify(caps)}`);
    }
  }
  const past = make_region_info({ argsz: 48, index: extra + 1 });
  const rcp = ops.ioctl(VFIO_DEVICE_GET_REGION_INFO, past);
  if (rcp !== -EINVAL) problems.push(`index ${extra + 1} (none): rc ${rcp}, want -EINVAL`);
  env.check('S1.region-info-exact', problems.length === 0, problems.length === 0 ? `index 0 and ${extra} capability replies exact` : problems.join('; '));
}

function irq_info_exact(env: ScenarioEnv): void {
  const ops = env.client.ops;
  const problems: string[] = [];
  const n = env.f.irqs;
  for (let index = 0; index <= n; index++) {
    const b = make_irq_info({ index });
    const rc = ops.ioctl(VFIO_DEVICE_GET_IRQ_INFO, b);
    const info = read_irq_info(b);
    if (index < n && (rc !== 0 || info.count !== 1 || info.flags !== VFIO_IRQ_INFO_EVENTFD)) problems.push(`irq ${index}: rc ${rc} count ${info.count} flags ${info.flags}`);
    if (index === n && rc !== -EINVAL) problems.push(`irq ${index} (none): rc ${rc}, want -EINVAL`);
  }
  env.check('S1.irq-info', problems.length === 0, problems.length === 0 ? `${n} IRQ indexes, count 1 each` : problems.join('; '));
}
