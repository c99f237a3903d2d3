// A diagnosis report as text for humans and as JUnit XML for CI (one testcase per detector; a
// finding at or above --fail-on is a failure carrying its evidence).
import { severityRank, type Evidence, type Finding, type Report, type Severity } from './types.ts';
import { refText } from './span-index.ts';

const MARK: Record<Severity, string> = { error: 'ERROR', warning: 'WARN ', info: 'info ' };

export function evidenceLine(e: Evidence): string {
  const what = `${e.verb}${e.subresource ? ` ${e.subresource}` : ''}${e.code ? ` (${e.code})` : ''}`;
  return `${e.time}  ${e.user || '?'}  ${what}  ${refText(e.object)}`;
}

/** `base` (e.g. http://127.0.0.1:16686) turns the /redirect paths into full URLs. */
export function findingText(f: Finding, base = ''): string {
  const lines = [`${MARK[f.severity]} [${f.detector}] ${f.title}`];
  lines.push(`      objects: ${f.objects.slice(0, 10).map(refText).join(', ')}${f.objects.length > 10 ? ', …' : ''}`);
  if (f.actors?.length) lines.push(`      actors:  ${f.actors.join(', ')}`);
  const c = f.cause;
  if (c) lines.push(`      cause:   ${c.time}  ${c.actor}  ${c.verb}${c.subresource ? ` ${c.subresource}` : ''}  ${refText(c.object)}: ${c.summary}`);
  for (const [i, l] of (f.chain ?? []).entries()) lines.push(`      ${i ? '  ← ' : 'chain: '}${l}`);
  for (const e of f.evidence) {
    lines.push(`      - ${evidenceLine(e)}`);
    if (e.diff) for (const d of e.diff.split('\n')) lines.push(`          ${d}`);
    if (e.message) lines.push(`          ${e.message.split('\n')[0]}`);
  }
  lines.push(`      open: ${base.replace(/\/+$/, '')}${f.redirect}`);
  return lines.join('\n');
}

export function reportText(r: Report, o: { base?: string; minSeverity?: Severity } = {}): string {
  const shown = r.findings.filter((f) => severityRank(f.severity) >= severityRank(o.minSeverity ?? 'info'));
  const count = (s: Severity): number => r.findings.filter((f) => f.severity === s).length;
  const out = [
    `kubetrail diagnose${r.cluster ? ` cluster ${r.cluster}` : ''}: ${r.start} → ${r.end} (${r.spans ?? 0} spans)`,
    `${count('error')} error, ${count('warning')} warning, ${count('info')} info finding(s)`,
    '',
  ];
  for (const f of shown) out.push(findingText(f, o.base), '');
  const failed = r.detectors.filter((d) => d.failed);
  out.push(`detectors: ${r.detectors.map((d) => `${d.name} ${d.failed ? 'FAILED' : d.findings}`).join(', ')}`);
  for (const d of failed) out.push(`detector ${d.name} failed: ${d.error ?? 'unknown error'}`);
  if (r.podStartup) {
    const p = r.podStartup;
    const row = (name: string, s: { count: number; p50: number; p90: number; p99: number; max: number }): string =>
      `  ${name.padEnd(22)} n=${String(s.count).padEnd(6)} p50 ${fmt(s.p50)}  p90 ${fmt(s.p90)}  p99 ${fmt(s.p99)}  max ${fmt(s.max)}`;
    out.push(
      '',
      `pod startup: ${p.pods} pods created, ${p.notRunning} not Running in the range`,
      row('create → scheduled', p.scheduled),
      row('scheduled → running', p.running),
      row('create → running', p.startup),
    );
    const groups: [string, Record<string, { startup: { count: number; p50: number; p90: number; p99: number; max: number } }>][] = [
      ['namespace', p.byNamespace],
      ['owner', p.byOwner],
      ['node', p.byNode],
    ];
    for (const [name, g] of groups) {
      const entries = Object.entries(g)
        .sort((a, b) => b[1].startup.p99 - a[1].startup.p99)
        .slice(0, 10);
      if (!entries.length) continue;
      out.push(`  by ${name} (create → running, slowest first):`);
      for (const [k, s] of entries) out.push(`  ${row(k, s.startup)}`);
    }
  }
  return `${out.join('\n')}\n`;
}

const fmt = (s: number): string => `${s.toFixed(3)}s`;

/** XML 1.0 text: escaped, without the control characters XML cannot carry. */
export function xmlEscape(s: string): string {
  return (
    s
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&apos;')
  );
}

/** One testcase per detector; findings at or above `failOn` are its failures (with their evidence). */
export function reportJunit(r: Report, failOn: Severity, base = ''): string {
  const cases: string[] = [];
  let failures = 0;
  let errors = 0;
  for (const d of r.detectors) {
    const mine = r.findings.filter((f) => f.detector === d.name);
    const failing = mine.filter((f) => severityRank(f.severity) >= severityRank(failOn));
    let body = '';
    if (d.failed) {
      errors++;
      body = `\n    <error message="${xmlEscape(`detector failed: ${d.error ?? ''}`)}"/>`;
    } else if (failing.length) {
      failures++;
      const msg = failing.length === 1 ? failing[0]!.title : `${failing.length} findings: ${failing[0]!.title}`;
      body = `\n    <failure message="${xmlEscape(msg)}" type="${failing[0]!.severity}">${xmlEscape(failing.map((f) => findingText(f, base)).join('\n\n'))}</failure>`;
    }
    const others = mine.filter((f) => !failing.includes(f));
    if (others.length) body += `\n    <system-out>${xmlEscape(others.map((f) => findingText(f, base)).join('\n\n'))}</system-out>`;
    cases.push(`  <testcase classname="kubetrail.diagnose" name="${xmlEscape(d.name)}">${body}${body ? '\n  ' : ''}</testcase>`);
  }
  const name = `kubetrail diagnose${r.cluster ? ` ${r.cluster}` : ''} ${r.start} → ${r.end}`;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n<testsuite name="${xmlEscape(name)}" tests="${r.detectors.length}" failures="${failures}" errors="${errors}" timestamp="${xmlEscape(r.start)}">\n${cases.join('\n')}\n</testsuite>\n</testsuites>\n`;
}
