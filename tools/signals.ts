// Ctrl-C and SIGTERM as one request to stop: the first asks the tool to stop and report, a second
// one gives up on the report.
import { EXIT } from './errors.ts';

export function on_stop_signals(fn: () => void): () => void {
  let n = 0;
  const h = (): void => {
    n++;
    if (n === 1) fn();
    else process.exit(EXIT.interrupted);
  };
  process.on('SIGINT', h);
  process.on('SIGTERM', h);
  return () => {
    process.off('SIGINT', h);
    process.off('SIGTERM', h);
  };
}
