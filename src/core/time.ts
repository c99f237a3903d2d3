// RFC 3339 timestamps (as Kubernetes writes them) to Unix microseconds, without losing the
// microseconds Date.parse drops. Returns undefined for anything unparsable.
export function parseTimeUs(s: unknown): number | undefined {
  if (typeof s !== 'string' || s.length < 20) return undefined;
  if (s.charCodeAt(19) !== 46 /* . */) {
    const ms = Date.parse(s);
    return Number.isNaN(ms) ? undefined : ms * 1000;
  }
  let i = 20;
  let frac = 0;
  let digits = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) break;
    if (digits < 6) {
      frac = frac * 10 + (c - 48);
      digits++;
    }
    i++;
  }
  const ms = Date.parse(s.slice(0, 19) + s.slice(i));
  if (Number.isNaN(ms)) return undefined;
  while (digits < 6) {
    frac *= 10;
    digits++;
  }
  return ms * 1000 + frac;
}
