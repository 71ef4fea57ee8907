// The key that says two findings are the same, for baselines and `check`: the finding's signature.
import type { Finding } from './report.ts';
import { signature_of } from './signature.ts';

export const finding_key = (f: Finding): string => f.signature ?? signature_of(f);
