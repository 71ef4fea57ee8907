// One decision of a controlled run and its encoding in the scheduler's log (SchedArea: dec,
// dec_kind, dec_timed, dec_mark, one word each per decision). The scheduler packs, the rig
// unpacks; every other reader sees `Decision`.

export interface Decision {
  /** the enabled actors, as a bit mask */
  mask: number;
  /** the actor at the schedule point; -1 nobody (the first pick, or after an actor exited) */
  cur: number;
  /** the actor chosen */
  pick: number;
  /** the point's hook kind (H) and the low bits of its object id */
  kind: number;
  obj: number;
  /** the enabled actors that are blocked: only their timed wait firing would run them */
  timed: number;
  /** the mark the step after the decision passed (+1; 0 none, -1 several) */
  mark: number;
}

/** `cur` in the log when nobody was at the point (8 bits: actor ids are below MAX_ACTORS). */
const NOBODY = 0xff;

/** The dec word: enabled mask << 16 | current << 8 | pick. */
export const pack_pick = (mask: number, cur: number, pick: number): number => (mask << 16) | ((cur < 0 ? NOBODY : cur) << 8) | pick;

/** The dec_kind word: hook kind << 24 | the low 24 bits of the object id. */
export const pack_point = (kind: number, obj: number): number => ((kind & 0xff) << 24) | (obj & 0xffffff);

/** The decision logged as these four words. */
export function unpack(dec: number, point: number, timed: number, mark: number): Decision {
  const cur = (dec >>> 8) & 0xff;
  return { mask: dec >>> 16, cur: cur === NOBODY ? -1 : cur, pick: dec & 0xff, kind: point >>> 24, obj: point & 0xffffff, timed, mark };
}
