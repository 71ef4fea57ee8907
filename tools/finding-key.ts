// The one place that says when two findings are the same: merge and shards compare by it.
import type { Finding } from '../src/report/report.ts';

/** A finding's signature: its own when it carries one, else its kind and id. */
export function finding_key(f: Finding): string {
  const sig = (f as Finding & { signature?: string }).signature;
  return sig ?? `${f.kind}:${f.id}`;
}
