// Thin entry of an actor worker started from the sources: the built body if it matches them, else the sources through tsx.
import { load } from '../bin/dist.mjs';
await load('src/runtime/actor-worker.ts');
