// Uniformly random among the enabled actors, from the shared PRNG.
import { nth_bit, popcount, rand, type Strategy } from './api.ts';

export const random: Strategy = {
  name: 'random',
  id: 1,
  pick(c) {
    return nth_bit(c.mask, Math.floor(rand(c.v) * popcount(c.mask)));
  },
};
