// What a scenario's user program sees on its worker: the device, a QEMU-like client, guest
// memory, the machine's command mailbox, and barriers with the other users.
import { clock, eventfd_stats, fault_active, fault_injected, peek, ScenarioFlags, user_barrier } from '../kernel/index.ts';
import { hw_cmd, type HwCommand } from '../hw/mailbox.ts';
import { hw_wait_running } from '../hw/engine.ts';
import { Rng } from '../hw/prng.ts';
import { VfioCcwClient, bind_ops, GuestAlloc, load_program, place, type GuestMem, type GuestProgram, type ProgramSpec } from '../client/index.ts';
import { guest_write } from '../vfio/guest.ts';
import type { VfioCcwPrivate } from '../driver/private.ts';
import type { ProgramCtx } from '../runtime/context.ts';
import { as_actor, system_of, type DetectArgs } from '../system/actors.ts';
import type { System } from '../system/device.ts';

export interface UserArgs {
  variant: string;
  detect: DetectArgs;
  sched?: boolean;
  user: number;
  users: number;
  seed: number;
  /** I/O cycles to run (scenarios that loop); the deadline may end them first */
  iterations: number;
  /** absolute ms (performance.timeOrigin + now) after which loops stop */
  deadline: number;
  /** free-form scenario parameters */
  params: Record<string, number | string | boolean>;
  /** subchannels in the run (1 when absent) */
  devices?: number;
}

/** One device as a user drives it: the driver's private, QEMU's client, its guest memory. */
interface DeviceHandles {
  readonly p: VfioCcwPrivate;
  readonly client: VfioCcwClient;
  readonly mem: GuestMem;
  readonly alloc: GuestAlloc;
}

/**
 * The devices user `user` of `users` drives when a scenario spreads its users over `devices`:
 * every users-th device from its own number, or one device shared round-robin when there are more
 * users than devices.
 */
export function devices_of(user: number, users: number, devices: number): number[] {
  if (users >= devices) return [user % devices];
  const out: number[] = [];
  for (let d = user; d < devices; d += users) out.push(d);
  return out;
}

/**
 * Flag word set (before the users' first barrier) when user 0's realize failed under an injected
 * failure: the scenario stops on every user. Scenarios use words 0 … 13 for their own flags.
 */
export const F_FAULT_STOP = 14;

/** One check a scenario makes; failed checks become findings. */
export interface Check {
  id: string;
  ok: boolean;
  message: string;
}

export interface UserResult {
  counters: Record<string, number>;
  checks: Check[];
  not_applicable: string[];
  notes: string[];
}

export class ScenarioEnv {
  readonly sys: System;
  private cur: DeviceHandles;
  private readonly handles = new Map<number, DeviceHandles>();
  readonly rng: Rng;
  readonly flags: ScenarioFlags;
  private readonly stop_flag: ScenarioFlags;
  readonly result: UserResult = { counters: {}, checks: [], not_applicable: [], notes: [] };
  /** a failure was injected into this user during its realize (e.g. a SET_IRQS whose eventfd lookup failed) */
  realize_faulted = false;

  constructor(
    readonly ctx: ProgramCtx,
    readonly args: UserArgs,
  ) {
    this.sys = system_of(ctx, args.variant);
    this.cur = this.handles_of(0);
    this.rng = new Rng(args.seed ^ (args.user * 0x9e3779b1));
    this.flags = new ScenarioFlags(this.sys.sys.flags);
    this.stop_flag = new ScenarioFlags(this.sys.sys.stop);
  }

