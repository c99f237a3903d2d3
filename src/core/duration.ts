// Durations as users type them (`500ms`, `90s`, `30m`, `1h`, `2d`, `1h30m`): one syntax for every
// flag, config key and query parameter (--window, --kafka-warmup, --sink-schedule-delay, Jaeger's
// `lookback`, …). parse-duration does the arithmetic; the grammar check keeps it strict (it would
// read `1h soon` as an hour). A plain number is in the unit of the caller.
import parse from 'parse-duration';

const GRAMMAR = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+$/;

/** The duration in `unit` (a plain number is taken as already in it); throws a clear error on anything else. */
export function parseDuration(text: string, unit: 'ms' | 's'): number {
  const s = text.trim();
  if (/^\d+(?:\.\d+)?$/.test(s)) return Number(s);
  const v = GRAMMAR.test(s) ? parse(s, unit) : null;
  if (v === null || v === undefined || !Number.isFinite(v)) throw new Error(`not a duration (e.g. 500ms, 30s, 30m, 1h, 2d): ${text}`);
  return unit === 'ms' ? Math.round(v) : v;
}

/** Seconds. */
export const parseDurationSec = (text: string): number => parseDuration(text, 's');
