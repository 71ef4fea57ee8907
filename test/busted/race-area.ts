// The race detector's test area: plain words, a region, and the sync objects that publish them.
// `step` is for test handshakes only: raw Atomics, invisible to the detector. Buffer index 100
// keeps its names clear of the Rig's buffers (0, 1, 2..), which share main's name table.
import { atomic, bind, bytes, completion, defineStruct, i32, mutex, nameRegion, work, type SharedBuf } from '../../src/kernel/index.ts';

export const RACE_INDEX = 100;

export const RaceArea = defineStruct('racetest', {
  m: mutex(),
  done: completion(),
  w: work(),
  step: atomic('handshakes between test programs (raw Atomics: no edge for the detector)'),
  x: i32('a plain shared word'),
  y: i32('a plain shared word the work item writes'),
  flag: i32('accessed with READ_ONCE / WRITE_ONCE'),
  region: bytes(128, 'a byte region (each 4-byte word is its own shadow location)'),
});

nameRegion(RACE_INDEX, 0, RaceArea, 'racetest.');

export const raceArea = (b: SharedBuf) => bind(RaceArea, b, 0);
