// The write path: an audit event, a Kubernetes Event or a watch change in → spans out.
//   normalize (src/audit, src/events) → redact (before anything else sees an object) →
//   diff/snapshot (src/decorate) → link (linkers/) → spans (src/aggregate).
// Never throws on input: malformed → { spans: [], error }, filtered → { spans: [], skipped }.
import { resolveConfig } from '../core/config.ts';
import type { TracerConfig } from '../core/config.ts';
import { Attr, objectKey } from '../core/model.ts';
import type { AttrValue, Link, ObjectRef, SpanRecord } from '../core/model.ts';
import { isRecord } from '../core/audit-event.ts';
import { assertNesting } from '../decorate/depth.ts';
import type { KubeObject } from '../core/audit-event.ts';
import { normalizeAudit, READ_VERBS } from '../normalize/audit-event.ts';
import type { NormalizedAudit } from '../normalize/audit-event.ts';
import { parseTimeUs } from '../core/time.ts';
import { Redactor } from '../decorate/redact.ts';
import { diffObjects, NONE } from '../decorate/diff.ts';
import { snapshot, stripManagedFields } from '../decorate/snapshot.ts';
import { isKubeEvent, kubeEventInput } from '../aggregate/kube-event.ts';
import { VersionCache } from './version-cache.ts';
import { newestManager, watchVerb } from '../normalize/watch-change.ts';
import { SpanBuilder } from '../aggregate/span-builder.ts';
import { findLinks } from '../../linkers/index.ts';

export interface IngestResult {
  spans: SpanRecord[];
  /** Stable reason code: 'stage', 'read-verb', 'verb', 'excluded-resource', 'non-resource', 'no-object-name', 'event-without-object', 'cache-only', 'unchanged'. */
  skipped?: string;
  /** Malformed input, human readable. */
  error?: string;
}

export interface WatchChange {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: unknown;
  group: string;
  version: string;
  resource: string;
}

// Response bodies that are not the object itself (subresources, deletes, errors), and review
// objects that carry credentials (TokenRequest/TokenReview hold bearer tokens): never snapshotted.
const NOT_THE_OBJECT = new Set([
  'Status', 'Scale', 'Binding', 'Eviction', 'DeleteOptions',
  'TokenRequest', 'TokenReview', 'SubjectAccessReview', 'SelfSubjectAccessReview', 'LocalSubjectAccessReview',
  'SelfSubjectRulesReview', 'SelfSubjectReview',
]);
const EVENT_WRITE_VERBS = new Set(['create', 'update', 'patch']);
const WATCH_TYPES = new Set(['ADDED', 'MODIFIED', 'DELETED']);

