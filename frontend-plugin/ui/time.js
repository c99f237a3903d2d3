// @ts-check
// Time formatting. Times are Unix microseconds (Jaeger's unit), shown in UTC like audit logs.
const pad = (n, w = 2) => String(n).padStart(w, '0');

export function fmtTime(us) {
  const d = new Date(us / 1000);
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`;
}
export function fmtDate(us) {
  const d = new Date(us / 1000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}
export function fmtDateTime(us) {
  return `${fmtDate(us)} ${fmtTime(us)} UTC`;
}
export function fmtShort(us) {
  const d = new Date(us / 1000);
  return `${fmtDate(us)} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}
/** Duration in µs → "850ms", "12.3s", "4m 05s", "2h 10m", "3d 4h". */
export function fmtDuration(us) {
  const ms = us / 1000;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(2) : s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${pad(Math.floor(s % 60))}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${pad(m % 60)}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}
export function fmtOffset(us) {
  return (us < 0 ? '−' : '+') + fmtDuration(Math.abs(us));
}

/** Round tick step (µs) giving about `count` ticks over `span` µs. */
export function tickStep(span, count = 6) {
  const steps = [1, 2, 5, 10, 20, 50, 100, 200, 500]
    .map((x) => x * 1e3) // ms
    .concat([1, 2, 5, 10, 15, 30].map((x) => x * 1e6)) // s
    .concat([1, 2, 5, 10, 15, 30].map((x) => x * 60e6)) // min
    .concat([1, 2, 3, 6, 12, 24, 48, 168].map((x) => x * 3600e6)); // h
  const want = span / count;
  return steps.find((s) => s >= want) ?? steps[steps.length - 1];
}
