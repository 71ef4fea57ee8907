// A workload scenario: what the users do, what the machine
// does, and what must hold afterwards. The user body runs on user workers; the rest on main.
import type { HwConfig } from '../hw/config.ts';
import type { VariantFeatures } from '../variants/index.ts';
import type { UserResult } from './env.ts';

export interface RunStats {
  [k: string]: number;
}

export interface ScenarioCheck {
  id: string;
  ok: boolean;
  message: string;
}

export interface Scenario {
  /** S1 … S12, or a user's own id */
  id: string;
  slug: string;
  title: string;
  /** the module that exports the users' program (`user`) */
  module: string;
  /** user workers: at least `min`; `default` when the tool does not say */
  users: { min: number; default: number };
  /** I/O cycles per run when not bounded by time */
  iterations: number;
  /** what the machine does (merged over the defaults; the tools may override) */
  hw: Partial<HwConfig>;
  /** null if the variant can run it, else why not (steps it cannot do are reported per step) */
  requires?: (f: VariantFeatures) => string | null;
  /** checks over every user's result and the run's statistics (main) */
  check?: (results: readonly UserResult[], stats: RunStats) => ScenarioCheck[];
}
