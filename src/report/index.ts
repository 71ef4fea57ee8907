// Reports: findings, their signatures and causes, and their interleavings as text or JSON.
export * from './report.ts';
export { signature_of, merge_findings, with_signatures } from './signature.ts';
export { link_causes, by_cause } from './cause.ts';
export { explainer, trace_steps, function_level, format_function_level, format_steps, interleaving_json, actor_name, type TraceStep, type FunctionStep } from './interleave.ts';
export { format_report_text, format_finding, findings_json, type FormatOptions } from './format.ts';
export { describe_event, fsm_names } from './events.ts';

import type { Finding } from './report.ts';
import { merge_findings } from './signature.ts';
import { link_causes } from './cause.ts';

/** Findings of many runs as one list: one entry per signature, causes linked again over all. */
export const combine_findings = (fs: readonly Finding[]): Finding[] => link_causes(merge_findings(fs));
