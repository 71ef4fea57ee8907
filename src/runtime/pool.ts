// Main side: long-lived actor workers, started once and reused across runs.
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { nodeEndpoint } from './comlink-node.ts';
import type { ActorKind } from '../kernel/current.ts';
import type { SharedBuf } from '../kernel/layout.ts';
import type { ActorApi, ProgramRef, RunReply, RunResult } from './control.ts';

const ENTRY = new URL('../../workers/actor.mjs', import.meta.url);

export interface ActorSpec {
  id: number;
  kind: ActorKind;
  name: string;
}

export class ActorHandle {
  readonly api: Comlink.Remote<ActorApi>;
  /** main's end of the run port (the worker gets the other end at init) */
  readonly runs: MessagePort;
  readonly worker_runs: MessagePort;
  private next = 0;
  private readonly pending = new Map<number, (r: RunResult) => void>();
  constructor(
    readonly spec: ActorSpec,
    readonly worker: Worker,
  ) {
    this.api = Comlink.wrap<ActorApi>(nodeEndpoint(worker));
    const ch = new MessageChannel();
    this.runs = ch.port1;
    this.worker_runs = ch.port2;
    this.runs.on('message', (m: RunReply) => {
      const done = this.pending.get(m.id);
      this.pending.delete(m.id);
      // like the worker itself (unref'd), the port keeps the process alive only while a run is out
      if (this.pending.size === 0) this.runs.unref();
      done?.(m.result);
    });
    this.runs.unref();
  }

  run(prog: ProgramRef, args: unknown): Promise<RunResult> {
    const id = this.next++;
    return new Promise<RunResult>((resolve) => {
      if (this.pending.size === 0) this.runs.ref();
      this.pending.set(id, resolve);
      this.runs.postMessage({ id, prog, args });
    });
  }

  close(): void {
    this.runs.close();
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
        const init = { global: g.sab, bufs: bufs.map((b) => ({ index: b.index, sab: b.sab })), actorId: h.spec.id, kind: h.spec.kind, name: h.spec.name, runs: h.worker_runs };
        await h.api.init(Comlink.transfer(init, [h.worker_runs]));
        if (preload.length > 0) await h.api.preload(preload);
      }),
    );
    return pool;
  }

  /** Load more modules in every actor (a scenario the pool did not start with). */
  async preload(modules: string[]): Promise<void> {
    await Promise.all(this.actors.map((h) => h.api.preload(modules)));
  }

  get(id: number): ActorHandle {
    const h = this.actors.find((a) => a.spec.id === id);
    if (h === undefined) throw new Error(`no actor ${id}`);
    return h;
  }

  run(id: number, prog: ProgramRef, args: unknown): Promise<RunResult> {
    return this.get(id).run(prog, args);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.actors.map((h) => h.worker.terminate()));
    for (const h of this.actors) h.close();
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
