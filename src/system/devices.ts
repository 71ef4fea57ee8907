// How many devices a run may have, and what scales with them.
import { MAX_EVENTFDS, WQ_RING } from '../kernel/index.ts';
import { DEFAULT_SHADOW_CAP } from '../detect/race.ts';

/**
 * The most subchannels a run may pass through. What bounds it: the workqueue's ring holds every
 * device's two work items at once (WQ_RING), and QEMU opens three eventfds per device (MAX_EVENTFDS).
 */
export const MAX_DEVICES = 256;
const EVENTFDS_PER_DEVICE = 3;
const WORKS_PER_DEVICE = 2;

if (MAX_DEVICES * WORKS_PER_DEVICE > WQ_RING || MAX_DEVICES * EVENTFDS_PER_DEVICE > MAX_EVENTFDS) throw new Error('MAX_DEVICES exceeds the global tables');

export function check_devices(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > MAX_DEVICES) throw new Error(`devices: ${n} is not a whole number from 1 to ${MAX_DEVICES}`);
  return n;
}

/**
 * Wall time a free run of `devices` may take past its deadline on top of the grace before it is
 * a livelock: opening and closing every device is work that grows with the devices (a 256-device
 * run opens and closes 256 devices however short its duration).
 */
export const overrun_allowance_ms = (devices: number): number => (devices - 1) * 200;

/** eventfd slots a run of `devices` may name in reports. */
export const eventfds_for = (devices: number): number => Math.min(MAX_EVENTFDS, 32 + EVENTFDS_PER_DEVICE * devices);

/**
 * Race-detector shadow locations for a run of `devices`: the default for one device, doubled as
 * the devices grow, up to 16 times (64 MiB); a run that still overflows it says so (race_losses).
 */
export function race_shadow_for(devices: number): number {
  let cap = DEFAULT_SHADOW_CAP;
  for (let d = 1; d < Math.min(devices, 16); d *= 2) cap *= 2;
  return cap;
}

/** Shared memory of a run of `devices`: each device's buffer, and what the devices share. */
export interface SharedMemory {
  /** one device's buffer: private, subchannel, machine, channel program, guest memory */
  device_bytes: number;
  /** the global buffer: actors, the scheduler, the workqueue, eventfds, warnings */
  global_bytes: number;
  /** the css-wide machine words and the scenario words */
  system_bytes: number;
  total_bytes: number;
}
