// What counts as a failed request — the one rule for every part that needs to know: the store
// counts them as it writes (src/sinks/sqlite-writer.ts, the overview's index), the display modes
// mark them (`error` tag, red in the UI), the v3 API sets the span status, the diagnosis counts
// them; the read path then classifies them as expected or real (frontend-plugin/failures.ts).
//
// A request failed when the API server did not do it: a status code outside 2xx, or an error the
// write path recorded (src/normalize/audit-event.ts records one for every code ≥ 300). A
// Kubernetes Event is not a request: it never failed.
import type { SpanRecord } from './model.ts';
import { codeOf, errorOf, isKubeEvent, verbOf } from './span-view.ts';

/** Whether the span stands for a request that failed (see the header). */
export function isFailed(s: SpanRecord): boolean {
  if (s.kind !== 'event' || isKubeEvent(s)) return false;
  return failedWith(codeOf(s), errorOf(s));
}

/** The rule on a request's two facts, for readers that hold them without a span (the UI tree). */
export function failedWith(code: number | undefined, error: string | undefined): boolean {
  return (error !== undefined && error !== '') || (code !== undefined && code >= 300);
}

/** The same rule over the store's `spans` table (its one-off backfill of old stores' failure index). */
export const FAILED_SQL = `kind = 'event' AND coalesce(attributes ->> '$.source', '') != 'event'
  AND ((error IS NOT NULL AND error != '') OR coalesce(attributes ->> '$.error', '') != ''
    OR CAST(attributes ->> '$.code' AS INTEGER) >= 300)`;

/** Whether the span stands for a request the API server accepted (not a Kubernetes Event). */
export function succeeded(s: SpanRecord): boolean {
  return s.kind === 'event' && !isKubeEvent(s) && !isFailed(s);
}

/** A write (a request with a verb) the API server accepted. */
export const isWrite = (s: SpanRecord): boolean => verbOf(s) !== '' && succeeded(s);
