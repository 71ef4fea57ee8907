// vfio-ccw-sim bench devices: S13's steady I/O on 1, 16 and 256 devices, in one process. The
// baseline is the 1-device run of the same process: cycles/s per device against it, and the
// shared memory each added device costs against one device's.
import { FAST_HW, median, row, type BenchRow } from './bench.ts';

export const DEVICE_COUNTS = [1, 16, 256] as const;

interface Measured {
  devices: number;
  /** I/O cycles per second over every device, set-up and tear-down excluded */
  rate: number;
  /** SharedArrayBuffer bytes of the rig's system */
  total_bytes: number;
  device_bytes: number;
}

/**
 * Steady-state rate: two runs that differ only in their rounds; the difference in cycles over the
 * difference in wall time leaves out opening and closing the devices, which both runs pay.
 */
async function measure(devices: number, rounds: number, scale: number, variant: string): Promise<Measured> {
  const { Rig } = await import('../src/system/rig.ts');
  const { scenario } = await import('../src/scenarios/s13-many-devices.ts');
  const rig = await Rig.start(2, [scenario.module], devices);
  try {
    // no close or reset in the measured rounds: the I/O path only
    const params = { every: 1e9 };
    const short = 2;
    const long = short + Math.max(2, Math.round((2000 * scale) / devices));
    const run = async (iterations: number, seed: number): Promise<{ cycles: number; ms: number }> => {
      const t = performance.now();
      const out = await rig.run({ variant, scenario, users: 2, seed, iterations, devices, hw: FAST_HW, detectors: [], params });
      if (out.report.result !== 'pass') throw new Error(`bench devices: ${devices} devices: ${out.report.findings.map((f) => f.id).join(', ')}`);
      return { cycles: out.report.stats['user.cycles'] ?? 0, ms: performance.now() - t };
    };
    await run(short, 1); // warm: every thread binds the system once
    const rates: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const a = await run(short, r + 2);
      const b = await run(long, r + 2);
      rates.push(((b.cycles - a.cycles) * 1000) / Math.max(1, b.ms - a.ms));
    }
    const mem = rig.shared_memory();
    return { devices, rate: median(rates), total_bytes: mem.total_bytes, device_bytes: mem.device_bytes };
  } finally {
    await rig.close();
  }
}

export async function benchDevices(opts: { rounds: number; scale: number; variant: string }): Promise<BenchRow[]> {
  const ms: Measured[] = [];
  for (const n of DEVICE_COUNTS) ms.push(await measure(n, opts.rounds, opts.scale, opts.variant));
  const one = ms[0]!;
  const rows: BenchRow[] = [];
  for (const m of ms) {
    // the work per round grows with the devices: a per-device rate that falls as 1/N keeps the total
    rows.push(row(`I/O cycles/s per device, ${m.devices} device(s) (total ${m.rate.toFixed(0)}/s)`, 'cycles/s', m.rate / m.devices, one.rate, 'higher', m.devices === 1 ? null : Number((1 / m.devices).toFixed(6))));
  }
  for (const m of ms.slice(1)) {
    // what each device beyond the first adds to the shared memory, against one device's buffer
    const added = (m.total_bytes - one.total_bytes) / (m.devices - 1);
    rows.push(row(`shared memory per device, ${m.devices} devices (one device: ${one.device_bytes} bytes)`, 'bytes', added, one.device_bytes, 'lower', 1));
  }
  return rows;
}
