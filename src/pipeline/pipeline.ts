// The write path: an audit event, a Kubernetes Event or a watch change in → spans out.
//   normalize (src/normalize) → redact (before anything else sees an object) →
//   the audit event steps (src/pipeline/steps: bodies, tags, diff/snapshot, links, history) →
//   spans (src/aggregate).
// State (version history, emitted object/link spans) changes only through a transaction
// (transaction.ts) that a source commits once the sink acknowledged the spans: see begin().
// Never throws on input: malformed → { spans: [], error }, filtered → { spans: [], skipped }.
import { resolveConfig } from '../core/config.ts';
import type { TracerConfig } from '../core/config.ts';
import { Attr, objectKey } from '../core/model.ts';
import type { AttrValue, Link, ObjectRef, SpanRecord } from '../core/model.ts';
import { isRecord } from '../core/audit-event.ts';
import { isClusterScoped } from '../core/kinds.ts';
import { assertNesting } from '../decorate/depth.ts';
import type { KubeObject } from '../core/audit-event.ts';
import { normalizeAudit, READ_VERBS } from '../normalize/audit-event.ts';
import type { NormalizedAudit } from '../normalize/audit-event.ts';
import { parseTimeUs } from '../core/time.ts';
import { Redactor } from '../decorate/redact.ts';
import { diffEntriesJson, diffObjects } from '../decorate/diff.ts';
import { snapshot, stripManagedFields } from '../decorate/snapshot.ts';
import { isKubeEvent, kubeEventInput } from '../aggregate/kube-event.ts';
import { VersionCache, Versions } from './version-cache.ts';
import { StateTransaction } from './transaction.ts';
import { attributeChange, changedPaths, managedEntries, watchVerb, type FieldManagerInfo } from '../normalize/watch-change.ts';
import { LruMarks, SpanBuilder } from '../aggregate/span-builder.ts';
import { findLinks } from '../../linkers/index.ts';
import { auditEventSteps, type AuditEventContext } from './steps/index.ts';
import { NOT_THE_OBJECT, rvOf } from './steps/context.ts';
import { auditTags } from './steps/audit-attributes.ts';
import { UnexplainedWatchChanges } from './unexplained.ts';

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
  /**
   * A change read from a recording (`kubetrail import`), not a live watch: when it happened, the
   * span's `source`, and an id of the change (recordings carry no resourceVersion): the same for the
   * same change imported twice, different for two recordings.
   */
  recorded?: { atUs: number; source: string; id: string };
}

const EVENT_WRITE_VERBS = new Set(['create', 'update', 'patch']);
const WATCH_TYPES = new Set(['ADDED', 'MODIFIED', 'DELETED']);

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** What every transaction of one pipeline shares: configuration, redactor, committed state. */
interface Shared {
  config: TracerConfig;
  redactor: Redactor;
  versions: VersionCache;
  marks: LruMarks;
  spans: SpanBuilder;
  excluded: Set<string>;
  verbs: Set<string>;
  listWatchOnly: Set<string>;
  /** Per cluster, 'group/resource' → namespaced, from discovery (setResourceScopes). */
  scopes: Map<string, Map<string, boolean>>;
  /** Audit mode with informers: watch changes waiting for the audit event that explains them (trackUnexplained). */
  unexplained?: UnexplainedWatchChanges;
}

/** The namespace an object key uses: '' for cluster-scoped resources (discovery first, then the built-in table). */
function keyNamespace(s: Shared, cluster: string, group: string, resource: string, namespace: string): string {
  if (namespace === '') return '';
  const namespaced = s.scopes.get(cluster)?.get(`${group}/${resource}`);
  return namespaced === false || (namespaced === undefined && isClusterScoped(group, resource)) ? '' : namespace;
}

function scopedRef(s: Shared, ref: ObjectRef): ObjectRef {
  const namespace = keyNamespace(s, ref.cluster, ref.group, ref.resource, ref.namespace);
  return namespace === ref.namespace ? ref : { ...ref, namespace };
}

export class Pipeline {
  readonly config: TracerConfig;
  readonly #shared: Shared;

