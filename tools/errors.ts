// Exit codes of every vfio-ccw-sim command, and the error a bad option or user file raises.
// CI relies on these numbers: they are never renumbered.
export const EXIT = { ok: 0, failure: 1, usage: 2, internal: 3, interrupted: 4, skipped: 5 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The lines --help and the README show. */
export const EXIT_TEXT = 'exit codes: 0 passed, 1 a finding, 2 bad usage or a bad user file, 3 internal error, 4 interrupted (the report is still written), 5 skipped (nothing applicable)';

/** Bad usage or a bad user file: one line naming the option, or the file and line; exit 2. */
export class UsageError extends Error {}

/** The exit code a report's result stands for. */
export function exit_for(result: 'pass' | 'fail' | 'interrupted' | 'skipped'): ExitCode {
  return result === 'pass' ? EXIT.ok : result === 'fail' ? EXIT.failure : result === 'interrupted' ? EXIT.interrupted : EXIT.skipped;
}
