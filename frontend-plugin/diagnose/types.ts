// The diagnosis contract: a detector is a pure function over the spans of a time range (plus
// thresholds) that returns findings. The CLI (`kubetrail diagnose`), `/api/diagnose` and the UI
// all show the same Report (docs/diagnose.md).
import type { ObjectRef, SpanRecord } from '../../src/core/model.ts';
import type { SpanIndex } from './span-index.ts';
import type { PodStartupReport } from './pod-startup.ts';

export type Severity = 'info' | 'warning' | 'error';
export const SEVERITIES: readonly Severity[] = ['info', 'warning', 'error'];
export const severityRank = (s: Severity): number => SEVERITIES.indexOf(s);

/** One event that proves a finding. */
export interface Evidence {
  /** ISO 8601 time of the event. */
  time: string;
  user: string;
  verb: string;
  subresource?: string;
  code?: number;
  /** The relevant diff lines (newline-separated). */
  diff?: string;
  /** Error of a failed request, or the Kubernetes Event message. */
  message?: string;
  object: ObjectRef;
}

/**
 * Why a finding happened: the earliest action upstream of the symptom that the record holds (a
 * user's or script's delete, a node deletion, a refusal by a quota or an admission policy, ...),
 * found by walking back along relations and the writes controllers reacted to (docs/diagnose.md).
 */
export interface Cause {
  /** Who acted (audit user; for a refusal, the actor whose request was refused). */
  actor: string;
  verb: string;
  subresource?: string;
  object: ObjectRef;
  /** ISO 8601 time of the action. */
  time: string;
  /** One line, plain words: what the action was and why it matters. */
  summary: string;
  /** The refusal message, or the object that refused (ResourceQuota, admission policy), where known. */
  message?: string;
  /** `/redirect?…` opening the cause's object at its time. */
  redirect: string;
}

export interface Finding {
  detector: string;
  severity: Severity;
  /** One line, plain words. */
  title: string;
  objects: ObjectRef[];
  actors?: string[];
  evidence: Evidence[];
  /** Raw trace ID (object, window) of the first evidence event. */
  traceId?: string;
  /** `/redirect?cluster=…&group=…&resource=…&namespace=…&name=…&ts=…`: opens the first object at the evidence's time. */
  redirect: string;
  /** Counts, values, percentiles. */
  data?: Record<string, unknown>;
  /** The cause, where the record holds it (absent when unknown). */
  cause?: Cause;
  /** symptom ← reaction ← cause, one short line each, the symptom first. */
  chain?: string[];
}

export interface DetectorStatus {
  name: string;
  findings: number;
  failed: boolean;
  /** Why it failed (a detector that throws does not stop the others). */
  error?: string;
}

export interface Report {
  cluster?: string;
  /** ISO 8601. */
  start: string;
  end: string;
  findings: Finding[];
  podStartup?: PodStartupReport;
  detectors: DetectorStatus[];
  /** Event and link spans the report was built from. */
  spans?: number;
}

/** Thresholds of all detectors; every key is also a `--config` key and a flag (docs/diagnose.md). */
export interface Thresholds {
  /** churn: an owner creating more than this × its desired pods in the range. */
  churnFactor: number;
  /** churn: ... and at least this many creates beyond the desired count. */
  churnMinExtra: number;
  /** churn: an object deleted and re-created under the same name at least this many times. */
  recreateMin: number;
  /** fighting: changes of one field by alternating actors (A→B counts one) at least this many times. */
  fightingMinFlips: number;
  /** conflicts: failed requests (409/429/5xx) of one actor at least this many times. */
  conflictMin: number;
  /** conflicts: ... and at least this share of the actor's requests on those objects failed (or 10 × conflictMin failed). */
  conflictMinRatio: number;
  /** noop-writes: writes that changed nothing, per actor and resource, at least this many. */
  noopMin: number;
  /** stuck-rollouts: seconds after the last spec change by which status must reach the spec. */
  rolloutTimeoutSec: number;
  /** unscheduled-pods: seconds from create to pods/binding. */
  scheduleTimeoutSec: number;
  /** unscheduled-pods: seconds from binding to status Running. */
  runTimeoutSec: number;
  /** orphans: seconds an object may outlive its owner (or a pod its node). */
  orphanGraceSec: number;
  /** slow-reactions: p99 of a controller's reaction above this many seconds is a warning. */
  slowReactionSec: number;
  /** hot-loops: writes of one object by one actor in one sustained stretch, at least this many. */
  hotLoopMinWrites: number;
  /** hot-loops: ... at this many writes per second or more (gaps over 2 / rate end a stretch). */
  hotLoopMinRate: number;
  /** hot-loops: ... sustained for at least this many seconds. */
  hotLoopMinDurationSec: number;
  /** hot-loops: ... and at least this many times the actor's and the cluster's normal per-object write rate. */
  hotLoopFactor: number;
  /** hot-loops: a stretch in which at least this share of the intervals follow another actor's write of the object, an owner or what it owns is a reaction, not a loop. */
  hotLoopReactionShare: number;
  /** hot-loops: a storm is one actor rewriting at least this many objects of one kind (each ≥ hotLoopMinWrites / 4 times in the stretch). */
  hotLoopStormMinObjects: number;
  /** hot-loops: 1 counts leases, node status heartbeats and Events too (left out at 0). */
  hotLoopHeartbeats: number;
  /** stuck-deletions: seconds an object (or namespace) may stay Terminating after its delete. */
  deletionTimeoutSec: number;
  /** workload-failures: a pod whose containers restart at least this many times in the range. */
  restartMin: number;
  /** workload-failures: a pod whose Ready condition went True → False at least this many times in the range (not at its deletion). */
  readyFlapMin: number;
  /** workload-failures: seconds a PersistentVolumeClaim with pods waiting on it may stay Pending. */
  pvcPendingTimeoutSec: number;
  /** blocked-evictions: evictions refused (429) for this many seconds, still not through at the range end, are a warning. */
  evictionBlockTimeoutSec: number;
}

export const defaultThresholds: Thresholds = Object.freeze({
  churnFactor: 3,
  churnMinExtra: 5,
  recreateMin: 3,
  fightingMinFlips: 4,
  conflictMin: 5,
  conflictMinRatio: 0.5,
  noopMin: 5,
  rolloutTimeoutSec: 120,
  scheduleTimeoutSec: 30,
  runTimeoutSec: 60,
  orphanGraceSec: 30,
  slowReactionSec: 10,
  hotLoopMinWrites: 20,
  hotLoopMinRate: 0.5,
  hotLoopMinDurationSec: 30,
  hotLoopFactor: 10,
  hotLoopReactionShare: 0.5,
  hotLoopStormMinObjects: 5,
  hotLoopHeartbeats: 0,
  deletionTimeoutSec: 60,
  restartMin: 3,
  readyFlapMin: 3,
  pvcPendingTimeoutSec: 60,
  evictionBlockTimeoutSec: 60,
});

/** What a detector sees: the spans of the range and an index over them (built once, shared). */
export interface DetectorInput {
  /** Event and link spans in the range, de-duplicated, ordered by start time. */
  spans: readonly SpanRecord[];
  index: SpanIndex;
  startUs: number;
  endUs: number;
  thresholds: Thresholds;
  /** The range starts where the record does (no start asked for): a history that starts mid-life began before the record. */
  rangeFromRecordStart?: boolean;
}

export interface Detector {
  name: string;
  /** One line: what it looks for. */
  description: string;
  detect(input: DetectorInput): Finding[];
}
