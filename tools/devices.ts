// --devices: subchannels per run, on every tool that starts a rig.
import { Option, type Command } from 'commander';
import { MAX_DEVICES } from '../src/system/devices.ts';
import { positiveInt } from './options.ts';

/** The scenario that spreads its users over the devices: a tool's default when --devices > 1. */
export const MANY_DEVICES_SCENARIO = 'S13';

/** --devices; `after` ends its help (what else more than one device changes for the tool). */
export function devicesOption(after = `; with more than one, the default scenario is ${MANY_DEVICES_SCENARIO}`): Option {
  return new Option('--devices <n>', `subchannels passed through (1 to ${MAX_DEVICES}): each its own private, regions and channel programs, all on the driver's one workqueue and one interrupt path${after}`)
    .argParser(positiveInt('--devices', MAX_DEVICES))
    .default(1);
}

/** The scenario to run: the one given, or S13 when the user left --scenario at its default and asked for many devices. */
export function scenario_for_devices(cmd: Pick<Command, 'getOptionValueSource'>, scenario: string, devices: number): string {
  return devices > 1 && cmd.getOptionValueSource('scenario') === 'default' ? MANY_DEVICES_SCENARIO : scenario;
}
