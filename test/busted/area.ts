// Known-broken programs the detectors must catch, and their correct twins (buffer index 1).
import { atomic, bind, completion, defineStruct, mutex, nameRegion, spinlock, work, type SharedBuf } from '../../src/kernel/index.ts';

export const BUSTED_INDEX = 1;

export const BustedArea = defineStruct('busted', {
  lock_a: mutex(),
  lock_b: mutex(),
  sch_lock: spinlock(),
  done: completion(),
  never: completion('nobody ever completes this one'),
  step: atomic(),
  w: work(),
  raw_mutex: atomic('a mutex without its waiter state (no waiters flag, never notifies)'),
  counter: atomic(),
});

nameRegion(BUSTED_INDEX, 0, BustedArea, 'busted.');

export const bustedArea = (b: SharedBuf) => bind(BustedArea, b, 0);
