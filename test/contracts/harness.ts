// A harness runs contract programs on actors. The free harness runs them truly in parallel
// on worker threads; the controlled-scheduling mode provides another implementation.
import type { SharedBuf } from '../../src/kernel/layout.ts';
import type { WarnRecord } from '../../src/kernel/bug.ts';

export interface Step {
  actor: number;
  fn: string;
  args?: unknown;
}

export interface Harness {
  readonly g: SharedBuf;
  readonly area: SharedBuf;
  /** actor ids available for programs (the first is the todo actor) */
  readonly actors: readonly number[];
  /** Clear shared state between cases (actors parked). */
  reset(): void;
  /** Run the steps at once; values in step order. Rejects with the first failing step's error. */
  run(steps: Step[]): Promise<unknown[]>;
  /** Like run, with the workqueue executor running on the todo actor around the steps. */
  runWithExecutor(steps: Step[]): Promise<unknown[]>;
  warnings(): WarnRecord[];
}
