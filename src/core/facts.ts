// The facts of a span: only what the diagnosis detectors read (a few attributes, a create's
// snapshot cut to the fields they use, long diff lines without their values). The read path
// compacts every span it loads with it (frontend-plugin/diagnose/loader.ts); the write path can
// keep the same facts as it traces, so a diagnosis need not read whole spans back.
import { Attr, type AttrValue, type SpanRecord } from './model.ts';

/** A create's snapshot, or a delete's that names finalizers (an object left Terminating): the snapshots the facts keep. */
export const snapshotWanted = (verb: unknown, snapshot: string): boolean =>
  verb === 'create' || ((verb === 'delete' || verb === 'deletecollection') && snapshot.includes('"finalizers"'));

const KEEP = new Set<string>([
  Attr.source,
  Attr.user,
  Attr.fieldManager,
  Attr.verb,
  Attr.subresource,
  Attr.code,
  Attr.diff,
  Attr.noop,
  Attr.error,
  Attr.newResourceVersion,
  Attr.attribution,
  Attr.eventReason,
  Attr.eventMessage,
  Attr.eventType,
  Attr.eventComponent,
  Attr.eventCount,
  Attr.linkClass,
  Attr.linkRole,
  Attr.linkKey,
  Attr.linkController,
]);

/** Snapshot fields the detectors read (pods, workloads, owners). */
const SNAPSHOT_FIELDS: Record<string, string[]> = {
  metadata: ['generation', 'ownerReferences', 'uid', 'finalizers', 'deletionTimestamp'],
  spec: [
    'replicas',
    'parallelism',
    'completions',
    'backoffLimit',
    'storageClassName',
    'nodeName',
    'nodeSelector',
    'finalizers',
    'minAvailable',
    'maxUnavailable',
  ],
  status: [
    'phase',
    'replicas',
    'observedGeneration',
    'updatedReplicas',
    'readyReplicas',
    'availableReplicas',
    'desiredNumberScheduled',
    'updatedNumberScheduled',
    'numberReady',
    'numberAvailable',
    'disruptionsAllowed',
  ],
};

/** Snapshot fields of some resources only: a PodDisruptionBudget's selector and pods' labels (blocked-evictions matches them). */
const RESOURCE_SNAPSHOT_FIELDS: Record<string, Record<string, string[]>> = {
  pods: { metadata: ['labels'] },
  poddisruptionbudgets: { spec: ['selector'] },
};

/** Of a delete that names finalizers: what held the object (stuck-deletions). */
const DELETE_SNAPSHOT_FIELDS: Record<string, string[]> = { metadata: ['finalizers', 'deletionTimestamp'], spec: ['finalizers'] };

/** Attributes whose values repeat across spans (unique ones such as resourceVersions are not pooled). */
export const POOLED = new Set<string>([
  Attr.source,
  Attr.user,
  Attr.fieldManager,
  Attr.verb,
  Attr.subresource,
  Attr.eventReason,
  Attr.eventType,
  Attr.eventComponent,
  Attr.linkClass,
  Attr.linkRole,
  Attr.linkKey,
  Attr.attribution,
]);

/** A diff line longer than this keeps its path, not its values (conditions JSON, big specs). */
const MAX_DIFF_LINE = 300;

/**
 * Repeated short strings (users, verbs, names, trace IDs of one raw trace) as one instance each:
 * every row read from the store is a fresh string, and a large range holds millions of them.
 */
