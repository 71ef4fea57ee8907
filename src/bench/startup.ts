// bench startup: whole processes of the tool beside a bare Node process that starts the same
// number of empty .mjs worker threads and stays up as long as the run's own work (the stress
// duration), measured alternately in the same run.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../runtime/root.ts';

const BIN = new URL('bin/vfio-ccw-sim.mjs', ROOT);

/**
 * Elapsed ms of one child process; rejects if it exits with a code outside `ok`, or, given
 * `writes`, if it did not write that file (a tool's report: exit 1 is also a finding).
 */
export function time_process(args: string[], env: Record<string, string>, ok: readonly number[], writes?: string): Promise<number> {
  if (writes !== undefined) rmSync(writes, { force: true });
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const c = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
    let err = '';
    c.stderr.on('data', (d: Buffer) => (err += String(d)));
    c.on('error', reject);
    c.on('exit', (code) => {
      const ms = performance.now() - t;
      if (code !== null && ok.includes(code) && (writes === undefined || existsSync(writes))) resolve(ms);
      else reject(new Error(`${args.slice(1).join(' ')}: exit ${code}: ${err.split('\n')[0]}`));
    });
  });
}

/** A directory holding the bare baseline: `bare.mjs <workers> <ms>` and the empty worker. */
export function bare_dir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vfio-ccw-sim-bare-'));
  writeFileSync(join(dir, 'empty.mjs'), '');
  writeFileSync(
    join(dir, 'bare.mjs'),
    [
      "import { Worker } from 'node:worker_threads';",
      'const [n, ms] = process.argv.slice(2).map(Number);',
      "await Promise.all(Array.from({ length: n }, () => new Promise((ok, bad) => { const w = new Worker(new URL('./empty.mjs', import.meta.url)); w.on('error', bad); w.on('exit', ok); })));",
      'if (ms > 0) await new Promise((ok) => setTimeout(ok, ms));',
      '',
    ].join('\n'),
  );
  return dir;
}

export interface StartupCase {
  name: string;
  args: string[];
  /** worker threads the tool starts (the bare process starts as many) */
  workers: number;
  /** the run's own work time (the bare process stays up as long) */
  work_ms: number;
}

export const bin_path = (): string => BIN.pathname;
