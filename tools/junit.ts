// JUnit XML, the shape CI systems display: one <testsuite> of <testcase>s, each passed, failed or skipped.

export interface JunitCase {
  classname: string;
  name: string;
  time_s: number;
  failure?: { message: string; text: string };
  skipped?: string;
  /** shown as the case's output */
  out?: string;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/[^\t\n\r\x20-\uD7FF\uE000-\uFFFD]/g, '?');

export function junit_xml(suite: string, cases: readonly JunitCase[], time_s: number): string {
  const failures = cases.filter((c) => c.failure !== undefined).length;
  const skipped = cases.filter((c) => c.skipped !== undefined).length;
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites name="${esc(suite)}" tests="${cases.length}" failures="${failures}" skipped="${skipped}" time="${time_s.toFixed(3)}">`, `  <testsuite name="${esc(suite)}" tests="${cases.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${time_s.toFixed(3)}">`];
  for (const c of cases) {
    const head = `    <testcase classname="${esc(c.classname)}" name="${esc(c.name)}" time="${c.time_s.toFixed(3)}"`;
    const body: string[] = [];
    if (c.failure !== undefined) body.push(`      <failure message="${esc(c.failure.message)}" type="new-finding">${esc(c.failure.text)}</failure>`);
    if (c.skipped !== undefined) body.push(`      <skipped message="${esc(c.skipped)}"/>`);
    if (c.out !== undefined && c.out !== '') body.push(`      <system-out>${esc(c.out)}</system-out>`);
    lines.push(body.length === 0 ? `${head}/>` : [`${head}>`, ...body, '    </testcase>'].join('\n'));
  }
  lines.push('  </testsuite>', '</testsuites>', '');
  return lines.join('\n');
}
