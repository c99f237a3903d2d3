// What counts as a failed request, for every part that needs to know: the store counts them as it
// writes (src/sinks/sqlite-writer.ts, the overview's index), the read path classifies them as
// expected or real (frontend-plugin/failures.ts).
import { Attr, type SpanRecord } from './model.ts';

/** The HTTP status code of an event span (number or digit string), if any. */
export function responseCode(s: SpanRecord): number | undefined {
  const c = s.attributes[Attr.code];
  return typeof c === 'number' ? c : typeof c === 'string' && /^\d+$/.test(c) ? Number(c) : undefined;
}

/** The request's error message (the span's error, or the `error` attribute), if any. */
export function errorMessage(s: SpanRecord): string | undefined {
  if (s.error) return s.error;
  const e = s.attributes[Attr.error];
  return typeof e === 'string' && e !== '' ? e : undefined;
}

/** Whether the span stands for a failed request (code ≥ 400, or a failure the write path recorded). */
export function isFailed(s: SpanRecord): boolean {
  if (s.kind !== 'event') return false;
  const code = responseCode(s);
  return errorMessage(s) !== undefined || (code !== undefined && code >= 400);
}
