#!/usr/bin/env node
// Entry of the vfio-ccw-sim command: let Node 20 load the TypeScript sources, then run the CLI.
import { register } from 'tsx/esm/api';
register();
const { main } = await import('../tools/cli.ts');
process.exitCode = await main(process.argv.slice(2));
