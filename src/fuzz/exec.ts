// The fuzzer's user program (a scenario module): user 0 realizes the device as QEMU does, every
// other user opens its own FD, then each runs its generated calls against the device and judges
// every answer against syscalls.ts. An exception out of the port or a wrong errno is a failed
// check with id `fuzz.exception:…` / `fuzz.errno:…` (the campaign turns them into findings).
import { KernelBug, clock, current, eventfd_close, eventfd_create, eventfd_ctx_fdget, eventfd_signal, eventfd_try_read, peek, poke, reset_context, type EventfdCtx, type SharedWord } from '../kernel/index.ts';
import { GUEST_MEM_END, GUEST_MEM_START, GuestAlloc, dasd_read, load_program, make_orb, place, sense_id, type ProgramSpec } from '../client/guest.ts';
import { vfio_ccw_dma_unmap } from '../driver/ops.ts';
import { EBADF, errname } from '../uapi/errno.ts';
import { ORB_TM_B } from '../uapi/orb.ts';
import { orb_write } from '../uapi/orb.ts';
import { SCSW_FCTL_CLEAR_FUNC, SCSW_FCTL_HALT_FUNC, SCSW_FCTL_START_FUNC, scsw_word0 } from '../uapi/scsw.ts';
import { IO_REGION_SIZE, IO_SCSW, VFIO_DEVICE_GET_INFO, VFIO_DEVICE_GET_IRQ_INFO, VFIO_DEVICE_GET_REGION_INFO, VFIO_DEVICE_RESET, VFIO_DEVICE_SET_IRQS } from '../uapi/vfio_ccw.ts';
import { HwPathEvent } from '../hw/mailbox.ts';
import type { ProgramCtx } from '../runtime/context.ts';
import { run_user, type ScenarioEnv, type UserArgs, type UserResult } from '../scenarios/env.ts';
import type { Scenario } from '../scenarios/types.ts';
import { ENTRY, entry } from './entry.ts';
import { call_spec, device_expect, device_use, region_offset, REGION_SIZES, IO_PROGRAMS, type Call, type RunView } from './syscalls.ts';
import { NO_DEVICE_OPS, type Ops } from '../client/ops.ts';
import { device_prefix } from '../system/device-stats.ts';
import { VFIO_CCW_REQ_IRQ_INDEX } from '../uapi/vfio_ccw.ts';
import { vfio_core_of } from '../system/device.ts';
import { UNREGISTER_ROUNDS, mdev_create, mdev_remove, type VfioCoreView } from '../vfio/mdev_core.ts';
import { answer_req, fd_open, fd_realize, fd_release, fd_unplug, type UserFds } from './fds.ts';

export const fuzz_scenario: Scenario = {
  id: 'FUZZ',
  slug: 'fuzz',
  title: 'generated call sequences (vfio-ccw-sim fuzz)',
  module: import.meta.url,
  users: { min: 1, default: 3 },
  iterations: 1,
  // short starts so that many calls meet an I/O in flight
  hw: { start_latency_us: [20, 400] },
};

/** At most this many failed checks a user reports per id (the rest are counted). */
const PER_ID = 3;

interface UserState {
  /** this user's FDs, per device (its REQ eventfd slot and, with lifecycle calls, the device's vfio core) */
  dev: UserFds[];
  efd: (number | null)[];
  /** the contexts of efd, shared by every device's book */
  ctx: (EventfdCtx | null)[];
  /** eventfds handed to SET_IRQS: never closed (the port's eventfd has no reference count) */
  installed: Set<number>;
  mem: GuestAlloc;
}

