// The host kernel's common I/O layer (drivers/s390/cio: cio.c, css.c, ioasm.h, chp.h).
export * from './css.ts';
