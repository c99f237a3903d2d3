// A strategic merge patch (Kubernetes' patch type, as kwok's recorder writes its `method: patch`
// documents) applied without the API's schema. The schema says per list field how it merges; here
// a table of the built-in types' merge keys stands in for it (a list named `conditions` merges by
// `type`, `containers` by `name`, ...), and every other list is replaced whole, as a JSON merge
// patch does. The directives the API's two-way patch writes are honoured: `$setElementOrder/<f>`,
// `$deleteFromPrimitiveList/<f>`, `$retainKeys`, and `$patch: replace | delete` in maps and items.
// What the table misses (a CRD's merge-keyed list) comes out replaced by the patch's items.
import { isRecord } from '../core/audit-event.ts';

/** List fields of the built-in types that merge by a key: field name → the key (first one its items have). */
const MERGE_KEYS: Record<string, string[]> = {
  containers: ['name'],
  initContainers: ['name'],
  ephemeralContainers: ['name'],
  volumes: ['name'],
  env: ['name'],
  imagePullSecrets: ['name'],
  resourceClaims: ['name'],
  ports: ['containerPort', 'port'],
  conditions: ['type'],
  addresses: ['type'],
  volumeMounts: ['mountPath'],
  volumeDevices: ['devicePath'],
  ownerReferences: ['uid'],
  hostAliases: ['ip'],
  podIPs: ['ip'],
  hostIPs: ['ip'],
  taints: ['key'],
  topologySpreadConstraints: ['topologyKey'],
};

/** Lists of plain values that merge as sets (patchStrategy merge). */
const MERGED_PRIMITIVE_LISTS = new Set(['finalizers']);

const ORDER = '$setElementOrder/';
const DELETE_FROM = '$deleteFromPrimitiveList/';

/** `patch` applied to `base` (neither is changed); the result is a new value. */
export function applyStrategicMerge(base: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return structuredClone(patch);
  if (patch.$patch === 'replace') return withoutDirectives(patch);
  if (patch.$patch === 'delete') return undefined;
  const out: Record<string, unknown> = isRecord(base) ? structuredClone(base) : {};
  if (Array.isArray(patch.$retainKeys)) {
    const keep = new Set(patch.$retainKeys.map(String));
    for (const k of Object.keys(out)) if (!keep.has(k)) delete out[k];
  }
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith(DELETE_FROM)) {
      const field = k.slice(DELETE_FROM.length);
      const gone = new Set((Array.isArray(v) ? v : []).map((x) => JSON.stringify(x)));
      if (Array.isArray(out[field])) out[field] = (out[field] as unknown[]).filter((x) => !gone.has(JSON.stringify(x)));
      continue;
    }
    if (k.startsWith('$')) continue;
    if (v === null) delete out[k];
    else if (Array.isArray(v)) out[k] = mergeList(k, out[k], v);
    else if (isRecord(v)) {
      const merged = applyStrategicMerge(out[k], v);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    } else out[k] = v;
  }
  for (const [k, order] of Object.entries(patch)) {
    if (k.startsWith(ORDER) && Array.isArray(order) && Array.isArray(out[k.slice(ORDER.length)])) {
      const field = k.slice(ORDER.length);
      out[field] = reorder(out[field] as unknown[], order);
    }
  }
  return out;
}

function withoutDirectives(v: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(v)
      .filter(([k]) => !k.startsWith('$'))
      .map(([k, x]) => [k, structuredClone(x)]),
  );
}

/** The key a list's items merge by, when the field is in the table and the items carry it. */
function mergeKey(field: string, items: readonly unknown[]): string | undefined {
  const keys = MERGE_KEYS[field];
  if (!keys) return undefined;
  return keys.find((key) => items.length > 0 && items.every((i) => isRecord(i) && (i[key] !== undefined || i.$patch !== undefined)));
}

function mergeList(field: string, base: unknown, patch: unknown[]): unknown[] {
  const before = Array.isArray(base) ? base : [];
  if (patch.some((i) => isRecord(i) && i.$patch === 'replace'))
    return patch.filter((i) => !(isRecord(i) && i.$patch === 'replace')).map((i) => structuredClone(i));
  if (MERGED_PRIMITIVE_LISTS.has(field) && patch.every((i) => !isRecord(i))) {
    const seen = new Set(before.map((x) => JSON.stringify(x)));
    return [...structuredClone(before), ...patch.filter((x) => !seen.has(JSON.stringify(x)))];
  }
  const key = mergeKey(field, patch);
  if (key === undefined) return structuredClone(patch);
  const out = structuredClone(before);
  for (const item of patch as Record<string, unknown>[]) {
    const at = out.findIndex((b) => isRecord(b) && b[key] === item[key]);
    if (item.$patch === 'delete') {
      if (at >= 0) out.splice(at, 1);
    } else if (at >= 0) out[at] = applyStrategicMerge(out[at], item);
    else out.push(applyStrategicMerge(undefined, item));
  }
  return out;
}

/** A merged list in the order `$setElementOrder` gives (by merge key, or by value); the rest after. */
function reorder(list: unknown[], order: unknown[]): unknown[] {
  const id = (x: unknown) => (isRecord(x) ? JSON.stringify(Object.values(x)[0]) : JSON.stringify(x));
  const keyOf = (x: unknown, probe: unknown) => (isRecord(x) && isRecord(probe) ? JSON.stringify(x[Object.keys(probe)[0]!]) : JSON.stringify(x));
  const placed: unknown[] = [];
  const rest = [...list];
  for (const o of order) {
    const at = rest.findIndex((x) => keyOf(x, o) === id(o));
    if (at >= 0) placed.push(...rest.splice(at, 1));
  }
  return [...placed, ...rest];
}