export function user(ctx: ProgramCtx, args: UserArgs): UserResult {
  return run_user(ctx, args, (env) => {
    const progs = JSON.parse(String(env.args.params.prog ?? '[]')) as Call[][];
    const calls = progs[env.user] ?? [];
    const n = env.devices;
    // mdev_probe / mdev_remove in the run: FDs hold vfio_device references, users answer REQ
    const lc = env.args.params.lifecycle === true;
    const ctxs: (EventfdCtx | null)[] = [null, null, null, null];
    const dev = Array.from({ length: n }, (_, d): UserFds => {
      env.use(d);
      return { fds: 0, realized: false, core: lc ? vfio_core_of(env.p) : null, req_slot: null, ctx: ctxs };
    });
    const st: UserState = { dev, efd: [null, null, null, null], ctx: ctxs, installed: new Set(), mem: guest_slice(env) };
    open_devices(env, st, lc);
    env.barrier();
    const closes = closes_on(env.args.params);
    const views: RunView[] = st.dev.map((_, d) => ({ closes: closes(d), efd_live: (s) => st.efd[s] !== null, fault: env.args.params.fault === true, lifecycle: lc }));
    const seen = new Map<string, number>();
    const fail = (id: string, msg: string): void => {
      const n = (seen.get(id) ?? 0) + 1;
      seen.set(id, n);
      if (n <= PER_ID) env.check(id, false, msg);
    };
    let done = 0;
    // no FD (an injected probe or open failure): there is no device to call, unless the program can create one
    for (const c of st.dev.some((x) => x.fds > 0) || lc ? calls : []) {
      if ((done & 63) === 0 && !env.more(done)) break;
      // another user's call died holding a spinlock: every call could need it
      if (peek(wedge(env)) !== 0) break;
      const d = c.d ?? 0;
      const real = d < n;
      const dv = real ? st.dev[d]! : null;
      // a device this user holds no FD for (its open failed): nothing to call on it
      if (dv !== null && dv.fds === 0 && !lc) continue;
      done++;
      const pre = device_prefix(d, n);
      let rc: number | null;
      try {
        if (lc) answer_reqs(env, st);
        if (real) env.use(d);
        rc = dv === null ? exec_missing(c) : lc && dv.fds === 0 && needs_fd(c.op) ? -EBADF : exec_call(env, st, c, d);
      } catch (e) {
        const m = e instanceof Error ? e.message : String(e);
        // an oops ends its task and what it holds stays held: this user's calls and teardown stop
        // here (going on would wait on its own mutex, a self-deadlock no kernel task makes)
        const held = current.spinDepth + current.mutexDepth;
        const locks = [current.spinDepth > 0 ? `${current.spinDepth} spinlock(s)` : '', current.mutexDepth > 0 ? `${current.mutexDepth} mutex(es)` : ''].filter((x) => x !== '').join(' and ');
        const with_held = held > 0 ? ` with ${locks} held (they stay held: the run's calls and teardown stop here)` : '';
        fail(`fuzz.exception:${c.op}:${m.split('\n')[0]!.replace(/\d+/g, '#').slice(0, 80)}`, `${pre}${c.op}(${c.a.join(', ')}) threw${with_held}: ${e instanceof Error ? (e.stack ?? m) : m}`);
        if (held > 0) poke(wedge(env), 1);
        if (after_throw(e, held) === 'stop') break;
        continue;
      }
      if (rc === null) continue;
      // a lifecycle run counts every answer, so what came after a remove can be read back
      if (lc) env.count(`fuzz.rc.${c.op}.${errname(rc)}`);
      const spec = call_spec(c.op);
      const missing = device_expect(spec, d, n);
      // a call on a closed FD: the file table answers, the driver is never called
      const closed = rc === -EBADF && dv !== null && dv.fds === 0 && needs_fd(c.op);
      const want = missing !== undefined ? missing : closed ? [-EBADF] : spec.expect(c.a, env.f, views[d]!);
      if (want !== null && !want.includes(rc)) {
        fail(`fuzz.errno:${c.op}:${errname(rc)}`, `${pre}${c.op}(${c.a.join(', ')}) answered ${errname(rc)}, the spec allows ${want.map(errname).join(' ')} (state ${real ? env.state_name() : 'no such device'})`);
      }
    }
    env.count('fuzz.calls', done);
    // a remove in progress waits for these FDs: they close before the users meet (not on a wedged device)
    if (lc && peek(wedge(env)) === 0)
      st.dev.forEach((x, d) => {
        env.use(d);
        fd_unplug(env, x);
      });
    env.barrier();
    for (let k = 0; k < 4; k++) if (st.efd[k] !== null && !st.installed.has(st.efd[k]!)) eventfd_close(env.ctx.g, st.efd[k]!);
    // A lock left held: the releases would wait on it for ever (the dead task's own exit would
    // too). The device is wedged; the run ends with the oops as its finding.
    const wedged = peek(wedge(env)) !== 0;
    if (wedged) env.note('teardown skipped: a call died holding a lock');
    if (!wedged)
      st.dev.forEach((x, d) => {
        env.use(d);
        const own = env.user === 0 ? x.fds - 1 : x.fds;
        for (let k = 0; k < own; k++) env.client.ops.release();
      });
    env.barrier();
    if (env.user === 0 && !wedged)
      st.dev.forEach((x, d) => {
        env.use(d);
        if (x.fds > 0) env.client.unrealize();
      });
  });
}

