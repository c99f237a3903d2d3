// Which failed requests are real errors. Kubernetes controllers fail routinely and recover on
// their own (an optimistic-concurrency 409 retried a moment later, kwok deleting a pod that is
// already gone); showing those as errors made "3 spans 3 errors" the normal picture. One rule,
// shared by the display modes, the tag search (`error=true`), the built-in UI and the diagnosis:
//
//   expected  DELETE answered 404                       the object is already gone: the wish is fulfilled
//   expected  409 Conflict, and the same actor later    an optimistic-concurrency retry that worked
//             writes the same object successfully
//   expected  422 on a dry-run request                  validation answered a "what if"; nothing was written
//   error     every other failed request (src/core/failed.ts: a code outside 2xx, or an error message)
//
// See docs/read-path.md, "Failures".
import { isFailed, succeeded } from '../src/core/failed.ts';
import type { SpanRecord } from '../src/core/model.ts';
import { codeOf, errorOf, verbOf, writerOf } from '../src/core/span-view.ts';

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
    const msg = errorOf(s) ?? `HTTP ${code}`;
    const verb = verbOf(s);
    const base = { message: msg, ...(code ? { code } : {}) };
    if (code === 404 && verb === 'delete') {
      out.set(s.spanId, { class: 'expected', reason: 'already-gone', ...base });
      continue;
    }
    if (code === 422 && isDryRun(s)) {
      out.set(s.spanId, { class: 'expected', reason: 'dry-run', ...base });
      continue;
    }
    if (code === 409) {
      const user = writerOf(s);
      const retried = user !== '' && sorted.slice(i + 1).some((l) => writerOf(l) === user && WRITE_VERBS.has(verbOf(l)) && succeeded(l));
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
