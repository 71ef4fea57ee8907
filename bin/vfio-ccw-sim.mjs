#!/usr/bin/env node
// Entry of the vfio-ccw-sim command: the CLI built at install if it matches the sources, else the
// TypeScript sources through tsx (bin/dist.mjs decides), then run it.
import { load } from './dist.mjs';
const { main } = await load('tools/cli.ts');
process.exitCode = await main(process.argv.slice(2));
