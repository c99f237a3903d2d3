// Display trace IDs: self-describing, so any proxy replica answers any ID it (or another replica)
// issued, also after a restart — nothing is kept in memory or in the backend.
//
//   ff | mode (8 hex) | keyHash (13 hex) | start minute (7 hex) | window count (2 hex)
//
// mode = display digit + scope digit + '000000' (Kelemetry's convention: `20000000` tracing,
// `21000000` tracing + full tree, ...). Swapping the 8 mode digits shows the same lookup in another
// mode. The raw trace of the first window is keyHash + '000' + window start (src/core/ids.ts), so the
// object key is recovered from that raw trace's object span.
import { parseRawTraceId } from '../src/core/ids.ts';

export type DisplayMode = 'tracing' | 'tree' | 'timeline' | 'grouped';
export type Scope = 'default' | 'full' | 'ancestors' | 'owned';

export interface DisplayId {
  display: DisplayMode;
  scope: Scope;
  keyHash: string; // 13 hex
  /** Start of the first window shown, in Unix seconds (a multiple of 60). */
  windowStart: number;
  /** Number of consecutive windows shown, 1..255. */
  windowCount: number;
}

const DISPLAY_DIGIT: Record<DisplayMode, string> = { tree: '0', timeline: '1', tracing: '2', grouped: '3' };
const SCOPE_DIGIT: Record<Scope, string> = { default: '0', full: '1', ancestors: '2', owned: '4' };
const DISPLAYS = Object.keys(DISPLAY_DIGIT) as DisplayMode[];
const SCOPES = Object.keys(SCOPE_DIGIT) as Scope[];

/** The Jaeger "service" names, as Kelemetry spells them. */
const SCOPE_SUFFIX: Record<Scope, string> = {
  default: '',
  full: ' (full tree)',
  ancestors: ' (ancestors)',
  owned: ' (owned objects)',
};

export const MAX_WINDOWS = 255;

export function modeDigits(display: DisplayMode, scope: Scope): string {
  return `${DISPLAY_DIGIT[display]}${SCOPE_DIGIT[scope]}000000`;
}

export function encodeDisplayId(d: DisplayId): string {
  if (!/^[0-9a-f]{13}$/.test(d.keyHash)) throw new Error(`keyHash must be 13 hex digits: ${d.keyHash}`);
  if (d.windowStart % 60 !== 0 || d.windowStart < 0) throw new Error(`window start must be whole minutes: ${d.windowStart}`);
  if (!Number.isInteger(d.windowCount) || d.windowCount < 1 || d.windowCount > MAX_WINDOWS) {
    throw new Error(`window count must be 1..${MAX_WINDOWS}: ${d.windowCount}`);
  }
  const minute = d.windowStart / 60;
  return 'ff' + modeDigits(d.display, d.scope) + d.keyHash + minute.toString(16).padStart(7, '0') + d.windowCount.toString(16).padStart(2, '0');
}

/** undefined when `id` is not a display ID (e.g. a raw trace ID or garbage). */
export function decodeDisplayId(id: string): DisplayId | undefined {
  const m = /^ff([0-9a-f])([0-9a-f])000000([0-9a-f]{13})([0-9a-f]{7})([0-9a-f]{2})$/.exec(id.toLowerCase());
  if (!m) return undefined;
  const display = DISPLAYS.find((k) => DISPLAY_DIGIT[k] === m[1]);
  const scope = SCOPES.find((k) => SCOPE_DIGIT[k] === m[2]);
  const windowCount = parseInt(m[5]!, 16);
  if (!display || !scope || windowCount < 1) return undefined;
  return { display, scope, keyHash: m[3]!, windowStart: parseInt(m[4]!, 16) * 60, windowCount };
}

/** The same lookup in another display mode / scope. */
export function withMode(id: string, display: DisplayMode, scope: Scope): string {
  const d = decodeDisplayId(id);
  if (!d) throw new Error(`not a display trace ID: ${id}`);
  return encodeDisplayId({ ...d, display, scope });
}

/** Raw trace ID (src/core/ids.ts rawTraceId) of window `i` of a display ID; needs only the key hash. */
export function rawTraceIdOf(d: DisplayId, windowSec: number, i = 0): string {
  const ws = d.windowStart + i * windowSec;
  return `${d.keyHash}000${ws.toString(16).padStart(16, '0')}`;
}

export function isRawTraceId(id: string): boolean {
  return parseRawTraceId(id.toLowerCase()) !== undefined;
}

export function serviceName(display: DisplayMode, scope: Scope): string {
  return display + SCOPE_SUFFIX[scope];
}

/** All display modes, in the order Kelemetry lists them (tracing first: the default). */
export function serviceNames(): string[] {
  const out: string[] = [];
  for (const display of ['tracing', 'tree', 'timeline', 'grouped'] as DisplayMode[]) {
    for (const scope of ['default', 'full', 'ancestors', 'owned'] as Scope[]) out.push(serviceName(display, scope));
  }
  return out;
}

/** Parses a "service" name (`tracing (full tree)`); undefined when unknown. Empty → tracing. */
export function parseServiceName(name: string | undefined): { display: DisplayMode; scope: Scope } | undefined {
  const s = (name ?? '').trim().toLowerCase();
  if (s === '') return { display: 'tracing', scope: 'default' };
  for (const display of DISPLAYS) {
    for (const scope of SCOPES) {
      if (serviceName(display, scope) === s) return { display, scope };
    }
  }
  return undefined;
}
