// comlink's Node adapter, typed (the package ships no .d.mts for it).
import type { MessagePort, Worker } from 'node:worker_threads';
import type { Endpoint } from 'comlink';
// @ts-expect-error: the .mjs adapter has no declaration file NodeNext can find
import adapter from 'comlink/dist/esm/node-adapter.mjs';

export const nodeEndpoint = adapter as (p: MessagePort | Worker) => Endpoint;
