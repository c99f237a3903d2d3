import type { ObjectRef, SpanRecord } from '../../src/core/model.ts';

export interface ObjectQuery {
  cluster?: string;
  group?: string;
  resource?: string;
  namespace?: string;
  /** Exact name, or a glob with `*` (`web-*` prefix, `*web*` substring; Kubernetes names never contain `*`). */
  name?: string;
  startUs: number;
  endUs: number;
  limit: number;
}

/** What a store holds, for the UI's defaults: the time range of its data and its namespaces. */
export interface DataSummary {
  /** First and last instant covered by object spans (window bounds), Unix µs; undefined when empty. */
  firstUs?: number;
  lastUs?: number;
  /** First and last recorded event (whole seconds, the end exclusive), where the backend knows them cheaply (the embedded store). */
  firstEventUs?: number;
  lastEventUs?: number;
  namespaces: string[];
}

export interface FoundObject {
  object: ObjectRef;
  /** Window starts (Unix seconds) in the queried range where the object has a raw trace, ascending. */
  windows: number[];
}

/** The overview's counts as a backend keeps them (the embedded store, as it writes): see activityCounts. */
export interface ActivityCounts {
  /** Per second (Unix s) and kind/namespace with any write or Event: writes (requests), Events, Warning Events. */
  cells: { sec: number; cluster: string; group: string; resource: string; namespace: string; writes: number; events: number; warnings: number }[];
  /** Distinct objects with an event in the minutes that overlap the range, per kind/namespace. */
  objects: { cluster: string; group: string; resource: string; namespace: string; count: number }[];
  /** The failed requests of the range: their raw traces and span IDs (classified by the caller). */
  failed: { traceId: string; spanId: string; startUs: number }[];
}

/** A range scan for the diagnosis (frontend-plugin/diagnose/loader.ts). */
export interface SpanScan {
  cluster?: string;
  /** That namespace's objects and the cluster-scoped ones (nodes, …). */
  namespace?: string;
  startUs: number;
  endUs: number;
  /**
   * `creates`: the caller needs the snapshots of creates, and of deletes that name finalizers (an
   * object left Terminating), only: a backend may leave the others out (`snapshotWanted`).
   */
  snapshots?: 'all' | 'creates';
}

/** For `snapshots: 'creates'`: a create's snapshot, or a delete's that names finalizers. */
export { snapshotWanted } from '../../src/core/facts.ts';

/**
 * Where the read path gets raw spans: Jaeger's query HTTP API (jaeger.ts) or the embedded store.
 * Raw trace IDs are derived (src/core/ids.ts), so most reads are direct fetches by ID.
 */
export interface TraceBackend {
  /** All spans of one raw trace (object, window); [] when unknown. */
  getRawTrace(traceId: string): Promise<SpanRecord[]>;
  /**
   * Many raw traces in one call, result i = getRawTrace(traceIds[i]) (the embedded store: one
   * statement per chunk; Jaeger: parallel fetches, bounded). Assembly, the tag search, the
   * dependencies and the overview read through it.
   */
  getRawTraces(traceIds: string[]): Promise<SpanRecord[][]>;
  /** Objects whose object spans match the filter and overlap [startUs, endUs]. */
  findObjects(q: ObjectQuery): Promise<FoundObject[]>;
  /**
   * The event and link spans of every raw trace whose window overlaps [startUs, endUs], in batches
   * (no order promised; the embedded store: the objects index, then the spans by trace ID; Jaeger:
   * one search). The diagnosis, the export and the overview without an index read through it.
   */
  scanSpans(q: SpanScan): AsyncIterable<SpanRecord[]>;
  /**
   * Optional: the facts the write path kept of the range's event and link spans (src/core/facts.ts
   * compactSpan: what the detectors read, already compacted), in batches; a span may come more than
   * once, but only within one batch. Undefined when this store has none for the range (written
   * before facts existed): the loader reads the spans then.
   */
  scanFacts?(q: SpanScan): Promise<AsyncIterable<SpanRecord[]> | undefined>;
  /**
   * Optional: pre-counted activity of [startUs, endUs] at one-second resolution (the overview's
   * heatmap without reading spans); undefined when this store has no such index (an older file).
   */
  activityCounts?(q: { cluster?: string; startUs: number; endUs: number }): Promise<ActivityCounts | undefined>;
  /** Optional: the time range and namespaces of the stored data (the UI's "all data" range). */
  summary?(cluster?: string): Promise<DataSummary>;
  /** Cluster names seen. */
  clusters(): Promise<string[]>;
  close(): Promise<void>;
}
