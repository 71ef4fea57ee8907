// The fuzzer's user after a call threw: the v5.2 report "sleep_in_atomic in vfio_device_open
// (open_lock) with 1 spinlock held" was the spin depth of an earlier, oopsed call, left behind
// because the harness caught the BUG and went on to the next call. No kernel path holds a
// spinlock at vfio_device_open (v5.2 drivers/vfio/vfio.c: vfio_group_get_device_fd -> open).
import { afterEach, expect, it } from 'vitest';
import { KernelBug, mutex_lock, reset_context, spin_lock, spin_unlock } from '../src/kernel/index.ts';
import { vfio_device_open } from '../src/driver/ops.ts';
import { after_throw } from '../src/fuzz/exec.ts';
import { end_rig, g_rig, type GRig } from './helpers/g_rig.ts';

afterEach(() => {
  expect(end_rig()).toEqual([]);
});

/** A call that BUGs inside a spin_lock section: a mutex under sch->lock. */
function oops_under_spinlock(r: GRig): unknown {
  try {
    spin_lock(r.p.sch.v.lock, 'test_section');
    mutex_lock(r.p.v.open_lock, 'test_section');
  } catch (e) {
    return e;
  }
  return null;
}

function cleanup(r: GRig): void {
  spin_unlock(r.p.sch.v.lock, 'test_section');
  reset_context();
}

it('without the reset, the oops leaves a spinlock that the next open trips over (the reported signature)', () => {
  const r = g_rig({ variant: 'v5.2', open: false });
  expect(oops_under_spinlock(r)).toBeInstanceOf(KernelBug);
  expect(() => vfio_device_open(r.p)).toThrow(/vfio_device_open .*open_lock.* with 1 spinlock\(s\) held/);
  expect(r.take_warnings().filter((w) => w.startsWith('sleep_in_atomic')).length).toBe(2);
  cleanup(r);
});

it('after_throw: an oopsed user stops, and its exit runs with no spinlock counted', () => {
  const r = g_rig({ variant: 'v5.2', open: false });
  const e = oops_under_spinlock(r);
  expect(e).toBeInstanceOf(KernelBug);
  expect(after_throw(e)).toBe('stop');
  expect(vfio_device_open(r.p)).toBe(0);
  const w = r.take_warnings();
  expect(w.length).toBe(1);
  expect(w[0]).toMatch(/^sleep_in_atomic: .*test_section/);
  cleanup(r);
});

it('after_throw: a port exception (not a BUG) lets the user go on to its next call', () => {
  expect(after_throw(new TypeError('port'))).toBe('next');
});

it('after_throw: any exception out of a spinlock section stops the user (the oops killed the task)', () => {
  expect(after_throw(new TypeError('port'), 1)).toBe('stop');
  expect(after_throw(new TypeError('port'), 0)).toBe('next');
});
