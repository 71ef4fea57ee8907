// One finding's identity across runs and tools: its signature where the report gives one, else
// kind and id (src/report is adding `Finding.signature`; this is the one place that reads it).
export function finding_key(f: { kind: string; id: string; signature?: string }): string {
  return f.signature ?? `${f.kind}:${f.id}`;
}
