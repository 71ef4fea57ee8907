// What a scenario's user program sees on its worker: the device, a QEMU-like client, guest
// memory, the machine's command mailbox, and barriers with the other users.
import { backend, clock, current, eventfd_stats, H, hook, peek } from '../kernel/index.ts';
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
}

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
  readonly p: VfioCcwPrivate;
  readonly client: VfioCcwClient;
  readonly mem: GuestMem;
  readonly alloc = new GuestAlloc();
  readonly rng: Rng;
  readonly result: UserResult = { counters: {}, checks: [], not_applicable: [], notes: [] };

  constructor(
    readonly ctx: ProgramCtx,
    readonly args: UserArgs,
  ) {
    this.sys = system_of(ctx, args.variant);
    const p = this.sys.devs[0];
    if (p === undefined) throw new Error('no device');
    this.p = p;
    // Kernels that reject an ORB without prefetch (v4.12 … ≈v5.6) were run with QEMU's force-orb-pfch=on.
    this.client = new VfioCcwClient(bind_ops(p), ctx.g, { force_orb_pfch: p.drv.f.cp_rules.reject_no_pfch });
    const gm = this.sys.guests[0]!;
    this.mem = { write: (iova, bytes) => guest_write(gm, iova, bytes, 'guest') };
    this.rng = new Rng(args.seed ^ (args.user * 0x9e3779b1));
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

  /** Realize the device as QEMU does and check that it worked (`<id>.realize`). */
  realize(id: string): ReturnType<VfioCcwClient['realize']> {
    const r = this.client.realize();
    this.check(`${id}.realize`, r.ok, r.error ?? 'realized');
    return r;
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
    const b = this.sys.sys.barrier;
    const gen = this.sys.sys.barrier_gen;
    const g0 = Atomics.load(gen.a, gen.i);
    // The users' own synchronisation is real: the detectors see it as signal -> wake edges.
    if (hook !== null) hook(H.signal, gen.id, 'scenario_barrier', current.id, 1);
    if (Atomics.add(b.a, b.i, 1) + 1 === this.args.users) {
      Atomics.store(b.a, b.i, 0);
      Atomics.add(gen.a, gen.i, 1);
      backend.notify(gen.a, gen.i, Infinity, gen.id);
      if (hook !== null) hook(H.wake, gen.id, 'scenario_barrier', current.id, 1);
      return;
    }
    const end = clock.now_ms() + 20_000;
    while (Atomics.load(gen.a, gen.i) === g0) {
      if (clock.now_ms() > end) throw new Error('scenario barrier timed out');
      backend.wait(gen.a, gen.i, g0, 50, gen.id);
    }
    if (hook !== null) hook(H.wake, gen.id, 'scenario_barrier', current.id, 1);
  }

  /** Scenario flag words shared by the users. */
  flag(i: number): number {
    // A marked read every detector and the scheduler see (DPOR orders it with set_flag).
    if (hook !== null) hook(H.read_once, this.sys.sys.flags.id + i, 'scenario_flag', current.id, 4);
    return Atomics.load(this.sys.sys.flags.a, this.sys.sys.flags.i + i);
  }
  set_flag(i: number, v: number): void {
    if (hook !== null) hook(H.signal, this.sys.sys.flags.id + i, 'scenario_flag', current.id, 1);
    Atomics.store(this.sys.sys.flags.a, this.sys.sys.flags.i + i, v);
    backend.notify(this.sys.sys.flags.a, this.sys.sys.flags.i + i, Infinity, this.sys.sys.flags.id + i);
  }
  add_flag(i: number, d: number): void {
    if (hook !== null) hook(H.signal, this.sys.sys.flags.id + i, 'scenario_flag', current.id, 1);
    Atomics.add(this.sys.sys.flags.a, this.sys.sys.flags.i + i, d);
    backend.notify(this.sys.sys.flags.a, this.sys.sys.flags.i + i, Infinity, this.sys.sys.flags.id + i);
  }

  /**
   * Plain, unsynchronised access to flag word i, as C code would read and write a shared int:
   * a schedule point and an access every detector sees (so users can model their own races).
   */
  word(i: number): number {
    const f = this.sys.sys.flags;
    if (hook !== null) hook(H.read, f.id + i, 'scenario_word', current.id, 4);
    return f.a[f.i + i]!;
  }
  set_word(i: number, v: number): void {
    const f = this.sys.sys.flags;
    if (hook !== null) hook(H.write, f.id + i, 'scenario_word', current.id, 4);
    f.a[f.i + i] = v;
  }

  /** Wait (bounded) until flag i satisfies pred; false on timeout. */
  wait_flag(i: number, pred: (v: number) => boolean, ms = 10_000): boolean {
    const a = this.sys.sys.flags.a;
    const k = this.sys.sys.flags.i + i;
    const end = clock.now_ms() + ms;
    const key = this.sys.sys.flags.id + i;
    for (;;) {
      const v = Atomics.load(a, k);
      if (pred(v)) {
        if (hook !== null) hook(H.wake, key, 'scenario_flag', current.id, 1);
        return true;
      }
      const left = end - clock.now_ms();
      if (left <= 0) return false;
      backend.wait(a, k, v, Math.min(left, 50), key);
    }
  }

  /**
   * One pass of a polling loop (a client thread that reads regions until told to stop): where a
   * controlled schedule's default lets the other actors run, as a CPU scheduler would.
   */
  relax(): void {
    backend.relax(this.sys.sys.flags.id);
  }

  /** The run was asked to stop (SysArea.stop): a marked read, as a flag's. */
  stop_requested(): boolean {
    const s = this.sys.sys.stop;
    if (hook !== null) hook(H.read_once, s.id, 'scenario_flag', current.id, 4);
    return Atomics.load(s.a, s.i) !== 0;
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
  for (const [k, v] of Object.entries(env.client.counters)) if (typeof v === 'number') env.count(`client.${k}`, v);
  for (const [op, m] of Object.entries(env.client.counters.results)) for (const [rc, n] of Object.entries(m)) env.count(`client.${op}.${rc}`, n);
  return env.result;
}