/** Scenario flag word 0, the harness's own (peek/poke: no schedule point): a call died holding a spinlock. */
const wedge = (env: ScenarioEnv): SharedWord => ({ a: env.flags.w.a, i: env.flags.w.i });

/**
 * User 0 realizes every device as QEMU does, one vfio-ccw device each; then every other user opens
 * its own FD on each. With lifecycle calls the FDs go through the vfio core's references.
 */
function open_devices(env: ScenarioEnv, st: UserState, lc: boolean): void {
  env.wait_hw_running();
  if (env.user === 0)
    st.dev.forEach((x, d) => {
      env.use(d);
      let err: string | null = null;
      if (lc) err = fd_realize(env, x);
      else {
        const r = env.client.realize();
        if (r.ok) {
          x.fds = 1;
          x.realized = true;
        } else err = r.error ?? '?';
      }
      if (err !== null) env.note(`${device_prefix(d, st.dev.length)}realize: ${err}`);
    });
  env.barrier();
  if (env.user !== 0)
    st.dev.forEach((x, d) => {
      env.use(d);
      fd_open(env, x);
    });
}

/** QEMU's REQ handlers, one per device, run between calls. */
function answer_reqs(env: ScenarioEnv, st: UserState): void {
  st.dev.forEach((x, d) => {
    env.use(d);
    answer_req(env, x);
  });
}

/** Calls that go to a device FD. */
function needs_fd(op: string): boolean {
  const g = call_spec(op).group;
  return g === 'region' || g === 'ioctl';
}

function need_core(x: UserFds): VfioCoreView {
  if (x.core === null) throw new Error('fuzz: an mdev lifecycle call in a run without params.lifecycle');
  return x.core;
}

/** Whether some program of the run closes an FD of device d (`closes_on` lists them with several devices; `closes` says it for one). */
function closes_on(params: UserArgs['params']): (d: number) => boolean {
  const on = typeof params.closes_on === 'string' ? (JSON.parse(params.closes_on) as number[]) : null;
  return (d) => (on === null ? params.closes === true : on.includes(d));
}

/** A call naming a device that does not exist: an FD call gets the answer of an FD never opened; nothing else can name one. */
function exec_missing(c: Call): number | null {
  const spec = call_spec(c.op);
  if (device_use(spec) !== 'fd' || c.op === 'close_fd') return null;
  const o: Ops = NO_DEVICE_OPS;
  if (c.op === 'open_fd') return o.open();
  if (spec.group === 'ioctl') return o.ioctl(0, null);
  return c.op.startsWith('read') ? o.read(null, 0, 0) : o.write(null, 0, 0);
}

/**
 * A throw unwinds past the spin_unlock of the section it left: the depth it leaves is the
 * harness's, and the next mutex_lock (vfio_device_open's open_lock) would report "sleeping
 * function called ... with 1 spinlock(s) held", which no kernel path does. A BUG() oopses the
 * task: it never makes another call, and its exit (do_exit, kernel/exit.c: "exited with
 * preempt_count", then preempt_count_set) runs with the count reset. Any other exception out
 * of a spinlock section (`held` > 0) is an oops in atomic context too: the task dies, and the
 * locks it held stay held (die() releases none), so the user stops as well.
 */
export function after_throw(e: unknown, held = 0): 'stop' | 'next' {
  reset_context();
  return e instanceof KernelBug || held > 0 ? 'stop' : 'next';
}

const FCTL = [SCSW_FCTL_START_FUNC, SCSW_FCTL_HALT_FUNC, SCSW_FCTL_CLEAR_FUNC, 0];

/**
 * Each user lays its programs in its own slice of guest memory: users are separate guest CPUs
 * with separate buffers, and two of them writing one page would be the harness's race.
 */
