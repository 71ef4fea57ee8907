// What the scenarios share (no scenario imports another).
export * from './crw.ts';
export * from './io.ts';
export * from './irb.ts';
export * from './state.ts';
export * from './users.ts';
