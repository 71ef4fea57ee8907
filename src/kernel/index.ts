// The seam: driver code imports every primitive and every shared access from here.
export * from './atomic.ts';
export * from './backend.ts';
export * from './bind.ts';
export * from './bug.ts';
export * from './bytes.ts';
export * from './clock.ts';
export * from './completion.ts';
export * from './current.ts';
export * from './eventfd.ts';
export * from './global.ts';
export * from './hook.ts';
export * from './layout.ts';
export * from './lockdep.ts';
export * from './mutex.ts';
export * from './obj.ts';
export * from './spinlock.ts';
export * from './workqueue.ts';
