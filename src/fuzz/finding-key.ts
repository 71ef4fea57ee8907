// One finding's identity across runs and tools: its signature (src/report/signature.ts). The
// fuzzer's own kinds (a wrong errno, an exception in the port) are named by kind and id.
import { FINDING_KINDS, type Finding } from '../report/report.ts';
import { signature_of } from '../report/signature.ts';

export function finding_key(f: { kind: string; id: string; message?: string; signature?: string }): string {
  if (f.signature !== undefined) return f.signature;
  return (FINDING_KINDS as readonly string[]).includes(f.kind) ? signature_of({ message: '', ...f } as Finding) : `${f.kind}:${f.id}`;
}
