// One finding's identity across runs and tools: its signature (src/report/finding_key.ts). The
// fuzzer's own kinds (a wrong errno, an exception in the port) are named by kind and id.
import { FINDING_KINDS, type Finding } from '../report/report.ts';
import { finding_key as report_finding_key } from '../report/finding_key.ts';

export function finding_key(f: { kind: string; id: string; message?: string; signature?: string }): string {
  if (f.signature === undefined && !(FINDING_KINDS as readonly string[]).includes(f.kind)) return `${f.kind}:${f.id}`;
  return report_finding_key({ message: '', ...f } as Finding);
}
