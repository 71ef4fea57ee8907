// The running actor ("current" and its CPU): thread-local in each worker, mirrored into
// its global actor slot so that the watchdog and the scheduler can see it.
import { ActorSlot, GLOBAL } from './global.ts';
import type { SharedBuf } from './layout.ts';

export const ActorKind = { main: 0, irq: 1, todo: 2, user: 3, test: 4 } as const;
export type ActorKind = (typeof ActorKind)[keyof typeof ActorKind];

export interface Actor {
  id: number;
  kind: ActorKind;
  name: string;
  /** this actor's value in a lock word it holds (lockword.ts) */
  lv: number;
  /** spinlocks held: sleeping is forbidden while > 0 */
  spinDepth: number;
  /** mutexes held (this thread's count only: an exception with one held ends the actor, as an oops ends the task) */
  mutexDepth: number;
  irqsOff: boolean;
  inIrq: boolean;
  /** word index of this actor's slot in the global buffer */
  slot: number;
  g: Int32Array;
}

const F = ActorSlot.fields;

/** The actor this thread plays. Main plays actor 0 until it calls set_current. */
export let current: Actor = makeActor(0, ActorKind.main, 'main', null);

function makeActor(id: number, kind: ActorKind, name: string, g: SharedBuf | null): Actor {
  return { id, kind, name, lv: (id + 1) << 1, spinDepth: 0, mutexDepth: 0, irqsOff: false, inIrq: false, slot: GLOBAL.actor(id), g: g?.i32 ?? new Int32Array(GLOBAL.words) };
}

/** Bind this thread to actor `id` of the global buffer. */
export function set_current(g: SharedBuf, id: number, kind: ActorKind, name: string): Actor {
  current = makeActor(id, kind, name, g);
  const s = current.slot;
  const a = current.g;
  a[s + F.kind.off] = kind + 1;
  a[s + F.spin_depth.off] = 0;
  a[s + F.irqs_off.off] = 0;
  a[s + F.in_irq.off] = 0;
  a[s + F.waiting_on.off] = 0;
  return current;
}

/**
 * A run starts with nothing held. A controlled run aborted at its step bound unwinds by an
 * exception from wherever the actor stood, often inside a spin_lock section with no finally: a
 * depth left from it would make the next run's first mutex_lock a "sleeping function called
 * from invalid context" no kernel path takes.
 */
export function reset_context(): void {
  const c = current;
  c.spinDepth = 0;
  c.mutexDepth = 0;
  c.irqsOff = false;
  c.inIrq = false;
  mirror_irq();
}

export function set_waiting(obj: number): void {
  current.g[current.slot + F.waiting_on.off] = obj;
}

export function count_wait(): void {
  const c = current;
  c.g[c.slot + F.waits.off]! += 1;
}

export function progress(): void {
  const c = current;
  c.g[c.slot + F.progress.off]! += 1;
}

export function mirror_irq(): void {
  const c = current;
  c.g[c.slot + F.spin_depth.off] = c.spinDepth;
  c.g[c.slot + F.irqs_off.off] = c.irqsOff ? 1 : 0;
  c.g[c.slot + F.in_irq.off] = c.inIrq ? 1 : 0;
}

/** Snapshot of every actor slot, for hang reports (readable from any thread). */
export interface ActorView { id: number; kind: number; spinDepth: number; irqsOff: boolean; inIrq: boolean; waitingOn: number; progress: number; waits: number }

export function read_actors(g: SharedBuf): ActorView[] {
  const out: ActorView[] = [];
  for (let id = 0; id < 16; id++) {
    const s = GLOBAL.actor(id);
    const a = g.i32;
    const kind = a[s + F.kind.off] ?? 0;
    if (kind === 0) continue;
    out.push({
      id,
      kind: kind - 1,
      spinDepth: a[s + F.spin_depth.off] ?? 0,
      irqsOff: (a[s + F.irqs_off.off] ?? 0) !== 0,
      inIrq: (a[s + F.in_irq.off] ?? 0) !== 0,
      waitingOn: a[s + F.waiting_on.off] ?? 0,
      progress: a[s + F.progress.off] ?? 0,
      waits: a[s + F.waits.off] ?? 0,
    });
  }
  return out;
}
