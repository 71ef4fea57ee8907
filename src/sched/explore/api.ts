// The explorer interface, after shuttle's Scheduler (new_execution gives the next schedule or
// none): a search is an explorer that hands out schedules one at a time and is told what each did.
// One file per search in this folder; list it in ./index.ts and every tool can name it.
import type { RunOutcome } from '../../system/rig.ts';
import type { SearchPlan } from '../plan.ts';
import type { ScheduleSpec } from '../token.ts';

/** One schedule: the strategy part of its replay token (the rest is the plan's). */
export type Schedule = Pick<ScheduleSpec, 'st' | 'seed' | 'd' | 'e' | 'f'> & {
  /** a run the explorer needs for itself: not one of the search's schedules (no detectors, not counted) */
  probe?: true;
};

export interface Explorer {
  /** The next schedule to run, or null: none is left (the space is exhausted). */
  next(): Schedule | null;
  /** What the schedule `next` gave last did. */
  record(outcome: RunOutcome): void;
}

export interface Search {
  /** the name plans and tools use */
  readonly name: string;
  explorer(plan: SearchPlan): Explorer;
}
