// One search result per distinct tree. In the `full tree` and `ancestors` scopes a matched object's
// trace is rooted at its top ancestor, so the nine pods of one Deployment gave nine traces all named
// `deployments demo/demo`, and a bare pod's trace was named after its node: the object that matched
// did not show. Here the traces of one search that show the same tree (same root, same range, the
// matched object inside) become one result, and a result whose matched objects are not just its
// root says which: its root span carries the tags `search.matched` (every matched object, in display
// order) and `search.matched.count`, and the v3 summary names it `<root> · matched <objects>`.
import { Attr, objectKey, type ObjectRef } from '../src/core/model.ts';
import { rootSpanOf, tag, tagOf, type DisplaySpan, type DisplayTrace } from './modes/display.ts';
import { refLabel } from './modes/jaeger-json.ts';
import { decodeDisplayId } from './trace-id.ts';

/** A matched object and the trace a search built for it. */
export interface SearchHit {
  object: ObjectRef;
  trace: DisplayTrace;
}

export const MATCHED_TAG = 'search.matched';
export const MATCHED_COUNT_TAG = 'search.matched.count';
/** Matched objects named in a result's name; the rest are counted (`+10 more`). */
const NAMED_IN_TITLE = 2;

interface Described {
  hit: SearchHit;
  index: number;
  key: string;
  /** The object key of the root span. */
  rootKey?: string;
  /** Root object key + mode, scope and windows; undefined: never merged. */
  tree?: string;
  /** Object key → display position, of the objects shown as object spans. */
  shown: Map<string, number>;
}

interface Result extends Described {
  matched: Described[];
  first: number;
}

function spanObjectKey(s: DisplaySpan): string | undefined {
  if (tagOf(s, Attr.nestLevel) !== 'object') return undefined;
  const [cluster, group, resource, namespace, name] = [Attr.cluster, Attr.group, Attr.resource, Attr.namespace, Attr.name].map((k) => tagOf(s, k));
  if (typeof resource !== 'string' || typeof name !== 'string') return undefined;
  return objectKey({ cluster: String(cluster ?? ''), group: String(group ?? ''), resource, namespace: String(namespace ?? ''), name });
}

function describeHit(hit: SearchHit, index: number): Described {
  const shown = new Map<string, number>();
  for (const s of hit.trace.spans) {
    const k = spanObjectKey(s);
    if (k !== undefined && !shown.has(k)) shown.set(k, shown.size);
  }
  const root = rootSpanOf(hit.trace);
  const rootKey = root && spanObjectKey(root);
  const d = decodeDisplayId(hit.trace.traceId);
  const tree = rootKey !== undefined && d ? `${rootKey}|${d.display}|${d.scope}|${d.windowStart}|${d.windowCount}` : undefined;
  return { hit, index, key: objectKey(hit.object), rootKey, tree, shown };
}

/**
 * The traces of one search, one per distinct tree, in the order of their first matched object.
 * The traces of matched roots, then the larger ones, take in the others: a trace joins the first
 * one with the same root and range that shows its matched object.
 */
export function oneResultPerTree(hits: SearchHit[]): DisplayTrace[] {
  const described = hits.map(describeHit);
  const rootFirst = (d: Described) => (d.rootKey === d.key ? 0 : 1);
  const order = [...described].sort((a, b) => rootFirst(a) - rootFirst(b) || b.hit.trace.spans.length - a.hit.trace.spans.length || a.index - b.index);
  const results: Result[] = [];
  for (const d of order) {
    const into = d.tree === undefined ? undefined : results.find((r) => r.tree === d.tree && r.shown.has(d.key));
    if (into) {
      into.matched.push(d);
      into.first = Math.min(into.first, d.index);
    } else {
      results.push({ ...d, matched: [d], first: d.index });
    }
  }
  return results.sort((a, b) => a.first - b.first).map(tagMatched);
}

/** Tags the result's root span with its matched objects when they are not just its root. */
function tagMatched(r: Result): DisplayTrace {
  const trace = r.hit.trace;
  const root = rootSpanOf(trace);
  if (!root || (r.matched.length === 1 && r.rootKey === r.key)) return trace;
  const matched = [...r.matched].sort((a, b) => (r.shown.get(a.key) ?? Infinity) - (r.shown.get(b.key) ?? Infinity));
  root.tags.push(tag(MATCHED_TAG, matched.map((m) => refLabel(m.hit.object)).join(', ')), tag(MATCHED_COUNT_TAG, matched.length));
  return trace;
}

/**
 * A search result's name (the v3 summary's `rootOperationName`, what the Jaeger UI lists): the root
 * span's name, and when the root span lists matched objects, the first two of them (the root itself
 * as "itself") and how many more — `deployments demo/demo · matched itself, replicasets demo/demo-1 +10 more`.
 */
export function resultName(root: DisplaySpan): string {
  const list = tagOf(root, MATCHED_TAG);
  if (typeof list !== 'string' || list === '') return root.name;
  // Object labels never hold ", " (Kubernetes names and resources have no comma or space).
  const labels = list.split(', ');
  const named = labels.slice(0, NAMED_IN_TITLE).map((l) => (l === root.name ? 'itself' : l));
  const more = labels.length - named.length;
  return `${root.name} · matched ${named.join(', ')}${more > 0 ? ` +${more} more` : ''}`;
}
