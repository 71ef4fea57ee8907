// The control plane between main and the long-lived actor workers. Never per I/O. comlink
// carries init and preload; runs, one or more per schedule, go over a port of their own as plain
// messages: comlink's proxies and ids cost about as much as the message itself (bench sched).
import type { MessagePort } from 'node:worker_threads';
import type { ActorKind } from '../kernel/current.ts';

export interface ActorInit {
  /** the global buffer (index 0) */
  global: SharedArrayBuffer;
  /** other shared buffers, with their indexes */
  bufs: { index: number; sab: SharedArrayBuffer }[];
  actorId: number;
  kind: ActorKind;
  name: string;
  /** the port runs come over: RunRequest in, RunReply out */
  runs: MessagePort;
}

export interface RunRequest {
  id: number;
  prog: ProgramRef;
  args: unknown;
}

export interface RunReply {
  id: number;
  result: RunResult;
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
