// How a command talks to the outside: its two output streams and the stop signal.
import type { FaultConfig } from '../src/kernel/fault.ts';
import type { BaselineChoice } from './baseline.ts';

export interface Io {
  out(s: string): void;
  err(s: string): void;
  /** run fn on the first SIGINT/SIGTERM/SIGHUP (at once if one came already); returns its removal */
  onInterrupt(fn: () => void): () => void;
  /** a stop signal arrived (also during start-up, before the command registered anything) */
  interrupted(): boolean;
  /** run fn before a second signal exits the process at once (terminate workers) */
  onKill(fn: () => void): () => void;
}

/** What stress and race share: the baseline, the report and how it is printed, faults, coverage. */
export interface ReportOpts {
  /** known findings not counted (default: none) */
  baseline?: BaselineChoice;
  json: boolean;
  report: string;
  quiet: boolean;
  /** show harness steps and machine marks in interleavings */
  verbose?: boolean;
  /** fault injection in every run (race: kept in the tokens) */
  fault?: FaultConfig;
  /** report coverage */
  coverage?: boolean;
}
