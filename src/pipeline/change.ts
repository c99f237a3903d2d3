// The one record every input becomes: a change to one object (or, for a request about no single
// object, to its namespace), whatever told of it — an audit event, a watch change or a Kubernetes
// Event. Thin normalisers here build it; one ordered step list (steps/index.ts) turns it into the
// content of its event span. Only the source-specific fields differ; what the span is (object,
// identity, name, time) is in the head every change carries.
import { Attr, objectKey } from '../core/model.ts';
import type { AttrValue, ObjectRef } from '../core/model.ts';
import { isRecord } from '../core/audit-event.ts';
import type { KubeObject } from '../core/audit-event.ts';
import type { NormalizedAudit } from '../normalize/audit-event.ts';
import { managedEntries, type FieldManagerInfo } from '../normalize/watch-change.ts';
import { kubeEventInput } from '../aggregate/kube-event.ts';
import { NOT_THE_OBJECT } from './steps/context.ts';

export interface WatchChange {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: unknown;
  group: string;
  version: string;
  resource: string;
  /**
   * A change read from a recording (`kubetrail import`), not a live watch: when it happened, the
   * span's `source`, and an id of the change (recordings carry no resourceVersion): the same for the
   * same change imported twice, different for two recordings.
   */
  recorded?: { atUs: number; source: string; id: string };
}

/** What every change knows before any step ran; steps may refine name and time (a watch change's writer). */
interface ChangeHead {
  /** The object (its namespace as the object key uses it). */
  readonly ref: ObjectRef;
  readonly key: string;
  /** API version of the object, '' when the input does not say. */
  readonly version: string;
  /** Stable identity of the event span: audit ID, `watch/<uid>/<rv>`, `event/<uid>/<count>`. */
  readonly eventId: string;
  readonly name: string;
  readonly startUs: number;
  readonly endUs: number;
  readonly uid?: string;
  readonly error?: string;
}

export interface AuditChange extends ChangeHead {
  readonly source: 'audit';
  readonly audit: NormalizedAudit;
  /** The response body about this object as sent (one item of a deletecollection's list). */
  readonly rawResponse: unknown;
  /** A request about no single object, on its namespace's trace: the tags that say which request. */
  readonly onNamespace?: Record<string, AttrValue>;
}

export interface WatchObjectChange extends ChangeHead {
  readonly source: 'watch';
  readonly type: WatchChange['type'];
  /** The object as the watch delivered it, not yet cleaned. */
  readonly rawObject: KubeObject;
  readonly recorded?: WatchChange['recorded'];
  /** List-watch only (no audit log): the managedFields entries, read before cleaning strips them. */
  readonly managed?: FieldManagerInfo[];
}

export interface KubeEventChange extends ChangeHead {
  readonly source: 'event';
  /** The Event's tags (reason, message, type, component, count). */
  readonly tags: Record<string, AttrValue>;
}

export type Change = AuditChange | WatchObjectChange | KubeEventChange;

/** Gives an object reference the namespace its key uses ('' for cluster-scoped resources). */
export type Scope = (ref: ObjectRef) => ObjectRef;

const WATCH_TYPES = new Set(['ADDED', 'MODIFIED', 'DELETED']);

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** A watch change as a Change, or an error message. `listWatchOnly`: its managedFields tell who wrote it. */
export function watchObjectChange(change: WatchChange, cluster: string, scope: Scope, listWatchOnly: boolean): WatchObjectChange | string {
  if (!isRecord(change) || !WATCH_TYPES.has(change.type)) return `watch change type must be ADDED, MODIFIED or DELETED`;
  const raw = change.object;
  if (!isRecord(raw) || !isRecord(raw.metadata) || typeof raw.metadata.name !== 'string' || raw.metadata.name === '') {
    return 'watch change object has no metadata.name';
  }
  if (typeof change.resource !== 'string' || change.resource === '') return 'watch change has no resource';
  const group = typeof change.group === 'string' ? change.group : '';
  const md = raw.metadata;
  const ref = scope({ cluster, group, resource: change.resource, namespace: str(md.namespace), name: md.name as string });
  const uid = str(md.uid);
  return {
    source: 'watch',
    ref,
    key: objectKey(ref),
    version: change.version ?? '',
    eventId: change.recorded ? `${change.recorded.source}/${change.recorded.id}` : `watch/${uid}/${str(md.resourceVersion)}`,
    // name and time: who wrote it and when (steps/watch-attribution.ts)
    name: '',
    startUs: 0,
    endUs: 0,
    uid: uid || undefined,
    type: change.type,
    rawObject: raw as KubeObject,
    recorded: change.recorded,
    managed: listWatchOnly ? managedEntries(raw as KubeObject) : undefined,
  };
}

