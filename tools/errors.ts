// Errors the CLI turns into exit codes: bad usage is 2.
export class UsageError extends Error {}
