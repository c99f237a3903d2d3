// Tracer configuration: what the write path traces, what it drops and what it redacts.
// See docs/write-path.md for the reasons behind the defaults.

export interface RedactionRule {
  /** API group ('' for core); omitted = any group. */
  group?: string;
  /** Plural resource; omitted = any resource. */
  resource?: string;
  /**
   * Dotted path, '*' matches any one segment, `["a.b"]` quotes a key containing dots,
   * e.g. 'data.*' or 'spec.template.spec.containers.*.env.*.value'.
   */
  path: string;
}

export interface TracerConfig {
  /** Window length in seconds; one raw trace per (object, window). Multiple of 60. */
  windowSec: number;
  /** Traced write verbs. */
  verbs: string[];
  /** Trace get/list/watch too (dropped by default: they change nothing). */
  includeReads: boolean;
  /** 'group/resource' ('' group for core, e.g. '/events') never traced as objects. */
  excludeResources: string[];
  /** Audit writes of Events become Kubernetes-Event spans on the involved object. */
  eventsFromAudit: boolean;
  /** Extra redaction rules; Secret data/stringData and last-applied annotation are always redacted. */
  redact: RedactionRule[];
  /** LRU entries for per-object state (previous versions, emitted object/link spans). */
  cacheSize: number;
  /**
   * Bytes for the previous-version cache (JSON text of the newest version of each object, plus
   * informer versions not yet explained by an audit event). Whichever of cacheSize/cacheBytes is
   * reached first evicts the least recently changed object.
   */
  cacheBytes: number;
}

export const defaultTracerConfig: TracerConfig = Object.freeze({
  windowSec: 1800,
  verbs: ['create', 'update', 'patch', 'delete', 'deletecollection'],
  includeReads: false,
  // Lease renewals dominate the audit volume at KWOK scale and say little; Events are shown as
  // Kubernetes-Event spans on the object they are about, not as objects of their own.
  excludeResources: ['coordination.k8s.io/leases', '/events', 'events.k8s.io/events'],
  eventsFromAudit: true,
  redact: [],
  cacheSize: 100_000,
  // Sized so a replay of 100,000 live pods stays under 1 GiB RSS with the reader and SQLite
  // (docs/write-path.md, Memory); ~3 KB per pod keeps ~80,000 pods' previous versions.
  cacheBytes: 256 * 1024 * 1024,
}) as TracerConfig;

/** Merges a partial config over the defaults and validates it; throws on invalid values. */
export function resolveConfig(partial: Partial<TracerConfig> = {}): TracerConfig {
  const c: TracerConfig = {
    ...defaultTracerConfig,
    ...Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)),
  };
  if (!Number.isInteger(c.windowSec) || c.windowSec <= 0 || c.windowSec % 60 !== 0) {
    throw new Error(`windowSec must be a positive multiple of 60, got ${c.windowSec}`);
  }
  if (!Number.isInteger(c.cacheSize) || c.cacheSize < 1) {
    throw new Error(`cacheSize must be a positive integer, got ${c.cacheSize}`);
  }
  if (!Number.isSafeInteger(c.cacheBytes) || c.cacheBytes < 1024 * 1024) {
    throw new Error(`cacheBytes must be an integer of at least 1 MiB (1048576), got ${c.cacheBytes}`);
  }
  for (const r of c.excludeResources) {
    if (!r.includes('/')) throw new Error(`excludeResources entries are 'group/resource' ('/events' for core), got '${r}'`);
  }
  for (const r of c.redact) {
    if (!r || typeof r.path !== 'string' || r.path === '') throw new Error('redact rules need a non-empty path');
  }
  return {
    ...c,
    verbs: [...c.verbs],
    excludeResources: [...c.excludeResources],
    redact: c.redact.map((r) => ({ ...r })),
  };
}