  private handles_of(dev: number): DeviceHandles {
    const have = this.handles.get(dev);
    if (have !== undefined) return have;
    const p = this.sys.devs[dev];
    if (p === undefined) throw new Error(`no device ${dev}`);
    // Kernels that reject an ORB without prefetch (v4.12 … ≈v5.6) were run with QEMU's force-orb-pfch=on.
    const client = new VfioCcwClient(bind_ops(p), this.ctx.g, { force_orb_pfch: p.drv.f.cp_rules.reject_no_pfch });
    const gm = this.sys.guests[dev]!;
    const h: DeviceHandles = { p, client, mem: { write: (iova, bytes) => guest_write(gm, iova, bytes, 'guest') }, alloc: new GuestAlloc() };
    this.handles.set(dev, h);
    return h;
  }

  /** The device the calls below act on (device 0 unless the scenario chose another with use()). */
  get p(): VfioCcwPrivate {
    return this.cur.p;
  }
  get client(): VfioCcwClient {
    return this.cur.client;
  }
  get mem(): GuestMem {
    return this.cur.mem;
  }
  get alloc(): GuestAlloc {
    return this.cur.alloc;
  }

  /** Subchannels in the run. */
  get devices(): number {
    return this.args.devices ?? 1;
  }
  /** The devices this user drives when the scenario spreads its users over them (devices_of). */
  my_devices(): number[] {
    return devices_of(this.args.user, this.args.users, this.devices);
  }
  /** Act on device `dev` from now on (each device keeps its own client and guest memory). */
  use(dev: number): void {
    this.cur = this.handles_of(dev);
  }
  /** Every client this user opened, for its counters. */
  clients(): VfioCcwClient[] {
    return [...this.handles.values()].map((h) => h.client);
  }

  get user(): number {
    return this.args.user;
  }
  get f() {
    return this.p.drv.f;
  }

  /** Lay a channel program into guest memory (a fresh place each time, recycling the space). */
  program(spec: ProgramSpec): GuestProgram {
    this.alloc.reset();
    const prog = place(spec, this.alloc);
    load_program(this.mem, prog);
    return prog;
  }

  /**
   * Realize the device as QEMU does and check that it worked (`<id>.realize`). A realize that
   * failed because of an injected failure (in this call, or in the css probe, which leaves no
   * device to open) is the kernel's answer to it: a note, and the caller stops on !ok.
   */
  realize(id: string): ReturnType<VfioCcwClient['realize']> {
    const { r, excused } = this.realize_or_excuse(id);
    if (excused) this.set_flag(F_FAULT_STOP, 1);
    else this.check(`${id}.realize`, r.ok, r.error ?? 'realized');
    return r;
  }

  /**
   * Realize; `excused` when it failed because of an injected failure, in this call or in the css
   * probe (which leaves no device to open). That is the kernel's answer: a note, no check.
   */
  realize_or_excuse(id: string): { r: ReturnType<VfioCcwClient['realize']>; excused: boolean } {
    const { v: r, fault } = this.faulted(() => this.client.realize());
    this.realize_faulted = fault;
    const unprobed = fault_active() && peek(this.p.sch.d.driver) === 0;
    const excused = !r.ok && (fault || unprobed);
    if (excused) {
      this.count('fault.realize_failed');
      this.note(`${id}: realize failed after an injected ${unprobed ? 'probe' : 'realize'} failure (${r.error}); the scenario stops`);
    }
    return { r, excused };
  }

  /**
   * The scenario stopped because user 0's realize failed under an injected failure. Read after
   * the first barrier (which orders it after the write) without a schedule point, so a run
   * without injection schedules exactly as before.
   */
  fault_stopped(): boolean {
    return this.flags.peek(F_FAULT_STOP) !== 0;
  }

  /** Failures injected into this user so far (kernel/fault.ts; always 0 without injection). */
  faults(): number {
    return fault_injected();
  }

  /**
   * Run one call and report whether a failure was injected into this user during it. Only then
   * may a check on the call's answer take an error for the kernel's answer to that failure.
   */
  faulted<T>(call: () => T): { v: T; fault: boolean } {
    const f0 = fault_injected();
    const v = call();
    return { v, fault: fault_injected() > f0 };
  }

