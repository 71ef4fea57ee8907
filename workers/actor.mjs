// Thin entry: let Node 20 load the TypeScript sources, then run the actor body.
import { register } from 'tsx/esm/api';
register();
await import('../src/runtime/actor-worker.ts');
