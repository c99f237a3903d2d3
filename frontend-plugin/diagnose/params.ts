// Parsing what users type for a diagnosis (CLI flags and /api/diagnose query parameters): times,
// selectors, thresholds. Errors are clear messages (the CLI exits 2, the API answers 400).
import { parseDurationSec } from '../../src/core/duration.ts';
import { HttpError } from '../../src/core/http-error.ts';
import type { ObjectRef } from '../../src/core/model.ts';
import { defaultThresholds, type Thresholds } from './types.ts';

/** A malformed or contradicting flag or parameter: the CLI exits 2, the API answers 400. */
export class UsageError extends HttpError {
  constructor(message: string) {
    super(400, message);
    this.name = 'UsageError';
  }
}

/** RFC 3339, Unix s / ms / µs (by magnitude), or a duration meaning "that long before now" (`1h`). */
export function parseTimeArg(text: string, nowMs = Date.now()): number {
  const s = text.trim();
  if (/^\d+(\.\d+)?$/.test(s)) {
    const n = Number(s);
    return n > 1e14 ? n : n > 1e11 ? n * 1e3 : n * 1e6;
  }
  if (/^\d{4}-\d\d-\d\d/.test(s)) {
    const ms = Date.parse(s);
    if (Number.isNaN(ms)) throw new UsageError(`not a time: ${text}`);
    return ms * 1000;
  }
  try {
    return (nowMs - parseDurationSec(s) * 1000) * 1000;
  } catch {
    throw new UsageError(`not a time (RFC 3339, Unix seconds, or a duration before now such as 1h): ${text}`);
  }
}

/** `group/resource/namespace/name` (core group empty: `/pods/default/web-0`; cluster-scoped: `/nodes//n1`). */
export function parseSelector(text: string, cluster: string | undefined): ObjectRef {
  const parts = text.split('/');
  if (parts.length !== 4 || !parts[1] || !parts[3]) {
    throw new UsageError(`--selector expects group/resource/namespace/name (core group empty: /pods/default/web-0), got '${text}'`);
  }
  const [group, resource, namespace, name] = parts as [string, string, string, string];
  return { cluster: cluster ?? '', group, resource, namespace, name };
}

/** A threshold given as seconds: a duration (`90s`, `2m`) or a number of seconds (`0.5`). */
export function parseSeconds(text: string): number {
  const s = text.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s);
  const ms = /^(\d+(?:\.\d+)?)ms$/.exec(s);
  if (ms) return Number(ms[1]) / 1000;
  try {
    return parseDurationSec(s);
  } catch {
    throw new UsageError(`not a duration (e.g. 5s, 500ms, 2m): ${text}`);
  }
}

export function parseNumber(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`not a non-negative number: ${text}`);
  return n;
}

/** Threshold keys that are durations (their flags take `30s`, `2m`); the rest are counts or ratios. */
export const DURATION_THRESHOLDS = new Set<keyof Thresholds>([
  'rolloutTimeoutSec',
  'scheduleTimeoutSec',
  'runTimeoutSec',
  'orphanGraceSec',
  'slowReactionSec',
  'hotLoopMinDurationSec',
  'deletionTimeoutSec',
  'pvcPendingTimeoutSec',
  'evictionBlockTimeoutSec',
]);

/** Flag / config / query name of a threshold: `rolloutTimeoutSec` → `rolloutTimeout`, `--rollout-timeout`. */
export const thresholdParam = (k: keyof Thresholds): string => k.replace(/Sec$/, '');
export const thresholdFlag = (k: keyof Thresholds): string => `--${thresholdParam(k).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** Thresholds from `{rolloutTimeout: '30s', conflictMin: '3'}` (query parameters, config values). */
export function thresholdsFrom(values: Record<string, unknown>): Partial<Thresholds> {
  const out: Partial<Thresholds> = {};
  for (const k of Object.keys(defaultThresholds) as (keyof Thresholds)[]) {
    const v = values[thresholdParam(k)];
    if (v === undefined || v === '') continue;
    out[k] = typeof v === 'number' ? v : DURATION_THRESHOLDS.has(k) ? parseSeconds(String(v)) : parseNumber(String(v));
  }
  return out;
}
