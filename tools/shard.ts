// --shard i/N: this process takes a deterministic share of a campaign's jobs, so N machines (a
// Kubernetes Indexed Job, a CI matrix) together run exactly the unsharded campaign. `auto` reads
// the index from JOB_COMPLETION_INDEX (Kubernetes, 0-based) and the count from
// VFIO_CCW_SIM_SHARDS, or `auto/N` names the count.
import { InvalidArgumentError } from 'commander';

export interface Shard {
  /** 1-based */
  index: number;
  total: number;
}

const whole = (s: string | undefined): number => (s !== undefined && /^\d+$/.test(s.trim()) ? Number(s.trim()) : NaN);

export function parse_shard(v: string, env: NodeJS.ProcessEnv = process.env): Shard {
  const bad = (why: string): never => {
    throw new InvalidArgumentError(`--shard ${why}`);
  };
  let index: number;
  let total: number;
  const m = /^auto(?:\/(.*))?$/.exec(v.trim());
  if (m !== null) {
    const raw = env.JOB_COMPLETION_INDEX;
    if (raw === undefined) bad("auto: JOB_COMPLETION_INDEX is not set (Kubernetes sets it in an Indexed Job's pods; or give --shard i/N)");
    index = whole(raw) + 1;
    if (!Number.isInteger(index)) bad(`auto: JOB_COMPLETION_INDEX must be a whole number, got '${raw}'`);
    const t = m[1] ?? env.VFIO_CCW_SIM_SHARDS;
    if (t === undefined) bad('auto: the shard count is unknown (set VFIO_CCW_SIM_SHARDS, or write --shard auto/N)');
    total = whole(t);
    if (!(total >= 1)) bad(`auto: the shard count must be a whole number from 1, got '${t}'`);
  } else {
    const p = /^(\d+)\/(\d+)$/.exec(v.trim());
    if (p === null) bad(`takes i/N (e.g. 2/3) or auto, got '${v}'`);
    index = Number(p![1]);
    total = Number(p![2]);
  }
  if (!(total >= 1 && total <= 100_000)) bad(`takes a shard count from 1 to 100000, got ${total}`);
  if (!(index >= 1 && index <= total)) bad(`index ${index} is outside 1..${total}`);
  return { index, total };
}

/** This shard's jobs: job k of the unsharded list (in its fixed order) goes to shard k mod N. */
export function shard_jobs<T>(jobs: readonly T[], s: Shard | undefined): T[] {
  if (s === undefined) return [...jobs];
  return jobs.filter((_, k) => k % s.total === s.index - 1);
}