function rvOf(o: KubeObject | undefined): string {
  const rv = o?.metadata?.resourceVersion;
  return typeof rv === 'string' ? rv : '';
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class Pipeline {
  readonly config: TracerConfig;
  readonly #redactor: Redactor;
  readonly #versions: VersionCache;
  readonly #spans: SpanBuilder;
  readonly #excluded: Set<string>;
  readonly #verbs: Set<string>;
  readonly #listWatchOnly = new Set<string>();

  constructor(config?: Partial<TracerConfig>) {
    this.config = resolveConfig(config);
    this.#redactor = new Redactor(this.config.redact);
    this.#versions = new VersionCache({ maxEntries: this.config.cacheSize, maxBytes: this.config.cacheBytes, digests: this.#redactor });
    this.#spans = new SpanBuilder(this.config.windowSec, this.config.cacheSize);
    this.#excluded = new Set(this.config.excludeResources);
    this.#verbs = new Set(this.config.verbs);
  }

  setListWatchOnly(cluster: string, on: boolean): void {
    if (on) this.#listWatchOnly.add(cluster);
    else this.#listWatchOnly.delete(cluster);
  }

  auditEvent(raw: unknown, cluster: string): IngestResult {
    try {
      return this.#audit(raw, cluster);
    } catch (e) {
      return { spans: [], error: `audit event could not be traced: ${message(e)}` };
    }
  }

  kubeEvent(obj: unknown, cluster: string): IngestResult {
    try {
      const input = kubeEventInput(obj, cluster);
      if (typeof input === 'string') return { spans: [], error: input };
      if (this.#excluded.has(`${input.ref.group}/${input.ref.resource}`)) return { spans: [], skipped: 'excluded-resource' };
      return { spans: this.#spans.event(input) };
    } catch (e) {
      return { spans: [], error: `Kubernetes Event could not be traced: ${message(e)}` };
    }
  }

  watchChange(change: WatchChange, cluster: string): IngestResult {
    try {
      return this.#watch(change, cluster);
    } catch (e) {
      return { spans: [], error: `watch change could not be traced: ${message(e)}` };
    }
  }

  #clean(obj: unknown, group: string, resource: string): unknown {
    // managedFields go first (they hold field names, never values), then redaction, before
    // anything else sees the object. Too deep an object is refused first (see decorate/depth.ts).
    assertNesting(obj);
    return this.#redactor.redact(stripManagedFields(obj), group, resource);
  }

  #audit(raw: unknown, cluster: string): IngestResult {
    const n = normalizeAudit(raw);
    if ('skipped' in n) return { spans: [], skipped: n.skipped };
    if ('error' in n) return { spans: [], error: n.error };
    const a = n.event;

    if (this.config.eventsFromAudit && a.resource === 'events' && (a.group === '' || a.group === 'events.k8s.io') && !a.subresource && EVENT_WRITE_VERBS.has(a.verb)) {
      if (a.code >= 300) return { spans: [], skipped: 'failed-event-write' };
      const obj = isKubeEvent(a.responseObject) ? a.responseObject : a.verb !== 'patch' && isKubeEvent(a.requestObject) ? a.requestObject : undefined;
      if (!obj) return { spans: [], skipped: 'event-without-object' };
      return this.kubeEvent(obj, cluster);
    }
    if (READ_VERBS.has(a.verb)) {
      if (!this.config.includeReads) return { spans: [], skipped: 'read-verb' };
    } else if (!this.#verbs.has(a.verb)) {
      return { spans: [], skipped: 'verb' };
    }
    if (this.#excluded.has(`${a.group}/${a.resource}`)) return { spans: [], skipped: 'excluded-resource' };

    const spans: SpanRecord[] = [];
    const resp = a.responseObject;
    if (!a.name && isRecord(resp) && Array.isArray(resp.items)) {
      // deletecollection (or a list when reads are traced): one event per object of the response.
      for (const item of resp.items) {
        if (isRecord(item) && isRecord(item.metadata) && typeof item.metadata.name === 'string' && item.metadata.name) {
          this.#objectEvent(a, cluster, item.metadata.name, item, spans);
        }
      }
      return spans.length ? { spans } : { spans, skipped: 'no-object-name' };
    }
    let name = a.name;
    if (!name && a.code < 300 && isRecord(resp) && !NOT_THE_OBJECT.has(resp.kind as string) && isRecord(resp.metadata) && typeof resp.metadata.name === 'string') {
      name = resp.metadata.name; // generateName: the name exists only in the response
    }
    if (!name) return { spans: [], skipped: 'no-object-name' };
    this.#objectEvent(a, cluster, name, resp, spans);
    return { spans };
  }

  #asObject(o: unknown, name: string): KubeObject | undefined {
    if (!isRecord(o) || NOT_THE_OBJECT.has(o.kind as string) || !isRecord(o.metadata)) return undefined;
    return o.metadata.name === name ? (o as KubeObject) : undefined;
  }

  #objectEvent(a: NormalizedAudit, cluster: string, name: string, rawResp: unknown, out: SpanRecord[]): void {
    const failed = a.code >= 300;
    const respNs = isRecord(rawResp) && isRecord(rawResp.metadata) && typeof rawResp.metadata.namespace === 'string' ? rawResp.metadata.namespace : '';
    const ref: ObjectRef = { cluster, group: a.group, resource: a.resource, namespace: a.namespace || respNs, name };
    const key = objectKey(ref);
    const resp = rawResp === undefined || failed ? undefined : this.#clean(rawResp, a.group, a.resource);
    let obj = this.#asObject(resp, name);
    let fromRequest = false;
    let req: unknown;
    if (a.requestObject !== undefined && !failed && ((!obj && (a.verb === 'create' || a.verb === 'update')) || a.subresource === 'binding' || a.subresource === 'scale')) {
      req = this.#clean(a.requestObject, a.group, a.resource);
      // Request-level create/update (and status update) bodies are whole objects; patches are not.
      if (!obj && (a.verb === 'create' || a.verb === 'update') && (a.subresource === '' || (a.subresource === 'status' && a.verb === 'update'))) {
        // Request-level audit: the request body is the new object, but its resourceVersion is
        // the one it was based on, so it must not be taken for the new version.
        const r = this.#asObject(req, name);
        if (r) {
          obj = { ...r, metadata: { ...r.metadata } };
          delete obj.metadata!.resourceVersion;
          fromRequest = true;
        }
      }
    }

    const attributes: Record<string, AttrValue> = {
      [Attr.source]: 'audit',
      [Attr.auditId]: a.auditId,
      [Attr.user]: a.user,
      [Attr.userAgent]: a.userAgent,
      [Attr.sourceIP]: a.sourceIP,
      [Attr.verb]: a.verb,
    };
    if (a.impersonatedBy) attributes[Attr.impersonatedBy] = a.impersonatedBy;
    if (a.subresource) attributes[Attr.subresource] = a.subresource;
    if (a.code) attributes[Attr.code] = a.code;
    if (a.error) attributes[Attr.error] = a.error;

    // The cached version is JSON text: parse it only when this event needs it (see version-cache.ts).
    let lastParsed: KubeObject | undefined | null = null;
    const lastOf = (): KubeObject | undefined => (lastParsed === null ? (lastParsed = this.#versions.last(key)) : lastParsed);
    const newRv = fromRequest ? '' : rvOf(obj);
    let objJson: string | undefined;
    let prev: KubeObject | undefined;
    if (failed || READ_VERBS.has(a.verb)) {
      // nothing changed
    } else if (a.subresource === 'binding' && isRecord(req) && req.kind === 'Binding') {
      // The scheduler's binding sets spec.nodeName of an unbound pod (binding a bound pod fails);
      // the response is only a Status. The informer may have delivered the bound pod already.
      const node = (req.target as { name?: unknown } | undefined)?.name;
      if (typeof node === 'string' && node) {
        attributes[Attr.diff] = `spec.nodeName ${NONE} -> ${JSON.stringify(node)}`;
        const last = lastOf();
        if (last) {
          prev = last;
          const spec = isRecord(last.spec) ? last.spec : {};
          if (spec.nodeName !== node) this.#versions.replaceLast(key, { ...last, spec: { ...spec, nodeName: node } });
        }
      }
    } else if (a.verb === 'create') {
      if (obj) attributes[Attr.snapshot] = objJson = snapshot(obj);
    } else if (a.verb === 'delete' || a.verb === 'deletecollection') {
      prev = lastOf();
      if (obj) attributes[Attr.snapshot] = objJson = snapshot(obj);
      else if (prev) attributes[Attr.snapshot] = snapshot(prev);
    } else if (obj) {
      prev = fromRequest ? lastOf() : this.#versions.previous(key, newRv);
      // A request body has no new resourceVersion: compare without one.
      if (prev) this.#diff(prev, fromRequest ? { ...obj, metadata: { ...obj.metadata, resourceVersion: prev.metadata?.resourceVersion } } : obj, attributes);
    } else if (a.subresource === 'scale') {
      const scale = isRecord(resp) && resp.kind === 'Scale' ? resp : isRecord(req) && req.kind === 'Scale' ? req : undefined;
      const replicas = (scale?.spec as { replicas?: unknown } | undefined)?.replicas;
      const scaleRv = scale ? rvOf(scale as KubeObject) : '';
      // A Scale's resourceVersion is the object's new one: when the informer already delivered
      // that version, diff from the version before it, not from the already-scaled one.
      const base = (scaleRv ? this.#versions.previous(key, scaleRv) : undefined) ?? lastOf();
      if (base && typeof replicas === 'number') {
        prev = base;
        const spec = isRecord(base.spec) ? base.spec : {};
        const next: KubeObject = { ...base, spec: { ...spec, replicas } };
        if (scaleRv) next.metadata = { ...base.metadata, resourceVersion: scaleRv };
        this.#diff(base, next, attributes);
        lastOf(); // uid and links below come from the version before the scale
        this.#versions.set(key, next, false);
        if (scaleRv) attributes[Attr.newResourceVersion] = scaleRv;
      }
    } else if (resp === undefined && req === undefined) {
      // Metadata-level audit: the informer may already have delivered this change.
      const claimed = this.#versions.claim(key);
      if (claimed) {
        prev = claimed.prev;
        this.#diff(claimed.prev, claimed.cur, attributes);
        attributes[Attr.newResourceVersion] = rvOf(claimed.cur);
      }
    }
    if (prev && rvOf(prev)) attributes[Attr.oldResourceVersion] = rvOf(prev);
    if (newRv) attributes[Attr.newResourceVersion] = newRv;

    const uid = a.uid || (obj?.metadata?.uid as string | undefined) || (lastOf()?.metadata?.uid as string | undefined);
    const linkSource = obj ?? lastOf();
    const links: Link[] = linkSource ? findLinks(linkSource, ref) : [];
    if (isRecord(req) && req.kind === 'Binding') links.push(...findLinks(req as KubeObject, ref));

    // Deleted objects stay cached (the LRU ages them out): the informer's DELETED often arrives
    // before the audit event of the delete, which still needs the last version for its snapshot.
    // A snapshot is the JSON of `obj` already (it has no managedFields): the cache reuses the text.
    if (obj && !failed) this.#versions.set(key, obj, false, objJson);

    this.#spans.event(
      {
        ref,
        version: a.version || (typeof obj?.apiVersion === 'string' ? obj.apiVersion.split('/').pop()! : ''),
        uid,
        eventId: a.auditId,
        name: a.subresource ? `${a.verb} ${a.subresource}` : a.verb,
        startUs: a.startUs,
        endUs: a.endUs,
        attributes,
        error: a.error,
        links: dedupeLinks(links),
      },
      out,
    );
  }

  #diff(prev: KubeObject, cur: KubeObject, attributes: Record<string, AttrValue>): void {
    const d = diffObjects(prev, cur, { oldDigests: this.#redactor.digests(prev), newDigests: this.#redactor.digests(cur) });
    if (d.lines.length) attributes[Attr.diff] = d.lines.join('\n');
    else attributes[Attr.noop] = true;
    if (d.verbose.length) attributes[Attr.diffVerbose] = d.verbose.join('\n');
  }

  #watch(change: WatchChange, cluster: string): IngestResult {
    if (!isRecord(change) || !WATCH_TYPES.has(change.type)) return { spans: [], error: `watch change type must be ADDED, MODIFIED or DELETED` };
    const raw = change.object;
    if (!isRecord(raw) || !isRecord(raw.metadata) || typeof raw.metadata.name !== 'string' || raw.metadata.name === '') {
      return { spans: [], error: 'watch change object has no metadata.name' };
    }
    if (typeof change.resource !== 'string' || change.resource === '') return { spans: [], error: 'watch change has no resource' };
    const group = typeof change.group === 'string' ? change.group : '';
    const md = raw.metadata;
    const ref: ObjectRef = { cluster, group, resource: change.resource, namespace: typeof md.namespace === 'string' ? md.namespace : '', name: md.name as string };
    const key = objectKey(ref);
    const manager = newestManager(raw as KubeObject);
    const obj = this.#clean(raw, group, change.resource) as KubeObject;
    const listWatchOnly = this.#listWatchOnly.has(cluster);
    // Parsed back from the cache only when it becomes a span (list-watch-only clusters).
    const prevRv = this.#versions.lastRv(key);
    const prev = listWatchOnly && prevRv !== undefined ? this.#versions.last(key) : undefined;
    // With no audit events to explain them, watch versions are the story: keep only the newest.
    this.#versions.set(key, obj, !listWatchOnly);

    if (!listWatchOnly) return { spans: [], skipped: 'cache-only' };
    if (this.#excluded.has(`${group}/${change.resource}`)) return { spans: [], skipped: 'excluded-resource' };
    const rv = rvOf(obj);
    if (change.type !== 'DELETED' && prevRv !== undefined && rv !== '' && prevRv === rv) return { spans: [], skipped: 'unchanged' };

    const verb = watchVerb(change.type, manager);
    const timeUs =
      (change.type === 'ADDED' ? parseTimeUs(md.creationTimestamp) : undefined) ??
      (change.type === 'DELETED' ? parseTimeUs(md.deletionTimestamp) : undefined) ??
      manager?.timeUs ??
      parseTimeUs(md.creationTimestamp) ??
      Date.now() * 1000;
    const attributes: Record<string, AttrValue> = { [Attr.source]: 'watch', [Attr.verb]: verb };
    if (manager) {
      attributes[Attr.fieldManager] = manager.manager;
      attributes[Attr.user] = manager.manager;
      if (manager.subresource && change.type === 'MODIFIED') attributes[Attr.subresource] = manager.subresource;
    }
    if (change.type === 'MODIFIED') {
      if (prev) this.#diff(prev, obj, attributes);
    } else {
      attributes[Attr.snapshot] = snapshot(obj);
    }
    if (prev && rvOf(prev)) attributes[Attr.oldResourceVersion] = rvOf(prev);
    if (rv) attributes[Attr.newResourceVersion] = rv;
    const uid = typeof md.uid === 'string' ? md.uid : '';
    const sub = attributes[Attr.subresource];
    return {
      spans: this.#spans.event({
        ref,
        version: change.version ?? '',
        uid: uid || undefined,
        eventId: `watch/${uid}/${rv}`,
        name: sub ? `${verb} ${sub}` : verb,
        startUs: timeUs,
        endUs: timeUs,
        attributes,
        links: dedupeLinks(findLinks(obj, ref)),
      }),
    };
  }
}

function dedupeLinks(links: Link[]): Link[] {
  if (links.length < 2) return links;
  const seen = new Set<string>();
  return links.filter((l) => {
    const k = `${objectKey(l.target)}|${l.class}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
