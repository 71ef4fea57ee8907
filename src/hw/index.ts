// The machine: the s390 channel subsystem model (instructions, engine, scripted control).
export * from './config.ts';
export * from './engine.ts';
export * from './instr.ts';
export * from './layout.ts';
export * from './mailbox.ts';
export * from './prng.ts';
export * from './schib.ts';
