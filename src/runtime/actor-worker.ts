// Body of every actor worker thread: binds the thread to its actor and runs programs.
import { parentPort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { nodeEndpoint } from './comlink-node.ts';
import { import_user } from './user-module.ts';
import { reset_context, set_current } from '../kernel/current.ts';
import { wrapBuf, type SharedBuf } from '../kernel/layout.ts';
import type { ActorApi, ActorInit, ProgramRef, RunReply, RunRequest, RunResult } from './control.ts';
import type { Program, ProgramCtx } from './context.ts';

let ctx: ProgramCtx | null = null;
const modules = new Map<string, Record<string, unknown>>();

async function load(url: string): Promise<Record<string, unknown>> {
  let m = modules.get(url);
  if (m === undefined) {
    m = await import_user(url);
    modules.set(url, m);
  }
  return m;
}

const api: ActorApi = {
  init(init: ActorInit) {
    const g = wrapBuf(0, init.global);
    const bufs = new Map<number, SharedBuf>();
    for (const b of init.bufs) bufs.set(b.index, wrapBuf(b.index, b.sab));
    const actor = set_current(g, init.actorId, init.kind, init.name);
    ctx = { actor, g, bufs };
    const port = init.runs;
    port.on('message', (m: RunRequest) => {
      // A module already loaded (every run after the first): run it and answer at once, with no
      // promise and no microtask turn between the request and the reply.
      const mod = modules.get(m.prog.module);
      if (mod !== undefined) return void port.postMessage({ id: m.id, result: run_in(mod, m.prog, m.args) } satisfies RunReply);
      void api.run(m.prog, m.args).then((result) => port.postMessage({ id: m.id, result } satisfies RunReply));
    });
  },
  async preload(urls: string[]) {
    for (const u of urls) await load(u);
  },
  async run(prog: ProgramRef, args: unknown): Promise<RunResult> {
    if (ctx === null) return NOT_INIT;
    try {
      return run_in(await load(prog.module), prog, args);
    } catch (e) {
      return failed(e);
    }
  },
};

/** Run program `prog.fn` of the loaded module `m` as this actor. */
function run_in(m: Record<string, unknown>, prog: ProgramRef, args: unknown): RunResult {
  if (ctx === null) return NOT_INIT;
  reset_context();
  try {
    const fn = m[prog.fn];
    if (typeof fn !== 'function') throw new Error(`${prog.module} has no program ${prog.fn}`);
    const value = (fn as Program)(ctx, args);
    return { ok: true, value };
  } catch (e) {
    return failed(e);
  }
}

const NOT_INIT: RunResult = { ok: false, error: { name: 'Error', message: 'actor not initialised' } };

function failed(e: unknown): RunResult {
  const err = e instanceof Error ? e : new Error(String(e));
  return { ok: false, error: { name: err.name, message: err.message, stack: err.stack } };
}

if (parentPort === null) throw new Error('actor-worker must run in a worker thread');
Comlink.expose(api, nodeEndpoint(parentPort));
