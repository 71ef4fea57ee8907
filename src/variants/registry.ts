// Kept for existing imports: the registry now lives in index.ts, one file per variant.
export * from './index.ts';
