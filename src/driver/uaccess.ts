// copy_from_user / copy_to_user: a user buffer is a Uint8Array, or null for an unmapped pointer.
import { EFAULT } from '../uapi/errno.ts';

export type UserPtr = Uint8Array | null;

/** 0, or -EFAULT if the user range [off, off+n) is not mapped. */
export function user_ok(u: UserPtr, n: number, off = 0): number {
  return u === null || off + n > u.length ? -EFAULT : 0;
}

export function copy_from_user(u: UserPtr, n: number, off = 0): Uint8Array | null {
  if (user_ok(u, n, off) !== 0 || u === null) return null;
  return u.slice(off, off + n);
}

export function copy_to_user(u: UserPtr, src: Uint8Array, off = 0): number {
  if (user_ok(u, src.length, off) !== 0 || u === null) return -EFAULT;
  u.set(src, off);
  return 0;
}
