// Derived IDs (docs/architecture.md, "IDs are derived, not stored").
// Any process computes the same IDs for the same input, so replays and redeliveries de-duplicate.
import { hash } from 'node:crypto';

/** The first `chars` hex digits of SHA-256(input), UTF-8 (the one-shot hash: no Hash object per ID). */
function hex(input: string, chars: number): string {
  return hash('sha256', input, 'hex').slice(0, chars);
}

/** 13 hex digits (52 bits) identifying an object key. Shared by raw and display trace IDs. */
export function keyHash(key: string): string {
  return hex(`k|${key}`, 13);
}

/** Start of the window that contains `timeUs`, in Unix seconds. `windowSec` must be a multiple of 60. */
export function windowStartSec(timeUs: number, windowSec: number): number {
  return Math.floor(timeUs / 1e6 / windowSec) * windowSec;
}

/**
 * Raw trace ID of (object, window): keyHash (13 hex) + '000' + window start seconds (16 hex).
 * Self-describing: the read path recovers the window from it and the object from its object span.
 */
export function rawTraceId(key: string, windowStart: number): string {
  return rawTraceIdOfHash(keyHash(key), windowStart);
}

/** rawTraceId from the object's keyHash (another window of a parsed raw trace ID). */
export function rawTraceIdOfHash(hash: string, windowStart: number): string {
  return `${hash}000${windowStart.toString(16).padStart(16, '0')}`;
}

export function parseRawTraceId(traceId: string): { keyHash: string; windowStart: number } | undefined {
  if (!/^[0-9a-f]{13}000[0-9a-f]{16}$/.test(traceId)) return undefined;
  return { keyHash: traceId.slice(0, 13), windowStart: parseInt(traceId.slice(16), 16) };
}

export function objectSpanId(key: string, windowStart: number): string {
  return hex(`o|${key}|${windowStart}`, 16);
}

/** `eventId`: the audit ID, or `<event uid>/<resourceVersion>`, or `watch/<uid>/<resourceVersion>`. */
export function eventSpanId(eventId: string, key: string): string {
  return hex(`e|${eventId}|${key}`, 16);
}

/** The link span that `ownerKey`'s trace holds for its relation to `otherKey`. */
export function linkSpanId(ownerKey: string, otherKey: string, linkClass: string, windowStart: number): string {
  return hex(`l|${ownerKey}|${otherKey}|${linkClass}|${windowStart}`, 16);
}
