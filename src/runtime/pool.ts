// Main side: long-lived actor workers, started once and reused across runs.
import { Worker } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { nodeEndpoint } from './comlink-node.ts';
import type { ActorKind } from '../kernel/current.ts';
import type { SharedBuf } from '../kernel/layout.ts';
import type { ActorApi, ProgramRef, RunResult } from './control.ts';

const ENTRY = new URL('../../workers/actor.mjs', import.meta.url);

export interface ActorSpec {
  id: number;
  kind: ActorKind;
  name: string;
}

export class ActorHandle {
  readonly api: Comlink.Remote<ActorApi>;
  constructor(
    readonly spec: ActorSpec,
    readonly worker: Worker,
  ) {
    this.api = Comlink.wrap<ActorApi>(nodeEndpoint(worker));
  }
}

export class ActorPool {
  readonly actors: ActorHandle[] = [];
  private closed = false;

  static async start(specs: ActorSpec[], g: SharedBuf, bufs: SharedBuf[], preload: string[] = []): Promise<ActorPool> {
    const pool = new ActorPool();
    for (const s of specs) {
      const w = new Worker(ENTRY, { name: s.name });
      w.unref();
      pool.actors.push(new ActorHandle(s, w));
    }
    await Promise.all(
      pool.actors.map(async (h) => {
        await h.api.init({ global: g.sab, bufs: bufs.map((b) => ({ index: b.index, sab: b.sab })), actorId: h.spec.id, kind: h.spec.kind, name: h.spec.name });
        if (preload.length > 0) await h.api.preload(preload);
      }),
    );
    return pool;
  }

  get(id: number): ActorHandle {
    const h = this.actors.find((a) => a.spec.id === id);
    if (h === undefined) throw new Error(`no actor ${id}`);
    return h;
  }

  run(id: number, prog: ProgramRef, args: unknown): Promise<RunResult> {
    return this.get(id).api.run(prog, args);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.actors.map((h) => h.worker.terminate()));
  }
}

/** A program reference in module `url` (usually `import.meta.url` of a programs file). */
export const prog = (module: string | URL, fn: string): ProgramRef => ({ module: String(module), fn });

/** Throw if a run failed, with the worker's error. */
export function unwrap<T>(r: RunResult): T {
  if (!r.ok) {
    const e = new Error(`${r.error?.name}: ${r.error?.message}`);
    if (r.error?.stack !== undefined) e.stack = r.error.stack;
    throw e;
  }
  return r.value as T;
}
