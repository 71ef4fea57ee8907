// What a program running on an actor sees: its actor, the global buffer and the others.
import type { Actor } from '../kernel/current.ts';
import type { SharedBuf } from '../kernel/layout.ts';

export interface ProgramCtx {
  actor: Actor;
  g: SharedBuf;
  /** shared buffers by index (1.. for devices and test areas) */
  bufs: Map<number, SharedBuf>;
}

export type Program<A = unknown, R = unknown> = (ctx: ProgramCtx, args: A) => R;

export function buf(ctx: ProgramCtx, index: number): SharedBuf {
  const b = ctx.bufs.get(index);
  if (b === undefined) throw new Error(`no shared buffer ${index} on actor ${ctx.actor.id}`);
  return b;
}