  /**
   * A check on a call's answer. `excused`: a failure injected into that very call accounts for
   * the answer (the failed call took the kernel's error path, so its errno is the kernel's
   * correct answer) and whatever must hold anyway held; the caller computes it from faulted().
   * An excused failure becomes a note; any other failure stays a finding.
   */
  check_answer(id: string, ok: boolean, excused: boolean, message: string, always = true): void {
    if (!ok && excused) {
      // counted, and noted once per check: a loop may be excused many times
      const n = this.result.counters[`excused.${id}`] ?? 0;
      this.count(`excused.${id}`);
      if (n === 0) this.note(`${id}: ${message} (the kernel's answer to an injected failure)`);
      return;
    }
    if (always || !ok) this.check(id, ok, message);
  }

  /** Post a command to the machine and wait (bounded) for its acknowledgement. */
  hw(cmd: HwCommand): number {
    return hw_cmd(this.p.sch.hw, cmd);
  }

  wait_hw_running(): boolean {
    return hw_wait_running(this.sys.css, 10_000);
  }

  /** All users arrive before any leaves (bounded). */
  barrier(): void {
    user_barrier(this.sys.sys.barrier, this.sys.sys.barrier_gen, this.args.users);
  }

  /** Scenario flag words shared by the users (marked accesses; kernel/scenario-sync.ts). */
  flag(i: number): number {
    return this.flags.get(i);
  }
  set_flag(i: number, v: number): void {
    this.flags.set(i, v);
  }
  add_flag(i: number, d: number): void {
    this.flags.add(i, d);
  }

  /**
   * Plain, unsynchronised access to flag word i, as C code would read and write a shared int:
   * a schedule point and an access every detector sees (so users can model their own races).
   */
  word(i: number): number {
    return this.flags.word(i);
  }
  set_word(i: number, v: number): void {
    this.flags.set_word(i, v);
  }

  /** Wait (bounded) until flag i satisfies pred; false on timeout. */
  wait_flag(i: number, pred: (v: number) => boolean, ms = 10_000): boolean {
    return this.flags.wait(i, pred, ms);
  }

  /**
   * One pass of a polling loop (a client thread that reads regions until told to stop): where a
   * controlled schedule's default lets the other actors run, as a CPU scheduler would.
   */
  relax(): void {
    this.flags.relax();
  }

  /** The run was asked to stop (SysArea.stop): a marked read, as a flag's. */
  stop_requested(): boolean {
    return this.stop_flag.get(0) !== 0;
  }

  /** Loops run while this is true. */
  more(i: number): boolean {
    return i < this.args.iterations && performance.timeOrigin + clock.now_ms() < this.args.deadline && !this.stop_requested();
  }

  count(name: string, n = 1): void {
    this.result.counters[name] = (this.result.counters[name] ?? 0) + n;
  }
  check(id: string, ok: boolean, message: string): void {
    this.result.checks.push({ id, ok, message });
  }
  not_applicable(step: string): void {
    this.result.not_applicable.push(step);
  }
  note(s: string): void {
    this.result.notes.push(s);
  }

  state_name(): string {
    const s = peek(this.p.v.state);
    return this.p.drv.shape.states[s] ?? String(s);
  }

  eventfd_stats(fd: number) {
    return eventfd_stats(this.ctx.g, fd);
  }
}

/** Run a scenario body on this user worker with its detectors installed. */
export function run_user(ctx: ProgramCtx, args: UserArgs, body: (env: ScenarioEnv) => void): UserResult {
  const env = new ScenarioEnv(ctx, args);
  as_actor(env.sys, args, true, () => body(env));
  for (const client of env.clients()) {
    for (const [k, v] of Object.entries(client.counters)) if (typeof v === 'number') env.count(`client.${k}`, v);
    for (const [op, m] of Object.entries(client.counters.results)) for (const [rc, n] of Object.entries(m)) env.count(`client.${op}.${rc}`, n);
  }
  return env.result;
}
