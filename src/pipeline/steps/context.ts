// What the steps of a change (steps/index.ts) share: the change (src/pipeline/change.ts: an audit
// event, a watch change or a Kubernetes Event about one object), what earlier steps found (the new
// version, the request body, the previous version) and what the event span will carry (name, time,
// attributes, links). Steps are plain functions over it, run in order.
import type { AttrValue, Link, ObjectRef } from '../../core/model.ts';
import { isRecord, type KubeObject } from '../../core/audit-event.ts';
import type { Change } from '../change.ts';
import type { UnexplainedWatchChanges } from '../unexplained.ts';
import type { Versions } from '../version-cache.ts';

export interface ChangeContext {
  readonly change: Change;
  readonly ref: ObjectRef;
  readonly key: string;
  /** The request failed (an audit event with code ≥ 300): nothing changed, no body is the object. */
  readonly failed: boolean;
  /** The resource is excluded (--exclude-resources): a watch change only feeds the history. */
  readonly excluded: boolean;
  /** The cleaned (managedFields stripped, redacted) response body; undefined when failed or absent. */
  response: unknown;
  /** The cleaned request body, when a step needed it (request-level audit, binding, scale). */
  request: unknown;
  /** The object's new version, when this change shows it. */
  obj: KubeObject | undefined;
  /** `obj` is the request body (request-level audit): its resourceVersion is not the new one. */
  fromRequest: boolean;
  /** JSON of `obj` when a step already made it (a snapshot), reused by the version cache. */
  objJson: string | undefined;
  /** The version this change started from, when known. */
  prev: KubeObject | undefined;
  /** Its resourceVersion, when a step needed only that and left `prev` unparsed (a delete showing its object). */
  prevRv: string | undefined;
  /** The event span: name, time and API version start as the change's; steps may know better. */
  name: string;
  startUs: number;
  endUs: number;
  version: string;
  /** Tags of the event span. */
  readonly attributes: Record<string, AttrValue>;
  readonly links: Link[];
  uid: string | undefined;
  /** Version history of the object (staged in the current transaction). */
  readonly versions: Versions;
  /** Audit mode with informers: watch changes waiting for the audit event that explains them. */
  readonly unexplained: UnexplainedWatchChanges | undefined;
  /** The newest known version before this change (parsed once, on first use). */
  last(): KubeObject | undefined;
  /** managedFields stripped, too-deep refused, redacted: before anything else sees a body. */
  clean(body: unknown): unknown;
  /** Adds diff, diff.entries, diff.verbose or noop for prev → cur. */
  diff(prev: KubeObject, cur: KubeObject): void;
  /** The relations of a version of the object (the linkers the pipeline uses). */
  findLinks(obj: KubeObject): Link[];
}

/** A step: adds to the context; a returned string ends the change with no span (the skip reason). */
// biome-ignore lint/suspicious/noConfusingVoidType: most steps only add to the context and return nothing
export type ChangeStep = (ctx: ChangeContext) => string | void;

/** How one kind of change is described (diff, snapshot, …): describe.ts picks exactly one. */
export type Describer = (ctx: ChangeContext) => void;

/** What a context needs from the pipeline. */
export interface ChangeTools {
  versions: Versions;
  unexplained?: UnexplainedWatchChanges;
  excluded: boolean;
  clean(body: unknown): unknown;
  diff(prev: KubeObject, cur: KubeObject, attributes: Record<string, AttrValue>): void;
  findLinks(obj: KubeObject, ref: ObjectRef): Link[];
}

/** A fresh context for `change`: nothing found yet, the span as the change says. */
export function changeContext(change: Change, tools: ChangeTools): ChangeContext {
  // The cached version is JSON text: parse it only when a step needs it (see version-cache.ts).
  let last: KubeObject | undefined | null = null;
  const { versions } = tools;
  const ctx: ChangeContext = {
    change,
    ref: change.ref,
    key: change.key,
    failed: change.source === 'audit' && change.audit.code >= 300,
    excluded: tools.excluded,
    response: undefined,
    request: undefined,
    obj: undefined,
    fromRequest: false,
    objJson: undefined,
    prev: undefined,
    prevRv: undefined,
    name: change.name,
    startUs: change.startUs,
    endUs: change.endUs,
    version: change.version,
    attributes: {},
    links: [],
    uid: change.uid,
    versions,
    unexplained: tools.unexplained,
    last: () => (last === null ? (last = versions.last(change.key)) : last),
    clean: tools.clean,
    diff: (prev, cur) => tools.diff(prev, cur, ctx.attributes),
    findLinks: (obj) => tools.findLinks(obj, change.ref),
  };
  return ctx;
}

// Response bodies that are not the object itself (subresources, deletes, errors), and review
// objects that carry credentials (TokenRequest/TokenReview hold bearer tokens): never snapshotted.
export const NOT_THE_OBJECT = new Set([
  'Status',
  'Scale',
  'Binding',
  'Eviction',
  'DeleteOptions',
  'TokenRequest',
  'TokenReview',
  'SubjectAccessReview',
  'SelfSubjectAccessReview',
  'LocalSubjectAccessReview',
  'SelfSubjectRulesReview',
  'SelfSubjectReview',
]);

/** `o` when it is the object named `name` itself (not a Status, Scale, … or another object). */
export function asObject(o: unknown, name: string): KubeObject | undefined {
  if (!isRecord(o) || NOT_THE_OBJECT.has(o.kind as string) || !isRecord(o.metadata)) return undefined;
  return o.metadata.name === name ? (o as KubeObject) : undefined;
}

export function rvOf(o: KubeObject | undefined): string {
  const rv = o?.metadata?.resourceVersion;
  return typeof rv === 'string' ? rv : '';
}
