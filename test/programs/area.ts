// The shared area the primitive contract programs work on (buffer index 1).
import { atomic, bind, completion, defineStruct, i32, mutex, nameRegion, spinlock, work, words, type SharedBuf } from '../../src/kernel/index.ts';

export const AREA_INDEX = 1;

export const TestArea = defineStruct('test', {
  m: mutex(),
  m2: mutex('a second lock, for ABBA'),
  s: spinlock(),
  c: completion(),
  counter: i32('plain counter for mutual exclusion'),
  barrier: atomic(),
  flag: atomic(),
  flag2: atomic(),
  w0: work(),
  w1: work(),
  w2: work(),
  gate: completion('blocks the executor inside w0'),
  order: words(16, 'work run order'),
  norder: atomic(),
  ran: atomic(),
  result: words(8),
});

nameRegion(AREA_INDEX, 0, TestArea, 'test.');

export const area = (b: SharedBuf) => bind(TestArea, b, 0);

export const WORK_RECORD = 1;
export const WORK_GATED = 2;