/** A Kubernetes Event as a Change on the object it is about, or an error message. */
export function kubeEventChange(obj: unknown, cluster: string, scope: Scope): KubeEventChange | string {
  const input = kubeEventInput(obj, cluster);
  if (typeof input === 'string') return input;
  const { attributes, links: _none, ...head } = input;
  const ref = scope(input.ref);
  return { source: 'event', ...head, ref, key: objectKey(ref), tags: attributes };
}

/** The change an audit event made to the object named `name` (its response body `rawResp`). */
export function auditObjectChange(a: NormalizedAudit, cluster: string, scope: Scope, name: string, rawResp: unknown): AuditChange {
  const respNs = isRecord(rawResp) && isRecord(rawResp.metadata) ? str(rawResp.metadata.namespace) : '';
  const ref = scope({ cluster, group: a.group, resource: a.resource, namespace: a.namespace || respNs, name });
  return {
    source: 'audit',
    ref,
    key: objectKey(ref),
    version: a.version,
    eventId: a.auditId,
    name: a.subresource ? `${a.verb} ${a.subresource}` : a.verb,
    startUs: a.startUs,
    endUs: a.endUs,
    error: a.error,
    audit: a,
    rawResponse: rawResp,
  };
}

/**
 * A request about no single object (a deletecollection that matched nothing, a failed collection
 * request or nameless create) as a change of its namespace, named after the verb and the resource;
 * undefined when there is no namespace to put it on. Its bodies are not the namespace's: dropped.
 */
function namespaceChange(a: NormalizedAudit, cluster: string, scope: Scope, extra: Record<string, AttrValue>): AuditChange | undefined {
  if (!a.namespace || scope({ cluster, group: a.group, resource: a.resource, namespace: a.namespace, name: '' }).namespace === '') return undefined;
  const ref: ObjectRef = { cluster, group: '', resource: 'namespaces', namespace: '', name: a.namespace };
  const resource = a.group ? `${a.resource}.${a.group}` : a.resource;
  return {
    source: 'audit',
    ref,
    key: objectKey(ref),
    version: 'v1',
    eventId: a.auditId,
    name: `${a.verb} ${a.subresource ? `${resource}/${a.subresource}` : resource}`,
    startUs: a.startUs,
    endUs: a.endUs,
    error: a.error,
    audit: { ...a, requestObject: undefined, responseObject: undefined },
    rawResponse: undefined,
    onNamespace: { [Attr.requestResource]: `${a.group}/${a.resource}`, ...extra },
  };
}

/** The generateName prefix of a create that failed before a name existed ('' when none). */
function failedCreatePrefix(a: NormalizedAudit): string {
  const req = a.requestObject;
  return a.verb === 'create' &&
    !a.subresource &&
    isRecord(req) &&
    isRecord(req.metadata) &&
    typeof req.metadata.generateName === 'string' &&
    /^[^/]{1,253}$/.test(req.metadata.generateName)
    ? req.metadata.generateName
    : '';
}

/** The changes one audit event made (one per object of a deletecollection), or why it names none. */
export function auditChanges(a: NormalizedAudit, cluster: string, scope: Scope): AuditChange[] | 'no-object-name' {
  const resp = a.responseObject;
  const onNamespace = (extra: Record<string, AttrValue>) => {
    const c = namespaceChange(a, cluster, scope, extra);
    return c ? [c] : 'no-object-name';
  };
  if (!a.name && isRecord(resp) && Array.isArray(resp.items)) {
    // deletecollection (or a list when reads are traced): one change per object of the response.
    const changes: AuditChange[] = [];
    for (const item of resp.items) {
      if (isRecord(item) && isRecord(item.metadata) && typeof item.metadata.name === 'string' && item.metadata.name) {
        changes.push(auditObjectChange(a, cluster, scope, item.metadata.name, item));
      }
    }
    if (changes.length) return changes;
    // a deletecollection that matched nothing: shown on the namespace's trace
    return a.verb === 'deletecollection' ? onNamespace({ [Attr.matched]: 0 }) : 'no-object-name';
  }
  let name = a.name;
  if (
    !name &&
    a.code < 300 &&
    isRecord(resp) &&
    !NOT_THE_OBJECT.has(resp.kind as string) &&
    isRecord(resp.metadata) &&
    typeof resp.metadata.name === 'string'
  ) {
    name = resp.metadata.name; // generateName: the name exists only in the response
  }
  if (!name && a.code >= 300) {
    // failed before a name existed: a generateName create (on the prefix object, see
    // steps/failed-create.ts) or a collection request; else on the namespace's trace
    name = failedCreatePrefix(a);
    if (!name) return onNamespace({});
  }
  // Metadata level: which objects a deletecollection deleted is unknown (their watch DELETEDs tell)
  if (!name && a.verb === 'deletecollection' && resp === undefined) return onNamespace({});
  if (!name) return 'no-object-name';
  return [auditObjectChange(a, cluster, scope, name, resp)];
}