export class StringPool {
  readonly #m = new Map<string, string>();
  get(s: string): string {
    if (s.length > 96) return s;
    const hit = this.#m.get(s);
    if (hit !== undefined) return hit;
    if (this.#m.size < 2_000_000) this.#m.set(s, s);
    return s;
  }
}

/** For the write path: compactSpan without pooling (the strings are serialised at once, a pool would only cost). */
export class NoPool extends StringPool {
  override get(s: string): string {
    return s;
  }
}

function compactDiff(diff: string): string {
  if (diff.length <= MAX_DIFF_LINE) return diff;
  return diff
    .split('\n')
    .map((l) => {
      // the namespace controller's conditions name what holds a namespace (stuck-deletions), a Job's Failed condition why it failed (workload-failures)
      if (l.length <= MAX_DIFF_LINE || l.startsWith('status.conditions[type=Namespace') || l.startsWith('status.conditions[type=Failed] ')) return l;
      const sp = l.indexOf(' ');
      return `${l.slice(0, sp)} "…" -> "…"`;
    })
    .join('\n');
}

/** The facts of a pod spec the scheduler decides on (requests, tolerations, affinity): unscheduled-pods names them. */
function podSchedulingFacts(spec: unknown): Record<string, unknown> | undefined {
  if (!spec || typeof spec !== 'object') return undefined;
  const { affinity, tolerations, containers } = spec as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  if (affinity !== undefined) out.affinity = affinity;
  if (tolerations !== undefined) out.tolerations = tolerations;
  if (Array.isArray(containers))
    out.containers = containers.map((c) => ({ resources: { requests: (c as { resources?: { requests?: unknown } })?.resources?.requests ?? {} } }));
  return out;
}

/** A create's scheduling facts: a pod's own, or a workload's pod template's (with its nodeSelector). */
function schedulingFacts(spec: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  const tmpl = (spec?.template as { spec?: Record<string, unknown> } | undefined)?.spec;
  if (tmpl && typeof tmpl === 'object') {
    const facts = podSchedulingFacts(tmpl)!;
    if (tmpl.nodeSelector !== undefined) facts.nodeSelector = tmpl.nodeSelector;
    return { template: { spec: facts } };
  }
  return spec && Array.isArray(spec.containers) ? podSchedulingFacts(spec) : undefined;
}

/** Only what detectors read; a new object, the input is left alone. */
export function compactSpan(s: SpanRecord, pool = new StringPool()): SpanRecord {
  const a: Record<string, AttrValue> = {};
  for (const k in s.attributes) {
    if (!KEEP.has(k)) continue;
    const v = s.attributes[k]!;
    if (v === null || v === undefined) continue; // a projected attribute the span does not have
    a[k] = typeof v !== 'string' ? v : k === Attr.diff ? compactDiff(v) : POOLED.has(k) ? pool.get(v) : v;
  }
  const verbose = s.attributes[Attr.diffVerbose];
  if (typeof verbose === 'string' && verbose.includes('metadata.generation')) {
    a[Attr.diffVerbose] = verbose
      .split('\n')
      .filter((l) => l.startsWith('metadata.generation '))
      .join('\n');
  }
  const snap = s.attributes[Attr.snapshot];
  // creates, and deletes that left the object held by finalizers: other snapshots tell the detectors nothing the create did not
  if (typeof snap === 'string' && snapshotWanted(s.attributes[Attr.verb], snap)) {
    try {
      const o = JSON.parse(snap) as Record<string, Record<string, unknown> | undefined>;
      const small: Record<string, Record<string, unknown>> = {};
      const create = s.attributes[Attr.verb] === 'create';
      const extra = create ? RESOURCE_SNAPSHOT_FIELDS[s.object.resource] : undefined;
      for (const [part, fields] of Object.entries(create ? SNAPSHOT_FIELDS : DELETE_SNAPSHOT_FIELDS)) {
        const src = o?.[part];
        if (!src || typeof src !== 'object') continue;
        for (const f of extra?.[part] ? [...fields, ...extra[part]] : fields)
          if (src[f] !== undefined) (small[part] ??= {})[f] = f === 'ownerReferences' && Array.isArray(src[f]) ? ownerRefs(src[f]) : src[f];
      }
      const sched = schedulingFacts(o?.spec);
      if (sched) Object.assign((small.spec ??= {}), sched);
      // a webhook configuration's webhook names: a refusal names the webhook, not its configuration
      const hooks = (o as Record<string, unknown> | undefined)?.webhooks;
      if (Array.isArray(hooks)) (small as Record<string, unknown>).webhooks = hooks.map((w) => ({ name: (w as { name?: unknown })?.name }));
      a[Attr.snapshot] = JSON.stringify(small);
    } catch {
      // unparsable snapshot: leave it out
    }
  }
  const out: SpanRecord = {
    traceId: pool.get(s.traceId),
    spanId: s.spanId,
    kind: s.kind,
    name: pool.get(s.name),
    startUs: s.startUs,
    endUs: s.endUs,
    object: s.object,
    attributes: a,
  };
  if (s.error !== undefined) out.error = s.error;
  return out;
}

/** Facts read back (already compacted): their repeated strings as one instance each, as compactSpan pools them. */
export function poolFacts(s: SpanRecord, pool: StringPool): SpanRecord {
  s.traceId = pool.get(s.traceId);
  s.name = pool.get(s.name);
  const a = s.attributes;
  for (const k in a) {
    const v = a[k];
    if (typeof v === 'string' && POOLED.has(k)) a[k] = pool.get(v);
  }
  return s;
}

const ownerRefs = (refs: unknown[]): unknown[] =>
  refs.map((r) => {
    const o = (r ?? {}) as Record<string, unknown>;
    return { apiVersion: o.apiVersion, kind: o.kind, name: o.name, controller: o.controller };
  });
