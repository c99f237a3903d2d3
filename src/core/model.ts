// The span model shared by the write path (src/), the sinks and the read path (frontend-plugin/).
// See docs/architecture.md: every (object, window) is one raw trace holding one object span,
// its event spans and its link spans. IDs are derived (src/core/ids.ts), never stored or cached.

/** Identifies one Kubernetes object across its whole life (uid is a tag, not part of the key). */
export interface ObjectRef {
  cluster: string;
  /** API group, '' for the core group. */
  group: string;
  /** Plural resource name, e.g. 'deployments'. */
  resource: string;
  /** '' for cluster-scoped objects. */
  namespace: string;
  name: string;
}

/** `cluster/group/resource/namespace/name`. */
export function objectKey(o: ObjectRef): string {
  return `${o.cluster}/${o.group}/${o.resource}/${o.namespace}/${o.name}`;
}

export function parseObjectKey(key: string): ObjectRef {
  const parts = key.split('/');
  if (parts.length !== 5) throw new Error(`not an object key (cluster/group/resource/namespace/name): ${key}`);
  const [cluster, group, resource, namespace, name] = parts as [string, string, string, string, string];
  return { cluster, group, resource, namespace, name };
}

export type SpanRole = 'object' | 'event' | 'link';
export type AttrValue = string | number | boolean;

/**
 * One span as the sinks store it and the backends return it.
 * Times are Unix microseconds (Jaeger's unit).
 */
export interface SpanRecord {
  traceId: string; // 32 hex
  spanId: string; // 16 hex
  /** Event and link spans: the object span of the same trace. Object spans: none. */
  parentSpanId?: string;
  kind: SpanRole;
  name: string;
  startUs: number;
  endUs: number;
  /** The object whose (object, window) trace this span belongs to. */
  object: ObjectRef;
  /** Tags; keys are the `Attr` constants below. Values never contain secret data. */
  attributes: Record<string, AttrValue>;
  /** Set when the span stands for a failed request; the message is shown as the error. */
  error?: string;
}

/** Tag names used on spans. Stable: they are what Jaeger stores and what the read path reads. */
export const Attr = {
  // every span
  cluster: 'cluster',
  group: 'group',
  version: 'version',
  resource: 'resource',
  namespace: 'namespace',
  name: 'name',
  nestLevel: 'nestLevel', // SpanRole
  uid: 'uid',
  // event spans
  source: 'source', // 'audit' | 'watch' | 'event' | SIMKUBE_SOURCE (import of a SimKube trace)
  auditId: 'auditId',
  user: 'user', // the effective user (impersonated user when impersonating)
  impersonatedBy: 'impersonatedBy', // the authenticated user when impersonating
  userAgent: 'userAgent',
  sourceIP: 'sourceIP',
  verb: 'verb',
  subresource: 'subresource',
  code: 'code',
  oldResourceVersion: 'resourceVersion.old',
  newResourceVersion: 'resourceVersion.new',
  diff: 'diff', // newline-separated `path old -> new` lines
  diffEntries: 'diff.entries', // JSON array of {path, old?, new?} (absent key = <none>), the same changes as `diff`
  diffVerbose: 'diff.verbose', // metadata.resourceVersion / metadata.generation lines
  noop: 'noop', // true when an update changed nothing
  snapshot: 'snapshot', // JSON of the object on create/delete
  firstSeen: 'firstSeen', // true when `snapshot` is the first state kubetrail saw of an object (an update/patch)
  error: 'error', // Status reason: message of a failed request
  requestResource: 'request.resource', // 'group/resource' a request was about, when its span is on another object (the namespace)
  matched: 'matched', // objects a collection request (deletecollection) matched
  generateName: 'generateName', // the prefix of a create that failed before the API server made a name
  eventReason: 'event.reason',
  eventMessage: 'event.message',
  eventType: 'event.type', // Normal | Warning
  eventComponent: 'event.component', // reporting controller / source component
  eventCount: 'event.count',
  fieldManager: 'fieldManager', // list-watch only mode: who made the change
  attribution: 'attribution', // list-watch only mode: 'fields' (the rule decided), 'guessed', 'unknown' (a delete)
  // link spans
  linkClass: 'link.class', // children | node | annotation | ...
  linkRole: 'link.role', // 'parent': the linked object is this object's parent; 'child': it is a child
  linkKey: 'link.key', // objectKey() of the linked object
  linkController: 'link.controller', // true on both halves of a controlling owner reference
} as const;

/** The span `source` of what an import of a SimKube trace traced (src/sources/simkube-trace.ts). */
export const SIMKUBE_SOURCE = 'simkube-trace';

export type LinkRole = 'parent' | 'child';

/** A relation found by a linker (linkers/): `from` is the object the linker looked at. */
export interface Link {
  /** The other object. */
  target: ObjectRef;
  /** What the target is to the object: its parent (owner, node, annotated parent) or its child. */
  role: LinkRole;
  class: string;
  /** An owner reference with `controller: true` (class children): the controlling owner. */
  controller?: boolean;
}
