// The key that says two findings are the same: what baselines and `check` compare.
// Provisional: a finding's signature where it has one, else its kind and id.
import type { Finding } from './report.ts';

export function finding_key(f: Finding & { signature?: string }): string {
  return f.signature ?? `${f.kind}:${f.id}`;
}
