// Time, behind an interface so that controlled mode can put a virtual clock here.

export const HZ = 100; // s390 defconfig

export interface Clock {
  /** monotonic milliseconds */
  now_ms(): number;
}

const wall: Clock = { now_ms: () => performance.now() };

export let clock: Clock = wall;

export function set_clock(c: Clock | null): void {
  clock = c ?? wall;
}

export const jiffies = (): number => Math.floor((clock.now_ms() * HZ) / 1000);
export const msecs_to_jiffies = (ms: number): number => Math.ceil((ms * HZ) / 1000);
export const jiffies_to_msecs = (j: number): number => (j * 1000) / HZ;
