// The command as a user (or CI) runs it: a child process, its exit code, its two streams, and
// what it leaves behind.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';

export const BIN = new URL('../../bin/vfio-ccw-sim.mjs', import.meta.url).pathname;
export const ROOT = new URL('../..', import.meta.url).pathname;

export interface Ran {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  pid: number;
}

export const tmp = (): string => mkdtempSync(join(tmpdir(), 'vfio-ccw-sim-'));

/** Run the command to its end (bounded by `timeout`). */
export function cli(args: string[], o: { cwd?: string; timeout?: number; env?: Record<string, string> } = {}): Ran {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: o.timeout ?? 180_000, cwd: o.cwd ?? ROOT, env: { ...process.env, ...o.env } });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, pid: r.pid ?? -1 };
}

/** stderr is exactly one line, with no stack trace in it; returns that line. */
export function oneLine(r: Ran): string {
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  return lines[0]!;
}

/** No process the command started is still there (worker threads die with it; this checks for child processes too). */
export function noLeftover(pid: number): void {
  const ps = spawnSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' });
  expect(ps.stdout.trim(), `children of ${pid} left running`).toBe('');
  const self = spawnSync('ps', ['-o', 'pid=', '-p', String(pid)], { encoding: 'utf8' });
  expect(self.stdout.trim(), `process ${pid} still running`).toBe('');
}

export const readJson = <T = Record<string, unknown>>(f: string): T => {
  expect(existsSync(f), `${f} was written`).toBe(true);
  return JSON.parse(readFileSync(f, 'utf8')) as T;
};

/**
 * Start the command, wait until `ready` says it is at the point to interrupt (a handshake on its
 * output or on the ready file main writes once its signal handlers are in), send `sig`, and
 * collect the end. Every wait is bounded.
 */
export async function interrupt(args: string[], sig: NodeJS.Signals, ready: { out?: RegExp; err?: RegExp; readyFile?: boolean | 'entry' }, bound_ms = 120_000): Promise<Ran> {
  const d = tmp();
  const readyFile = join(d, 'ready');
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...(ready.readyFile === true ? { VFIO_CCW_SIM_READY_FILE: readyFile } : ready.readyFile === 'entry' ? { VFIO_CCW_SIM_ENTRY_READY_FILE: readyFile } : {}) } });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('exit', (code, signal) => res({ code, signal })));
  await new Promise<void>((res, rej) => {
    const t = setTimeout(() => rej(new Error(`not ready within ${bound_ms} ms: ${stdout} ${stderr}`)), bound_ms);
    const check = (): void => {
      if ((ready.out !== undefined && ready.out.test(stdout)) || (ready.err !== undefined && ready.err.test(stderr))) {
        clearTimeout(t);
        res();
      }
    };
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
      check();
    });
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
      check();
    });
    if (ready.readyFile !== undefined && ready.readyFile !== false) {
      // the file appears once main (or, with 'entry', the entry's early catch) has its handlers in: poll for it (bounded by the timer above)
      const poll = setInterval(() => {
        if (existsSync(readyFile)) {
          clearInterval(poll);
          clearTimeout(t);
          res();
        }
      }, 5);
      void exited.then(() => clearInterval(poll));
    }
    void exited.then(() => rej(new Error(`exited before it was ready: ${stdout} ${stderr}`)));
  });
  child.kill(sig);
  const bound = setTimeout(() => child.kill('SIGKILL'), bound_ms);
  const end = await exited;
  clearTimeout(bound);
  // drain what is left in the pipes
  await new Promise((res) => setImmediate(res));
  return { status: end.code, signal: end.signal, stdout, stderr, pid: child.pid ?? -1 };
}
