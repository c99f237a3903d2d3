// Durations as users type them (`30m`, `1h`, `2d`, `90s`, `1h30m`), for --window and Jaeger's `lookback`.
const UNIT_SEC: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** Seconds; throws a clear error on anything else. */
export function parseDurationSec(text: string): number {
  const s = text.trim();
  if (/^\d+$/.test(s)) return Number(s);
  const re = /(\d+(?:\.\d+)?)([smhdw])/gy;
  let total = 0;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = re.exec(s)) !== null) {
    total += Number(m[1]) * UNIT_SEC[m[2]!]!;
    consumed = re.lastIndex;
  }
  if (consumed !== s.length || consumed === 0) throw new Error(`not a duration (e.g. 30m, 1h, 2d): ${text}`);
  return total;
}
