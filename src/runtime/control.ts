// The control plane between main and the long-lived actor workers (comlink). Never per I/O.
import type { ActorKind } from '../kernel/current.ts';

export interface ActorInit {
  /** the global buffer (index 0) */
  global: SharedArrayBuffer;
  /** other shared buffers, with their indexes */
  bufs: { index: number; sab: SharedArrayBuffer }[];
  actorId: number;
  kind: ActorKind;
  name: string;
}

/** A program an actor runs: an exported function `fn(ctx, args)` of module `module` (a file URL). */
export interface ProgramRef {
  module: string;
  fn: string;
}

export interface RunResult {
  ok: boolean;
  value?: unknown;
  error?: { name: string; message: string; stack?: string };
}

/** What each actor worker exposes through comlink. */
export interface ActorApi {
  init(init: ActorInit): void;
  /** Load modules ahead of a run, so start-up cost stays out of measurements. */
  preload(modules: string[]): Promise<void>;
  run(prog: ProgramRef, args: unknown): Promise<RunResult>;
}