  constructor(config?: Partial<TracerConfig>) {
    this.config = resolveConfig(config);
    const redactor = new Redactor(this.config.redact);
    this.#shared = {
      config: this.config,
      redactor,
      versions: new VersionCache({ maxEntries: this.config.cacheSize, maxBytes: this.config.cacheBytes, digests: redactor }),
      marks: new LruMarks(this.config.cacheSize),
      spans: new SpanBuilder(this.config.windowSec),
      excluded: new Set(this.config.excludeResources),
      verbs: new Set(this.config.verbs),
      listWatchOnly: new Set(),
      scopes: new Map(),
    };
  }

  /**
   * What discovery says about a cluster's resources: the cluster-scoped ones never carry a
   * namespace in an object key (beyond the built-in table of src/core/kinds.ts).
   */
  setResourceScopes(cluster: string, resources: readonly { group: string; resource: string; namespaced: boolean }[]): void {
    const m = new Map<string, boolean>();
    for (const r of resources) m.set(`${r.group}/${r.resource}`, r.namespaced);
    this.#shared.scopes.set(cluster, m);
  }

  /**
   * Audit mode with informers: a watch change that no audit event explains within `graceMs`
   * becomes an event span (`attribution: unexplained`, unexplained.ts); see
   * PipelineTransaction.unexplainedChanges.
   */
  trackUnexplained(graceMs: number, now?: () => number): void {
    this.#shared.unexplained ??= new UnexplainedWatchChanges({ graceMs, now });
  }

  setListWatchOnly(cluster: string, on: boolean): void {
    if (on) this.#shared.listWatchOnly.add(cluster);
    else this.#shared.listWatchOnly.delete(cluster);
  }

  /**
   * A transaction: its ingest calls see the committed state plus their own earlier changes, and
   * change the committed state only on commit() — call it once the sink acknowledged the spans
   * (rollback(), or dropping the transaction, forgets them). Sources use this.
   */
  begin(): PipelineTransaction {
    return new PipelineTransaction(this.#shared);
  }

  /**
   * Warm mode: ingest to rebuild the state (versions for diffs, emitted object and link spans)
   * and emit nothing. For events whose spans an earlier process already made durable, e.g. the
   * warm-up span of a newly assigned Kafka partition (src/sources/kafka/consumer.ts).
   */
  warm(ingest: (tx: PipelineTransaction) => IngestResult): Omit<IngestResult, 'spans'> {
    const tx = this.begin();
    const r = ingest(tx);
    tx.commit();
    return r.error !== undefined ? { error: r.error } : r.skipped !== undefined ? { skipped: r.skipped } : {};
  }

  /** One event traced and committed at once, for callers with no sink to wait for (tools, tests). */
  auditEvent(raw: unknown, cluster: string): IngestResult {
    const tx = this.begin();
    const r = tx.auditEvent(raw, cluster);
    tx.commit();
    return r;
  }

  /** As auditEvent: committed at once. */
  kubeEvent(obj: unknown, cluster: string): IngestResult {
    const tx = this.begin();
    const r = tx.kubeEvent(obj, cluster);
    tx.commit();
    return r;
  }

  /** As auditEvent: committed at once. */
  watchChange(change: WatchChange, cluster: string): IngestResult {
    const tx = this.begin();
    const r = tx.watchChange(change, cluster);
    tx.commit();
    return r;
  }
}

/** Ingest with staged state (see Pipeline.begin and transaction.ts). */
export class PipelineTransaction {
  readonly #s: Shared;
  readonly #state: StateTransaction;
  readonly #versions: Versions;

  constructor(shared: Shared) {
    this.#s = shared;
    this.#state = new StateTransaction({ versions: shared.versions, marks: shared.marks });
    this.#versions = new Versions(shared.versions, this.#state);
  }

  /** A point after every event ingested so far: commit(mark) commits the state changes up to it. */
  mark(): number {
    return this.#state.mark();
  }

  /** Applies the state changes of the events ingested so far (or up to `mark`) to the pipeline. */
  commit(mark?: number): void {
    this.#state.commit(mark);
  }

  /** Forgets every change not committed; later events are traced from the committed state. */
  rollback(): void {
    this.#state.rollback();
  }

