// What the steps of an audit event (steps/index.ts) share: the normalized event, the object it is
// about, what earlier steps found (the new version, the request body, the previous version) and
// what the event span will carry (attributes, links). Steps are plain functions over it, run in order.
import type { AttrValue, Link, ObjectRef } from '../../core/model.ts';
import { isRecord, type KubeObject } from '../../core/audit-event.ts';
import type { NormalizedAudit } from '../../normalize/audit-event.ts';
import type { Versions } from '../version-cache.ts';

export interface AuditEventContext {
  readonly audit: NormalizedAudit;
  readonly ref: ObjectRef;
  readonly key: string;
  /** The request failed (code ≥ 300): nothing changed, no body is the object. */
  readonly failed: boolean;
  /** The response body as sent (one item of a deletecollection's list), not yet cleaned. */
  readonly rawResponse: unknown;
  /** The cleaned (managedFields stripped, redacted) response body; undefined when failed or absent. */
  response: unknown;
  /** The cleaned request body, when a step needed it (request-level audit, binding, scale). */
  request: unknown;
  /** The object's new version, when this event shows it. */
  obj: KubeObject | undefined;
  /** `obj` is the request body (request-level audit): its resourceVersion is not the new one. */
  fromRequest: boolean;
  /** JSON of `obj` when a step already made it (a snapshot), reused by the version cache. */
  objJson: string | undefined;
  /** The version this change started from, when known. */
  prev: KubeObject | undefined;
  /** Set once a step described the change (diff or snapshot, or "nothing changed"): the later change steps pass. */
  described: boolean;
  /** Tags of the event span. */
  readonly attributes: Record<string, AttrValue>;
  readonly links: Link[];
  uid: string | undefined;
  /** Version history of the object (staged in the current transaction). */
  readonly versions: Versions;
  /** The newest known version before this event (parsed once, on first use). */
  last(): KubeObject | undefined;
  /** managedFields stripped, too-deep refused, redacted: before anything else sees a body. */
  clean(body: unknown): unknown;
  /** Adds diff, diff.entries, diff.verbose or noop for prev → cur. */
  diff(prev: KubeObject, cur: KubeObject): void;
}

export type AuditEventStep = (ctx: AuditEventContext) => void;

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
