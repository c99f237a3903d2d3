// Which failed requests are real errors. Kubernetes controllers fail routinely and recover on
// their own (an optimistic-concurrency 409 retried a moment later, kwok deleting a pod that is
// already gone); showing those as errors made "3 spans 3 errors" the normal picture. One rule,
// shared by the display modes, the tag search (`error=true`), the built-in UI and the diagnosis:
//
//   expected  DELETE answered 404                       the object is already gone: the wish is fulfilled
//   expected  409 Conflict, and the same actor later    an optimistic-concurrency retry that worked
//             writes the same object successfully
//   expected  422 on a dry-run request                  validation answered a "what if"; nothing was written
//   error     every other failed request (code ≥ 400, or an error message without a code)
//
// See docs/read-path.md, "Failures".
import { errorMessage as messageOf, isFailed, responseCode as codeOf } from '../src/core/failed.ts';
import { Attr, type SpanRecord } from '../src/core/model.ts';

export type FailureClass = 'expected' | 'error';

export interface Failure {
  class: FailureClass;
  /** Short, stable reason: `already-gone`, `conflict-retried`, `dry-run`, or `failed`. */
  reason: string;
  /** The request's error message (Status reason/message), or `HTTP <code>`. */
  message: string;
  code?: number;
}

const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection', 'apply']);

/** Whether the span stands for a failed request (src/core/failed.ts). */
export { isFailed };

function isDryRun(s: SpanRecord): boolean {
  const a = s.attributes;
  if (a.dryRun === true || a.dryRun === 'true' || a.dryRun === 'All') return true;
  const uri = a.requestURI;
  return typeof uri === 'string' && /[?&]dryRun=/.test(uri);
}

function succeeded(s: SpanRecord): boolean {
  const code = codeOf(s);
  return s.kind === 'event' && messageOf(s) === undefined && (code === undefined || code < 300);
}

/**
 * Classifies the failed requests among one object's events (any order; the rule looks at later
 * events of the same object). Returns a map span ID → failure; events that did not fail are absent.
 */
export function classifyFailures(events: readonly SpanRecord[]): Map<string, Failure> {
  const out = new Map<string, Failure>();
  const sorted = [...events].sort((a, b) => a.startUs - b.startUs);
  for (const [i, s] of sorted.entries()) {
    if (!isFailed(s)) continue;
    const code = codeOf(s);
    const msg = messageOf(s) ?? `HTTP ${code}`;
    const verb = String(s.attributes[Attr.verb] ?? '');
    const base = { message: msg, ...(code !== undefined ? { code } : {}) };
    if (code === 404 && verb === 'delete') {
      out.set(s.spanId, { class: 'expected', reason: 'already-gone', ...base });
      continue;
    }
    if (code === 422 && isDryRun(s)) {
      out.set(s.spanId, { class: 'expected', reason: 'dry-run', ...base });
      continue;
    }
    if (code === 409) {
      const user = s.attributes[Attr.user];
      const retried =
        user !== undefined &&
        sorted.slice(i + 1).some((l) => l.attributes[Attr.user] === user && WRITE_VERBS.has(String(l.attributes[Attr.verb] ?? '')) && succeeded(l));
      if (retried) {
        out.set(s.spanId, { class: 'expected', reason: 'conflict-retried', ...base });
        continue;
      }
    }
    out.set(s.spanId, { class: 'error', reason: 'failed', ...base });
  }
  return out;
}

/** The failure of one span, classified among its object's events. */
export function failureOf(s: SpanRecord, objectEvents: readonly SpanRecord[]): Failure | undefined {
  return classifyFailures(objectEvents).get(s.spanId);
}

/** Text for a warning: `expected failure (conflict-retried): Conflict: …`. */
export function describeExpected(f: Failure): string {
  return `expected failure (${f.reason}): ${f.message}`;
}
