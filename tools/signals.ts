// One signal policy for every command (stress, race, lockstat, and the check and fuzz commands
// to come): SIGINT, SIGTERM (what CI time-outs send) and SIGHUP all ask the run to stop, and the
// command still writes its report with result 'interrupted' (exit 4). A second signal gives up on
// the report: the kill hooks run (terminate workers) and the process exits at once with 4. Worker
// threads cannot outlive process.exit, so nothing is left behind either way.
import { EXIT } from './errors.ts';

export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

export interface Interrupt {
  /** the first signal received, or null */
  readonly signal: StopSignal | null;
  /** true once a signal arrived */
  stopped(): boolean;
  /** run fn on the first signal (at once if it came already); returns its removal */
  on(fn: () => void): () => void;
  /** run fn (synchronously) before a second signal exits the process */
  on_kill(fn: () => void): () => void;
  /** stop listening (the process' default action comes back) */
  dispose(): void;
  /** act on a signal that arrived before these handlers were installed (the entry's early catch) */
  raise(sig: StopSignal): void;
}

export interface SignalOptions {
  /** where the one-line notices go */
  err: (s: string) => void;
  /** how to exit on the second signal (tests replace it) */
  exit?: (code: number) => void;
  /** the process to listen on (tests replace it) */
  proc?: Pick<NodeJS.Process, 'on' | 'off'>;
}

export function handle_signals(o: SignalOptions): Interrupt {
  const proc = o.proc ?? process;
  const exit = o.exit ?? ((c: number) => process.exit(c));
  const stops = new Set<() => void>();
  const kills = new Set<() => void>();
  let first: StopSignal | null = null;
  const handlers = STOP_SIGNALS.map((sig) => {
    const h = (): void => {
      if (first !== null) {
        o.err(`vfio-ccw-sim: second ${sig}: exiting now, without the report`);
        for (const k of kills) {
          try {
            k();
          } catch {
            // exiting anyway: a failing hook must not keep the process alive
          }
        }
        exit(EXIT.interrupted);
        return;
      }
      first = sig;
      o.err(`vfio-ccw-sim: ${sig}: stopping, the report follows (a second signal exits at once)`);
      for (const f of [...stops]) f();
    };
    proc.on(sig, h);
    return [sig, h] as const;
  });
  return {
    get signal() {
      return first;
    },
    stopped: () => first !== null,
    on(fn) {
      stops.add(fn);
      if (first !== null) fn();
      return () => void stops.delete(fn);
    },
    on_kill(fn) {
      kills.add(fn);
      return () => void kills.delete(fn);
    },
    dispose() {
      for (const [sig, h] of handlers) proc.off(sig, h);
    },
    raise(sig) {
      handlers.find(([s]) => s === sig)?.[1]();
    },
  };
}

/** `vfio-ccw-sim … | head`: a closed stdout ends the process quietly instead of a stack trace. */
export function quiet_on_epipe(stream: NodeJS.WriteStream = process.stdout, exit: (code: number) => void = (c) => process.exit(c)): void {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') exit(typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok);
    else throw e;
  });
}
