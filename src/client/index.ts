// hw/vfio/ccw.c + hw/s390x/css.c: the user-space client (QEMU's vfio-ccw device) and its guest workloads.
export * from './client.ts';
export * from './css.ts';
export * from './guest.ts';
export * from './ioinst.ts';
export * from './ops.ts';
