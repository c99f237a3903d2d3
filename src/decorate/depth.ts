// A bound on object nesting, checked before anything recursive (redaction, diff, snapshot JSON,
// linkers, the version cache) sees an object. JSON.parse accepts any depth, but the recursive
// steps overflow the stack at a few thousand levels — and an object that made it into the version
// cache would then break the diff of every later version of that object.
// Real Kubernetes objects stay far below the bound (deep CRD schemas reach ~100 levels).
export const MAX_NESTING = 512;

/** Throws when `v` has objects/arrays nested deeper than `max` levels (iterative: no recursion). */
export function assertNesting(v: unknown, max = MAX_NESTING): void {
  if (typeof v !== 'object' || v === null) return;
  const stack: [unknown, number][] = [[v, 1]];
  while (stack.length > 0) {
    const [cur, depth] = stack.pop()!;
    if (depth > max) throw new Error(`object is nested deeper than ${max} levels`);
    for (const child of Array.isArray(cur) ? cur : Object.values(cur as object)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
}
