// The write path: an audit event, a Kubernetes Event or a watch change in → spans out, all by one
// route (#route): a thin normaliser makes the input a change to one object (change.ts), the steps
// (src/pipeline/steps, in one ordered list: bodies cleaned and redacted before anything else sees
// them, tags, one description of the change, versions, links, history) fill in its event span,
// and src/aggregate makes the spans.
// State (version history, emitted object/link spans) changes only through a transaction
// (transaction.ts) that a source commits once the sink acknowledged the spans: see begin().
// Never throws on input: malformed → { spans: [], error }, filtered → { spans: [], skipped }.
import { resolveConfig } from '../core/config.ts';
import type { TracerConfig } from '../core/config.ts';
import { Attr, objectKey } from '../core/model.ts';
import type { AttrValue, Link, ObjectRef, SpanRecord } from '../core/model.ts';
import { isClusterScoped } from '../core/kinds.ts';
import { assertNesting } from '../decorate/depth.ts';
import type { KubeObject } from '../core/audit-event.ts';
import { normalizeAudit, READ_VERBS } from '../normalize/audit-event.ts';
import { Redactor } from '../decorate/redact.ts';
import { diffEntriesJson, diffObjects } from '../decorate/diff.ts';
import { stripManagedFields } from '../decorate/snapshot.ts';
import { isKubeEvent } from '../aggregate/kube-event.ts';
import { VersionCache, Versions } from './version-cache.ts';
import { StateTransaction } from './transaction.ts';
import { watchVerb } from '../normalize/watch-change.ts';
import { LruMarks, SpanBuilder } from '../aggregate/span-builder.ts';
import { findLinks } from '../../linkers/index.ts';
import { runSteps } from './steps/index.ts';
import { changeContext } from './steps/context.ts';
import { UnexplainedWatchChanges } from './unexplained.ts';
import { auditChanges, kubeEventChange, watchObjectChange, type Change } from './change.ts';

export type { WatchChange } from './change.ts';
import type { WatchChange } from './change.ts';

export interface IngestResult {
  spans: SpanRecord[];
  /** Stable reason code: 'stage', 'read-verb', 'verb', 'excluded-resource', 'non-resource', 'no-object-name', 'event-without-object', 'cache-only', 'unchanged'. */
  skipped?: string;
  /** Malformed input, human readable. */
  error?: string;
}

const EVENT_WRITE_VERBS = new Set(['create', 'update', 'patch']);

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
      const change = kubeEventChange(obj, cluster, (ref) => scopedRef(this.#s, ref));
      if (typeof change === 'string') return { spans: [], error: change };
      if (this.#s.excluded.has(`${change.ref.group}/${change.ref.resource}`)) return { spans: [], skipped: 'excluded-resource' };
      return this.#route(change);
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
    const changes = auditChanges(a, cluster, (ref) => scopedRef(this.#s, ref));
    if (typeof changes === 'string') return { spans: [], skipped: changes };
    const spans: SpanRecord[] = [];
    for (const c of changes) this.#route(c, spans);
    return { spans };
  }

  #watch(change: WatchChange, cluster: string): IngestResult {
    const c = watchObjectChange(change, cluster, (ref) => scopedRef(this.#s, ref), this.#s.listWatchOnly.has(cluster));
    return typeof c === 'string' ? { spans: [], error: c } : this.#route(c);
  }

  /**
   * The one route of every input: the change runs through the steps (steps/index.ts), and
   * span-builder.ts makes the spans of their result (appended to `out`).
   */
  #route(change: Change, out: SpanRecord[] = []): IngestResult {
    const { group, resource } = change.ref;
    const ctx = changeContext(change, {
      versions: this.#versions,
      unexplained: this.#s.unexplained,
      excluded: this.#s.excluded.has(`${change.ref.group}/${change.ref.resource}`),
      clean: (body) => this.#clean(body, group, resource),
      diff: (prev, cur, attributes) => this.#diff(prev, cur, attributes),
      findLinks,
    });
    const skipped = runSteps(ctx);
    if (skipped !== undefined) return { spans: [], skipped };
    this.#s.spans.event(
      {
        ref: ctx.ref,
        version: ctx.version,
        uid: ctx.uid,
        eventId: change.eventId,
        name: ctx.name,
        startUs: ctx.startUs,
        endUs: ctx.endUs,
        attributes: ctx.attributes,
        error: change.error,
        links: dedupeLinks(ctx.links.map((l) => ({ ...l, target: scopedRef(this.#s, l.target) }))),
      },
      this.#state,
      out,
    );
    return { spans: out };
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
