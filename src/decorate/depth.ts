// A bound on object nesting, checked before anything recursive (redaction, diff, snapshot JSON,
// linkers, the version cache) sees an object. JSON.parse accepts any depth, but the recursive
// steps overflow the stack at a few thousand levels — and an object that made it into the version
// cache would then break the diff of every later version of that object.
// Real Kubernetes objects stay far below the bound (deep CRD schemas reach ~100 levels).
export const MAX_NESTING = 512;

/** Throws when `v` has objects/arrays nested deeper than `max` levels (no allocation: it runs on every object). */
export function assertNesting(v: unknown, max = MAX_NESTING): void {
  if (typeof v === 'object' && v !== null && deeper(v, 1, max)) throw new Error(`object is nested deeper than ${max} levels`);
}

/** Whether `v` (at level `depth`) nests deeper than `max`; the recursion stops at `max`, so it cannot overflow. */
function deeper(v: object, depth: number, max: number): boolean {
  if (depth > max) return true;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const c: unknown = v[i];
      if (typeof c === 'object' && c !== null && deeper(c, depth + 1, max)) return true;
    }
    return false;
  }
  for (const k in v) {
    const c: unknown = (v as Record<string, unknown>)[k];
    if (typeof c === 'object' && c !== null && deeper(c, depth + 1, max)) return true;
  }
  return false;
}