  /** State changes waiting for commit() (0 once everything is committed). */
  get staged(): number {
    return this.#state.staged;
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
      if (this.#s.excluded.has(`${input.ref.group}/${input.ref.resource}`)) return { spans: [], skipped: 'excluded-resource' };
      input.ref = scopedRef(this.#s, input.ref);
      return { spans: this.#s.spans.event(input, this.#state) };
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

  /**
   * The watch changes no audit event explained within the grace period (trackUnexplained), as
   * event spans: `source: watch`, `attribution: unexplained`, at the time the watch delivered them.
   */
  unexplainedChanges(): IngestResult {
    const due = this.#s.unexplained?.due() ?? [];
    const spans: SpanRecord[] = [];
    for (const c of due) {
      const verb = watchVerb(c.type, undefined);
      const attributes: Record<string, AttrValue> = { [Attr.source]: 'watch', [Attr.verb]: verb, [Attr.attribution]: 'unexplained' };
      if (c.rv) attributes[Attr.newResourceVersion] = c.rv;
      this.#s.spans.event(
        {
          ref: c.ref,
          version: c.version,
          uid: c.uid || undefined,
          eventId: `watch/${c.uid}/${c.rv}/${c.type}`,
          name: verb,
          startUs: c.seenMs * 1000,
          endUs: c.seenMs * 1000,
          attributes,
          links: [],
        },
        this.#state,
        spans,
      );
    }
    return { spans };
  }

  #clean(obj: unknown, group: string, resource: string): unknown {
    // managedFields go first (they hold field names, never values), then redaction, before
    // anything else sees the object. Too deep an object is refused first (see decorate/depth.ts).
    assertNesting(obj);
    return this.#s.redactor.redact(stripManagedFields(obj), group, resource);
  }

  #audit(raw: unknown, cluster: string): IngestResult {
    const n = normalizeAudit(raw);
    if ('skipped' in n) return { spans: [], skipped: n.skipped };
    if ('error' in n) return { spans: [], error: n.error };
    const a = n.event;
    const config = this.#s.config;

    if (
      config.eventsFromAudit &&
      a.resource === 'events' &&
      (a.group === '' || a.group === 'events.k8s.io') &&
      !a.subresource &&
      EVENT_WRITE_VERBS.has(a.verb)
    ) {
      if (a.code >= 300) return { spans: [], skipped: 'failed-event-write' };
      const obj = isKubeEvent(a.responseObject) ? a.responseObject : a.verb !== 'patch' && isKubeEvent(a.requestObject) ? a.requestObject : undefined;
      if (!obj) return { spans: [], skipped: 'event-without-object' };
      return this.kubeEvent(obj, cluster);
    }
    if (READ_VERBS.has(a.verb)) {
      if (!config.includeReads) return { spans: [], skipped: 'read-verb' };
    } else if (!this.#s.verbs.has(a.verb)) {
      return { spans: [], skipped: 'verb' };
    }
    if (this.#s.excluded.has(`${a.group}/${a.resource}`)) return { spans: [], skipped: 'excluded-resource' };

    const spans: SpanRecord[] = [];
    const resp = a.responseObject;
    if (!a.name && isRecord(resp) && Array.isArray(resp.items)) {
      // deletecollection (or a list when reads are traced): one event per object of the response.
      for (const item of resp.items) {
        if (isRecord(item) && isRecord(item.metadata) && typeof item.metadata.name === 'string' && item.metadata.name) {
          this.#objectEvent(a, cluster, item.metadata.name, item, spans);
        }
      }
      if (spans.length) return { spans };
      // a deletecollection that matched nothing: shown on the namespace's trace
      return a.verb === 'deletecollection' && this.#onNamespace(a, cluster, { [Attr.matched]: 0 }, spans) ? { spans } : { spans, skipped: 'no-object-name' };
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
      const req = a.requestObject;
      const prefix =
        a.verb === 'create' &&
        !a.subresource &&
        isRecord(req) &&
        isRecord(req.metadata) &&
        typeof req.metadata.generateName === 'string' &&
        /^[^/]{1,253}$/.test(req.metadata.generateName)
          ? req.metadata.generateName
          : '';
      if (prefix) name = prefix;
      else return this.#onNamespace(a, cluster, {}, spans) ? { spans } : { spans, skipped: 'no-object-name' };
    }
    if (!name && a.verb === 'deletecollection' && resp === undefined) {
      // Metadata level: which objects it deleted is unknown (their watch DELETEDs tell)
      return this.#onNamespace(a, cluster, {}, spans) ? { spans } : { spans, skipped: 'no-object-name' };
    }
    if (!name) return { spans: [], skipped: 'no-object-name' };
    this.#objectEvent(a, cluster, name, resp, spans);
    return { spans };
  }

  /**
   * A request about no single object (a deletecollection that matched nothing, a failed
   * collection request or nameless create): an event on the namespace's trace, named after the
   * verb and the resource. False when there is no namespace to put it on.
   */
  #onNamespace(a: NormalizedAudit, cluster: string, extra: Record<string, AttrValue>, out: SpanRecord[]): boolean {
    if (!a.namespace || keyNamespace(this.#s, cluster, a.group, a.resource, a.namespace) === '') return false;
    const attributes = auditTags(a);
    attributes[Attr.requestResource] = `${a.group}/${a.resource}`;
    Object.assign(attributes, extra);
    const resource = a.group ? `${a.resource}.${a.group}` : a.resource;
    this.#s.spans.event(
      {
        ref: { cluster, group: '', resource: 'namespaces', namespace: '', name: a.namespace },
        version: 'v1',
        eventId: a.auditId,
        name: `${a.verb} ${a.subresource ? `${resource}/${a.subresource}` : resource}`,
        startUs: a.startUs,
        endUs: a.endUs,
        attributes,
        error: a.error,
        links: [],
      },
      this.#state,
      out,
    );
    return true;
  }

  /** Runs the audit event steps (steps/index.ts) and builds the spans of their result. */
  #objectEvent(a: NormalizedAudit, cluster: string, name: string, rawResp: unknown, out: SpanRecord[]): void {
    const respNs = isRecord(rawResp) && isRecord(rawResp.metadata) && typeof rawResp.metadata.namespace === 'string' ? rawResp.metadata.namespace : '';
    const ref: ObjectRef = {
      cluster,
      group: a.group,
      resource: a.resource,
      namespace: keyNamespace(this.#s, cluster, a.group, a.resource, a.namespace || respNs),
      name,
    };
    const key = objectKey(ref);
    // The cached version is JSON text: parse it only when a step needs it (see version-cache.ts).
    let last: KubeObject | undefined | null = null;
    const ctx: AuditEventContext = {
      audit: a,
      ref,
      key,
      failed: a.code >= 300,
      rawResponse: rawResp,
      response: undefined,
      request: undefined,
      obj: undefined,
      fromRequest: false,
      objJson: undefined,
      prev: undefined,
      described: false,
      attributes: {},
      links: [],
      uid: undefined,
      versions: this.#versions,
      last: () => (last === null ? (last = this.#versions.last(key)) : last),
      clean: (body) => this.#clean(body, a.group, a.resource),
      diff: (prev, cur) => this.#diff(prev, cur, ctx.attributes),
    };
    for (const step of auditEventSteps) step(ctx);
    if (!ctx.failed) this.#s.unexplained?.audit(ref, String(ctx.attributes[Attr.newResourceVersion] ?? ''));
    const obj = ctx.obj;
    this.#s.spans.event(
      {
        ref,
        version: a.version || (typeof obj?.apiVersion === 'string' ? obj.apiVersion.split('/').pop()! : ''),
        uid: ctx.uid,
        eventId: a.auditId,
        name: a.subresource ? `${a.verb} ${a.subresource}` : a.verb,
        startUs: a.startUs,
        endUs: a.endUs,
        attributes: ctx.attributes,
        error: a.error,
        links: dedupeLinks(ctx.links.map((l) => ({ ...l, target: scopedRef(this.#s, l.target) }))),
      },
      this.#state,
      out,
    );
  }

  #diff(prev: KubeObject, cur: KubeObject, attributes: Record<string, AttrValue>): void {
    const r = this.#s.redactor;
    const d = diffObjects(prev, cur, { oldDigests: r.digests(prev), newDigests: r.digests(cur) });
    if (d.lines.length) {
      attributes[Attr.diff] = d.lines.join('\n');
      attributes[Attr.diffEntries] = diffEntriesJson(d.entries);
    } else attributes[Attr.noop] = true;
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
    const ref: ObjectRef = {
      cluster,
      group,
      resource: change.resource,
      namespace: keyNamespace(this.#s, cluster, group, change.resource, typeof md.namespace === 'string' ? md.namespace : ''),
      name: md.name as string,
    };
    const key = objectKey(ref);
    const managed = this.#s.listWatchOnly.has(cluster) ? managedEntries(raw as KubeObject) : undefined;
    const obj = this.#clean(raw, group, change.resource) as KubeObject;
    if (managed === undefined) {
      this.#versions.set(key, obj, true);
      const u = this.#s.unexplained;
      if (u && !this.#s.excluded.has(`${group}/${change.resource}`) && !this.#s.listWatchOnly.has(cluster)) {
        const created = parseTimeUs(md.creationTimestamp);
        const uid = typeof md.uid === 'string' ? md.uid : '';
        u.watch({ ref, version: change.version ?? '', uid, rv: rvOf(obj), type: change.type }, created === undefined ? undefined : created / 1000);
      }
      return { spans: [], skipped: 'cache-only' };
    }
    return this.#watchEvent(change, ref, key, obj, managed);
  }

  /** List-watch-only: a watch change as an event span, attributed by its managedFields (src/normalize/watch-change.ts). */
  #watchEvent(change: WatchChange, ref: ObjectRef, key: string, obj: KubeObject, managed: FieldManagerInfo[]): IngestResult {
    // Parsed back from the cache only when it becomes a span.
    const prevRv = this.#versions.lastRv(key);
    const prevWatch = this.#versions.lastWatch(key);
    const prev = prevRv !== undefined ? this.#versions.last(key) : undefined;
    const rv = rvOf(obj);
    const md = obj.metadata ?? {};
    const excluded = this.#s.excluded.has(`${ref.group}/${ref.resource}`);
    const unchanged = change.type !== 'DELETED' && prevRv !== undefined && rv !== '' && prevRv === rv;
    const paths = change.type === 'MODIFIED' && prev && !excluded && !unchanged ? changedPaths(prev, obj) : [];
    const who = attributeChange(change.type, prevWatch && parseManaged(prevWatch.managed), managed, paths);
    const nowUs = Date.now() * 1000;
    // a graceful deletion's deletionTimestamp is when its grace period ends: never in the future
    const at =
      change.recorded?.atUs ??
      (change.type === 'ADDED'
        ? (parseTimeUs(md.creationTimestamp) ?? nowUs)
        : change.type === 'DELETED'
          ? Math.min(parseTimeUs(md.deletionTimestamp) ?? nowUs, nowUs)
          : (who.entry?.timeUs ?? nowUs));
    // managedFields times have one-second precision: same-second changes keep their resourceVersion order
    const timeUs = prevWatch && at <= prevWatch.atUs ? prevWatch.atUs + 1 : at;
    // With no audit events to explain them, watch versions are the story: keep only the newest.
    this.#versions.set(key, obj, false, undefined, unchanged ? prevWatch : { managed: JSON.stringify(managed), atUs: timeUs });
    if (excluded) return { spans: [], skipped: 'excluded-resource' };
    if (unchanged) return { spans: [], skipped: 'unchanged' };

    const manager = who.entry;
    const verb = who.write?.verb ?? watchVerb(change.type, manager);
    const attributes: Record<string, AttrValue> = {
      [Attr.source]: change.recorded?.source ?? 'watch',
      [Attr.verb]: verb,
      [Attr.attribution]: who.kind,
    };
    if (manager) {
      attributes[Attr.fieldManager] = manager.manager;
      attributes[Attr.user] = manager.manager;
    }
    const subresource = who.write?.subresource ?? manager?.subresource;
    if (subresource && change.type === 'MODIFIED') attributes[Attr.subresource] = subresource;
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
      spans: this.#s.spans.event(
        {
          ref,
          version: change.version ?? '',
          uid: uid || undefined,
          eventId: change.recorded ? `${change.recorded.source}/${change.recorded.id}` : `watch/${uid}/${rv}`,
          name: sub ? `${verb} ${sub}` : verb,
          startUs: timeUs,
          endUs: timeUs,
          attributes,
          links: dedupeLinks(findLinks(obj, ref).map((l) => ({ ...l, target: scopedRef(this.#s, l.target) }))),
        },
        this.#state,
      ),
    };
  }
}

/** The managedFields entries kept with a version (WatchMeta.managed); undefined when unreadable. */
function parseManaged(text: string): FieldManagerInfo[] | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? (v as FieldManagerInfo[]) : undefined;
  } catch {
    return undefined;
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
