// The README's shared-memory figures are the layout's, not a copy of an old run's: every "N bytes
// per device" (and the sample outputs' "one device: N bytes") must be what alloc_devices makes now,
// and "N bytes all devices share" the global and system buffers. A field added to a device's
// layout without the README following fails here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { alloc_global } from '../src/kernel/index.ts';
import { alloc_devices, shared_memory } from '../src/system/device.ts';
import { ROOT } from './helpers/cli.ts';

const md = readFileSync(join(ROOT, 'README.md'), 'utf8');
const num = (s: string): number => Number(s.replace(/[ ,]/g, ''));
const all = (re: RegExp): number[] => [...md.matchAll(re)].map((m) => num(m[1]!));

describe('README shared-memory figures', () => {
  const one = shared_memory(alloc_devices(alloc_global(), 1));
  const many = shared_memory(alloc_devices(alloc_global(), 256));

  it('the per-device size is the same at 1 and 256 devices', () => {
    expect(many.device_bytes).toBe(one.device_bytes);
    expect(many.total_bytes - many.global_bytes - many.system_bytes).toBe(256 * one.device_bytes);
  });

  it('every per-device figure in the README is the layout\'s', () => {
    const per = [
      ...all(/(\d[\d ,]*\d) bytes per device/g),
      ...all(/costs the same shared memory whatever the count: (\d[\d ,]*\d) bytes/g),
      ...all(/one device: (\d+) bytes/g),
    ];
    expect(per.length).toBeGreaterThanOrEqual(4);
    for (const n of per) expect(n).toBe(one.device_bytes);
  });

  it('the shared part and the 256-device total in the README are the layout\'s', () => {
    const shared = [...all(/\(\+ (\d+) shared\)/g), ...all(/beside (\d[\d ,]*\d) bytes all devices share/g)];
    expect(shared.length).toBeGreaterThanOrEqual(2);
    for (const n of shared) expect(n).toBe(one.global_bytes + one.system_bytes);
    for (const n of all(/devices: 256, .*?, (\d+) in all/g)) expect(n).toBe(many.total_bytes);
  });
});
