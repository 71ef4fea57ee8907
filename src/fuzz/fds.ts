// A fuzz user's device FDs when its run creates or removes the mdev (mdev_probe / mdev_remove):
// every FD holds a vfio_device reference (vfio/mdev_core.ts), so a remove waits until each is
// closed, and each user answers the REQ eventfd it can see as QEMU does
// (vfio_ccw_req_notifier_handler: test-and-clear, then unplug, which closes the device FD).
// Without lifecycle calls the FDs are the plain open/release they always were.
import { eventfd_try_read, peek, type EventfdCtx } from '../kernel/index.ts';
import type { ScenarioEnv } from '../scenarios/env.ts';
import { mdev_adopt, vfio_device_fops_release, vfio_group_get_device_fd, type VfioCoreView } from '../vfio/mdev_core.ts';

export interface UserFds {
  /** device FDs this user holds (user 0's realized client counts as one) */
  fds: number;
  /** user 0: its client is realized and holds one of the FDs */
  realized: boolean;
  /** the mdev and vfio core words, when the run has lifecycle calls */
  core: VfioCoreView | null;
  /** the eventfd slot this user installed as the REQ trigger (SET_IRQS index 2), or null */
  req_slot: number | null;
  ctx: (EventfdCtx | null)[];
}

/** Open one more device FD: through the vfio core's reference when the run has lifecycle calls. */
export function fd_open(env: ScenarioEnv, st: UserFds): number {
  const open = (): number => env.client.ops.open();
  const rc = st.core === null ? open() : vfio_group_get_device_fd(st.core, open);
  if (rc === 0) st.fds++;
  return rc;
}

/** Close one FD that is not the realized client's. */
export function fd_release(env: ScenarioEnv, st: UserFds): void {
  const release = (): void => env.client.ops.release();
  if (st.core === null) release();
  else vfio_device_fops_release(st.core, release);
  st.fds--;
}

/**
 * User 0 realizes the device as QEMU does. With lifecycle calls it first puts the mdev main made
 * at set-up on the mdev core's list (before any other user can see it), and the realize's open
 * takes the FD's reference.
 */
export function fd_realize(env: ScenarioEnv, st: UserFds): string | null {
  if (st.core !== null && peek(env.p.v.mdev) !== 0) mdev_adopt(st.core);
  let error: string | null = null;
  const open = (): number => {
    const r = env.client.realize();
    error = r.ok ? null : (r.error ?? '?');
    return r.open_rc;
  };
  const rc = st.core === null ? open() : vfio_group_get_device_fd(st.core, open);
  if (rc === 0) {
    st.fds++;
    st.realized = true;
  } else error ??= `open: ${rc}`;
  return error;
}

/** Unplug: the realized client tears its eventfds down and closes, then every other FD closes. */
export function fd_unplug(env: ScenarioEnv, st: UserFds): void {
  if (st.realized) {
    if (st.core === null) env.client.unrealize();
    else vfio_device_fops_release(st.core, () => env.client.unrealize());
    st.realized = false;
    st.fds--;
  }
  while (st.fds > 0) fd_release(env, st);
}

/**
 * QEMU's REQ handler, run between calls: the client's REQ eventfd (realize installed it) or the
 * one this user's SET_IRQS installed fired: unplug. True when it did.
 */
export function answer_req(env: ScenarioEnv, st: UserFds): boolean {
  if (st.core === null || st.fds === 0) return false;
  const own = st.req_slot !== null ? st.ctx[st.req_slot] : null;
  const asked = (st.realized && env.client.poll_req()) || (own !== null && own !== undefined && eventfd_try_read(own, 'vfio_ccw_req_notifier_handler') > 0);
  if (!asked) return false;
  fd_unplug(env, st);
  env.count('fuzz.req_unplugs');
  return true;
}