function guest_slice(env: ScenarioEnv): GuestAlloc {
  const pages = Math.floor((GUEST_MEM_END - GUEST_MEM_START) / 0x1000 / env.args.users);
  const start = GUEST_MEM_START + env.user * pages * 0x1000;
  return new GuestAlloc(start, start + pages * 0x1000);
}

function io_program(env: ScenarioEnv, st: UserState, k: number): Uint8Array {
  const pf = env.f.cp_rules.reject_no_pfch;
  const pages = Math.max(1, Math.min(4, (st.mem.end - st.mem.start) / 0x1000 - 1));
  const specs: Record<(typeof IO_PROGRAMS)[number], () => ProgramSpec | null> = {
    dasd1: () => dasd_read({ blocks: 1 }),
    dasd4: () => dasd_read({ blocks: 4, data_pages: pages }),
    dasd16: () => dasd_read({ blocks: 16, data_pages: pages }),
    sense: () => sense_id(pf ? { pfch: true } : {}),
    nopfch: () => dasd_read({ blocks: 2, pfch: false, data_pages: Math.min(2, pages) }),
    badccw: () => null,
    tm: () => null,
    pci: () => dasd_read({ blocks: 4, pci: true, data_pages: pages }),
  };
  const name = IO_PROGRAMS[Math.abs(k) % IO_PROGRAMS.length]!;
  const spec = specs[name]();
  st.mem.reset();
  const prog = spec !== null ? place(spec, st.mem) : null;
  if (prog !== null) load_program(env.mem, prog);
  // badccw: a channel program address past guest memory; tm: a transport-mode ORB
  const orb = prog !== null ? prog.orb : make_orb(name === 'badccw' ? GUEST_MEM_END + 0x1000 : st.mem.start);
  if (name === 'tm') orb.flags = (orb.flags | ORB_TM_B) >>> 0;
  const region = new Uint8Array(IO_REGION_SIZE);
  orb_write(new DataView(region.buffer), 0, orb);
  return region;
}

/** A user buffer of `count` bytes holding `src` from `pos` (zero past its end), or null for a fault. */
function user_buf(src: Uint8Array, pos: number, count: number, fault: number): Uint8Array | null {
  if (fault !== 0) return null;
  const b = new Uint8Array(Math.max(0, count));
  b.set(src.subarray(Math.min(pos, src.length), Math.min(pos + count, src.length)));
  return b;
}

function ioctl_buf(words: number[], len: number, fault: number): Uint8Array | null {
  if (fault !== 0) return null;
  const b = new Uint8Array(len);
  const d = new DataView(b.buffer);
  words.forEach((w, i) => d.setUint32(i * 4, w >>> 0));
  return b;
}

