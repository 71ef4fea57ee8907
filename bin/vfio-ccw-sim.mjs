#!/usr/bin/env node
// Entry of the vfio-ccw-sim command: the CLI built at install if it matches the sources, else the
// TypeScript sources through tsx (bin/dist.mjs decides), then run it. A signal while the code
// loads is caught here and handed to the command, which then reports that nothing ran.
const STOP = ['SIGINT', 'SIGTERM', 'SIGHUP'];
let first = null;
const catch_early = (sig) => void (first ??= sig);
for (const s of STOP) process.on(s, catch_early);
// a handshake for tests: the early catch is in
if (process.env.VFIO_CCW_SIM_ENTRY_READY_FILE) (await import('node:fs')).writeFileSync(process.env.VFIO_CCW_SIM_ENTRY_READY_FILE, String(process.pid));
const early = () => {
  for (const s of STOP) process.off(s, catch_early);
  return first;
};
const { load } = await import('./dist.mjs');
const { main } = await load('tools/cli.ts');
process.exitCode = await main(process.argv.slice(2), undefined, early);
