// Errors the CLI turns into exit codes, and the codes themselves.
export const EXIT = { ok: 0, failure: 1, usage: 2, internal: 3, interrupted: 4, skipped: 5 } as const;

/** Bad usage: one line naming the option or file, exit 2. */
export class UsageError extends Error {}