/** Run one call; its answer, or null when it has none to judge. */
function exec_call(env: ScenarioEnv, st: UserState, c: Call, d: number): number | null {
  const ops = env.client.ops;
  const dv = st.dev[d]!;
  const a = c.a;
  const f = env.f;
  const at = (i: number): number => a[i] ?? 0;
  const region = (): { off: number; count: number } => ({ off: region_offset(f, at(0), at(1)), count: Math.max(0, at(2)) });
  switch (c.op) {
    case 'read_io':
    case 'read_async':
    case 'read_schib':
    case 'read_crw': {
      const { off, count } = region();
      return ops.read(at(3) !== 0 ? null : new Uint8Array(count), count, off);
    }
    case 'write_io': {
      const { off, count } = region();
      const reg = io_program(env, st, at(5));
      new DataView(reg.buffer).setUint32(IO_SCSW, scsw_word0({ fctl: FCTL[at(4) & 3]! }) >>> 0);
      return ops.write(user_buf(reg, at(1), count, at(3)), count, off);
    }
    case 'write_async': {
      const { off, count } = region();
      const reg = new Uint8Array(REGION_SIZES[1]);
      new DataView(reg.buffer).setUint32(0, at(4) >>> 0);
      return ops.write(user_buf(reg, at(1), count, at(3)), count, off);
    }
    case 'write_schib':
    case 'write_crw': {
      const { off, count } = region();
      return ops.write(user_buf(new Uint8Array(0), 0, count, at(3)), count, off);
    }
    case 'get_info':
      return ops.ioctl(VFIO_DEVICE_GET_INFO, ioctl_buf([at(0)], 16, at(1)));
    case 'get_region_info':
      return ops.ioctl(VFIO_DEVICE_GET_REGION_INFO, ioctl_buf([at(0), 0, at(1)], Math.max(32, Math.min(at(0), 128)), at(2)));
    case 'get_irq_info':
      return ops.ioctl(VFIO_DEVICE_GET_IRQ_INFO, ioctl_buf([at(0), 0, at(1)], 16, at(2)));
    case 'set_irqs': {
      const data = at(5);
      const fd = data < 4 ? (st.efd[data] ?? 31 - data) : data === 4 ? -1 : -2;
      const b = ioctl_buf([at(0), at(1), at(2), at(3), at(4), (at(1) & 7) === 2 ? 0x01000000 : fd], 24, 0);
      const rc = ops.ioctl(VFIO_DEVICE_SET_IRQS, b);
      if (rc === 0 && fd >= 0) st.installed.add(fd);
      // the REQ eventfd this user will answer (QEMU's req notifier)
      if (rc === 0 && at(2) === VFIO_CCW_REQ_IRQ_INDEX && (at(1) & 7) === 4) dv.req_slot = data < 4 && st.efd[data] !== null ? data : null;
      return rc;
    }
    case 'reset':
      return ops.ioctl(VFIO_DEVICE_RESET, null);
    case 'bad_ioctl':
      return ops.ioctl(at(0), new Uint8Array(32));
    case 'efd_create': {
      const s = at(0) & 3;
      if (st.efd[s] !== null) return null;
      const fd = eventfd_create(env.ctx.g);
      if (fd < 0) return null;
      const x = eventfd_ctx_fdget(env.ctx.g, fd);
      st.efd[s] = fd;
      st.ctx[s] = typeof x === 'number' ? null : x;
      return null;
    }
    case 'efd_close': {
      const s = at(0) & 3;
      const fd = st.efd[s];
      if (fd === null || fd === undefined || st.installed.has(fd)) return null;
      eventfd_close(env.ctx.g, fd);
      st.efd[s] = null;
      st.ctx[s] = null;
      return null;
    }
    case 'efd_signal': {
      const x = st.ctx[at(0) & 3];
      if (x !== null && x !== undefined) eventfd_signal(x, 'fuzz_user');
      return null;
    }
    case 'efd_read': {
      const x = st.ctx[at(0) & 3];
      if (x !== null && x !== undefined) eventfd_try_read(x, 'fuzz_user');
      return null;
    }
    case 'open_fd':
      return fd_open(env, dv);
    case 'close_fd':
      // the user keeps one FD per device: the calls need a device to go to
      if (dv.fds > 1) fd_release(env, dv);
      return null;
    case 'dma_unmap':
      // no FD open here: the container's unmap tells no device of this user's
      if (dv.core !== null && dv.fds === 0) return null;
      return entry(ENTRY.dma_unmap, () => vfio_ccw_dma_unmap(env.p, at(0), at(1)));
    case 'mdev_probe':
      return mdev_create(env.p, need_core(dv));
    case 'mdev_remove': {
      // an admin unplugs its own guest's device first (libvirt: detach, then destroy the mdev)
      fd_unplug(env, dv);
      // the other users close when their programs end (at the deadline at the latest): wait past it
      const end = env.args.deadline + 10_000;
      const r = mdev_remove(env.p, need_core(dv), (i) => i < UNREGISTER_ROUNDS || performance.timeOrigin + clock.now_ms() < end);
      if (!r.closed) env.check('fuzz.lifecycle:mdev_remove-waits', false, `mdev_remove: device FDs still open after ${UNREGISTER_ROUNDS} or more rounds of request + HZ * 10, 10 s past the run's deadline (the kernel waits for ever) (state ${env.state_name()})`);
      return r.rc;
    }
    case 'hw_unsolicited':
      env.hw({ op: 'unsolicited', dstat: at(0) & 0xff });
      return null;
    case 'hw_path': {
      const ev = [HwPathEvent.vary_off, HwPathEvent.vary_on, HwPathEvent.offline, HwPathEvent.online][at(0) & 3]!;
      env.hw({ op: 'path', event: ev, chpid: at(1) & 7 });
      return null;
    }
    case 'hw_gone':
      env.hw({ op: 'gone' });
      return null;
    case 'hw_back':
      env.hw({ op: 'back' });
      return null;
    default:
      throw new Error(`fuzz: unknown call ${c.op}`);
  }
}
