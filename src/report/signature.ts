// A finding's signature: what it is, without the run that found it. Like syzbot's report titles,
// the detector kind plus the functions involved, with line numbers, counts, task numbers and the
// read/write order dropped, so the same bug found by two seeds, runs or machines reads the same.
import type { Finding } from './report.ts';

// (a kernel function has an underscore: "at least" or "in the" is not one)
const FN = /\b(?:at|in) ([a-z][a-z0-9]*_[a-z0-9_]+)\b/;

/** The first function a message names with "at fn" / "in fn". */
function function_in(message: string): string | undefined {
  return FN.exec(message)?.[1];
}

/** Numbers (generations, counts, task ids) are the run's, not the bug's. */
const without_numbers = (s: string): string => s.replace(/\d+/g, '#');

/** Which device of a many-device run ("dev84.private->irb") is the run's: the same race on any device is one bug. */
const without_device = (field: string): string => field.replace(/^dev\d+\./, '');

function race_signature(f: Finding): string {
  const marked = f.id.startsWith('data-race-marked:');
  const field = without_device(f.race?.field ?? (marked ? f.id.slice('data-race-marked:'.length) : f.id));
  let pair: string[];
  if (f.race !== undefined) pair = [f.race.first.function, f.race.second.function];
  else {
    const m = /data-race in (\S+) \/ (\S+?):/.exec(f.message);
    pair = m !== null ? [m[1]!, m[2]!] : ['?', '?'];
  }
  pair.sort();
  return `data-race${marked ? ' (marked)' : ''}: ${pair[0]} / ${pair[1]} (${field})`;
}

export function signature_of(f: Finding): string {
  switch (f.kind) {
    case 'data-race':
      return race_signature(f);
    case 'invariant': {
      // I1…I23 are the spec's invariants; anything else is a scenario's own check.
      if (!/^I\d+$/.test(f.id)) return `check ${f.id}`;
      const fn = function_in(f.message.slice(f.id.length));
      return fn !== undefined ? `invariant ${f.id} in ${fn}` : `invariant ${f.id}`;
    }
    case 'lockdep': {
      const fn = function_in(f.message);
      return fn !== undefined ? `lockdep ${f.id} in ${fn}` : `lockdep ${f.id}: ${without_numbers(f.message).slice(0, 120)}`;
    }
    case 'hang':
      return f.id.endsWith('-failed') ? `hang ${f.id}: ${without_numbers(f.message.replace(/^user \d+: /, '')).slice(0, 120)}` : `hang ${f.id}`;
    case 'accounting':
      return `accounting ${f.id}`;
    case 'use-after-free': {
      // KASAN's title: the using function; the freeing site stays in the message
      const fn = function_in(f.message);
      return fn !== undefined ? `${f.id} in ${fn}` : f.id;
    }
  }
}

/** Give every finding its signature (kept where one was set already). */
export function with_signatures(fs: readonly Finding[]): Finding[] {
  return fs.map((f) => (f.signature !== undefined ? f : { ...f, signature: signature_of(f) }));
}

/**
 * One entry per signature: counts summed, the scenarios and variants where it was seen unioned,
 * the first replay token kept. The first finding's text stays; if it had no interleaving, the
 * first one that has one lends it.
 */
export function merge_findings(fs: readonly Finding[]): Finding[] {
  const out = new Map<string, Finding>();
  for (const f0 of fs) {
    const sig = f0.signature ?? signature_of(f0);
    const prev = out.get(sig);
    if (prev === undefined) {
      out.set(sig, { ...f0, signature: sig, count: f0.count ?? 1, ...(f0.seen !== undefined ? { seen: [...f0.seen] } : {}) });
      continue;
    }
    prev.count = (prev.count ?? 1) + (f0.count ?? 1);
    for (const s of f0.seen ?? []) {
      prev.seen ??= [];
      if (!prev.seen.some((x) => x.scenario === s.scenario && x.variant === s.variant)) prev.seen.push(s);
    }
    if (prev.token === undefined && f0.token !== undefined) prev.token = f0.token;
    if (prev.interleaving === undefined && f0.interleaving !== undefined) {
      prev.interleaving = f0.interleaving;
      if (f0.steps !== undefined) prev.steps = f0.steps;
      if (f0.trace !== undefined) prev.trace = f0.trace;
    }
    if (prev.cause === undefined && f0.cause !== undefined) prev.cause = f0.cause;
  }
  return [...out.values()];
}

/** What a signature names: its detector kind and id; undefined when the text is none of signature_of's forms. */
export function parse_signature(sig: string): { kind: Finding['kind']; id: string } | undefined {
  let m = /^data-race( \(marked\))?: [a-z_]\w* \/ [a-z_]\w* \((\S+)\)$/.exec(sig);
  if (m !== null) return { kind: 'data-race', id: m[1] !== undefined ? `data-race-marked:${m[2]!}` : m[2]! };
  if ((m = /^invariant (I\d+)(?: in [a-z]\w*)?$/.exec(sig)) !== null) return { kind: 'invariant', id: m[1]! };
  if ((m = /^check (S\d+\.[\w.-]+)$/.exec(sig)) !== null) return { kind: 'invariant', id: m[1]! };
  if ((m = /^lockdep ([\w-]+)(?: in [a-z]\w*|: \S.*)$/.exec(sig)) !== null) return { kind: 'lockdep', id: m[1]! };
  if ((m = /^hang ([\w-]+)(?:: \S.*)?$/.exec(sig)) !== null) return { kind: 'hang', id: m[1]! };
  if ((m = /^accounting ([\w-]+)$/.exec(sig)) !== null) return { kind: 'accounting', id: m[1]! };
  if ((m = /^(use-after-free|null-ptr-deref)(?: in [a-z]\w*)?$/.exec(sig)) !== null) return { kind: 'use-after-free', id: m[1]! };
  return undefined;
}
