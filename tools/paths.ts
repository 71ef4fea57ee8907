// Every file a command writes is checked before its run starts: a run of minutes must not end in
// a lost report because of a typo in --report.
import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from './errors.ts';

/** Make the file's directory and check that the file can be written there; a UsageError naming the option if not. */
export function check_output_path(option: string, file: string): void {
  const abs = resolve(file);
  const why = (e: unknown): string => {
    const c = (e as NodeJS.ErrnoException).code;
    return c === 'ENOTDIR' || c === 'EEXIST' ? 'a part of the path is not a directory' : c === 'EACCES' || c === 'EPERM' ? 'permission denied' : c === 'EROFS' ? 'read-only file system' : String((e as Error).message ?? e);
  };
  try {
    mkdirSync(dirname(abs), { recursive: true });
  } catch (e) {
    throw new UsageError(`${option}: cannot write '${file}': ${why(e)}`);
  }
  try {
    if (statSync(abs, { throwIfNoEntry: false })?.isDirectory() === true) throw new UsageError(`${option}: cannot write '${file}': it is a directory`);
    accessSync(dirname(abs), constants.W_OK);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${option}: cannot write '${file}': ${why(e)}`);
  }
}
