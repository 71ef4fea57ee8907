// S9: CRW storm: user 1 plays the machine's path events:
// offline/online flapping over eight CHPIDs; user 0 is QEMU running DASD reads and draining the
// CRW region whenever its eventfd is set. Only the subchannel's own CHPID (0x40, the machine's
// single installed path) reaches this driver; events for the other seven are delivered to it
// with an empty path mask and must queue nothing.
import { CRW_ERC_INIT, CRW_ERC_PERRN, CRW_RSC_CPATH } from '../driver/drv.ts';
import { dasd_read } from '../client/guest.ts';
import { HwPathEvent } from '../hw/mailbox.ts';
import { Rng, mix } from '../hw/prng.ts';
import type { ProgramCtx } from '../runtime/context.ts';
import { type ScenarioEnv, type UserArgs, type UserResult } from './env.ts';
import type { Scenario } from './types.ts';
import { MACHINE_CHPID, cp_clean, crw_word, drain_io, expect, guest_io, state, two_users } from './lib/index.ts';

export const scenario: Scenario = {
  id: 'S9',
  slug: 'crw-storm',
  title: 'CRW storm',
  module: import.meta.url,
  users: { min: 2, default: 2 },
  /** path events (the spec's storm: 200 in about a second) */
  iterations: 200,
  hw: { start_latency_us: [50, 2000] },
  requires: (f) => (f.chp_event && f.irqs >= 2 && f.regions === 'io+async+schib+crw' ? null : 'no channel-path events, CRW region or CRW irq before v5.8'),
};

const F_EVENTS_DONE = 0;
const F_GUEST_DONE = 1;
const OWN_CHPID = MACHINE_CHPID;

interface PathEvent {
  chpid: number;
  event: HwPathEvent;
}

/** The storm: a random CHPID of eight toggles at each step; every CHPID ends online. Same for both users (seeded). */
export function storm(seed: number, n: number): PathEvent[] {
  const rng = new Rng(mix(seed, 0x59, 0x53));
  const offline = new Set<number>();
  const out: PathEvent[] = [];
  while (out.length < n) {
    const chpid = OWN_CHPID + rng.range([0, 7]);
    const off = offline.has(chpid);
    out.push({ chpid, event: off ? HwPathEvent.online : HwPathEvent.offline });
    if (off) offline.delete(chpid);
    else offline.add(chpid);
  }
  for (const chpid of offline) out.push({ chpid, event: HwPathEvent.online });
  return out;
}

/** The CRWs the driver queues for the storm: one per event on its own CHPID, in order. */
function expected_crws(events: readonly PathEvent[]): number[] {
  return events
    .filter((e) => e.chpid === OWN_CHPID)
    .map((e) => crw_word(CRW_RSC_CPATH, e.event === HwPathEvent.offline ? CRW_ERC_PERRN : CRW_ERC_INIT, OWN_CHPID));
}

export function user(ctx: ProgramCtx, args: UserArgs): UserResult {
  return two_users(ctx, args, 'S9', { guest, other: machine });
}

function guest(env: ScenarioEnv): void {
  const c = env.client;
  const timeout_ms = Number(env.args.params.timeout_ms ?? 50);
  const want = expected_crws(storm(env.args.seed, env.args.iterations));
  const got: number[] = [];
  // DASD traffic while the storm lasts; a cc 3 (no path) waits for the next CRW
  let n = 0;
  while (env.flag(F_EVENTS_DONE) === 0 && !env.stop_requested()) {
    const io = guest_io(env, env.program(dasd_read({ blocks: env.rng.range([1, 16]) })).orb, timeout_ms);
    env.count(`io.${io.outcome}`);
    expect(env, 'S9.io-ends', io.outcome !== 'lost' && io.outcome !== 'pgm', `I/O ${n}: ${io.outcome}`);
    got.push(...(io.outcome === 'cc3' ? c.wait_crw(timeout_ms) : c.drain_crw()));
    n++;
  }
  // the rest of the CRWs (each handler pass reads until a zero word)
  for (let k = 0; got.length < want.length && k < 100; k++) got.push(...c.wait_crw(100));
  got.push(...c.drain_crw());
  drain_io(env);
  env.set_flag(F_GUEST_DONE, 1);

  const same = got.length === want.length && got.every((w, k) => w === want[k]);
  const hex = (a: number[]): string => a.slice(0, 12).map((w) => w.toString(16)).join(' ') + (a.length > 12 ? ' …' : '');
  env.check('S9.crw-fifo', same, `${got.length} CRWs read (want ${want.length}, in order): got ${hex(got)}; want ${hex(want)}`);
  const k = c.counters;
  const errs = Object.entries(k.results.crw_read).filter(([rc]) => rc !== 'ok');
  env.check(
    'S9.crw-zero-reads',
    errs.length === 0 && k.crw_reads === k.crws + k.crw_wakeups,
    `${k.crw_wakeups} CRW handler passes, ${k.crw_reads} reads, ${k.crws} CRWs (want reads = CRWs + one zero read per pass); errors ${JSON.stringify(errs)}`,
  );
  env.count('crw_extra_wakeups', k.crw_wakeups);
  const clean = cp_clean(env);
  env.check('S9.end-idle', state(env) === 'IDLE' && clean.ok, `state ${state(env)}; ${clean.message}`);
  c.unrealize();
}

function machine(env: ScenarioEnv): void {
  const gap_ms = Number(env.args.params.gap_ms ?? 1);
  for (const e of storm(env.args.seed, env.args.iterations)) {
    if (env.stop_requested()) break;
    env.hw({ op: 'path', event: e.event, chpid: e.chpid });
    env.count(e.chpid === OWN_CHPID ? 'events.own' : 'events.other');
    // the storm's pace (a duration, not a handshake)
    if (gap_ms > 0) env.wait_flag(F_GUEST_DONE, (v) => v !== 0, gap_ms);
  }
  env.set_flag(F_EVENTS_DONE, 1);
}
