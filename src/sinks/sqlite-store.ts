// The embedded store: one SQLite file (node:sqlite, WAL) that is both a SpanSink (write path) and a
// TraceBackend (read path). Spans are unique by (trace_id, span_id) with INSERT OR IGNORE, so a replay
// or a redelivery of the same input (derived IDs) stores nothing twice. Writes run in a worker thread
// (sqlite-writer.ts) with its own connection; reads use this thread's connection.
import { DatabaseSync } from 'node:sqlite';
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { log } from '../core/log.ts';
import { FAILED_SQL } from '../core/failed.ts';
import type { SpanRecord } from '../core/model.ts';
import type { SpanSink } from '../core/sink.ts';
import {
  configureWriter,
  fillFacts,
  insertAndFeed,
  MAX_SPANS_PER_TRANSACTION,
  SqliteSpanInserter,
  sqliteError,
  TRANSIENT_SQLITE_CODES,
  type WriterData,
} from './sqlite-writer.ts';
import type { FactsFeed, FeedEnd } from './facts-feed.ts';
import { QueuedWriter, type WriterLimits } from './queued-writer.ts';
import { ExportError, type Transport } from './transport.ts';
import { WorkerRpc } from './worker-rpc.ts';

export function defaultStorePath(): string {
  const base = process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(base, 'kubetrail', 'kubetrail.sqlite');
}

export interface SqliteStoreOptions extends Partial<WriterLimits> {
  /** Spans accepted but not yet committed at which write() refuses with SinkFullError (maxQueueSpans). */
  maxPending?: number;
  /** Metrics label; default store. */
  name?: string;
  /** Open read-only (query side of a store another process writes). */
  readOnly?: boolean;
}

/**
 * `PRAGMA user_version` of the layout below. 1 (stored as 0): spans as a WITHOUT ROWID table.
 * 2: spans as a rowid table. 3: plus the overview's index (namespaces, activity, active_objects,
 * failed_events); a writer opening a version-2 store adds and fills it once (migrate()).
 * 4: plus the diagnosis' facts (facts); a writer opening a version-2 or 3 store fills it once (fillFacts()).
 */
export const SCHEMA_VERSION = 4;
/** Layouts this version can read (the span and object columns are the same; below 3 without the overview's index, below 4 without facts). */
const READABLE_VERSIONS = new Set([1, 2, 3, 4]);

/** The columns a span and its facts share (the facts' attributes keep only what detectors read). */
const SPAN_FIELDS = `kind TEXT NOT NULL,
  name TEXT NOT NULL,
  start_us INTEGER NOT NULL,
  end_us INTEGER NOT NULL,
  cluster TEXT NOT NULL,
  grp TEXT NOT NULL,
  resource TEXT NOT NULL,
  namespace TEXT NOT NULL,
  obj_name TEXT NOT NULL,
  attributes TEXT NOT NULL,
  error TEXT,
  UNIQUE (trace_id, span_id)`;

// Spans in an ordinary rowid table: rows are appended in arrival order instead of landing at random
// places in a B-tree of ~2 KB rows keyed by hashes (2.5x faster inserts); the UNIQUE index keeps
// INSERT OR IGNORE's de-duplication and serves reads by trace_id.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS spans (
  trace_id TEXT NOT NULL,
  span_id TEXT NOT NULL,
  parent_span_id TEXT,
  ${SPAN_FIELDS}
);
-- object spans only: one row per (object, window), searched by findObjects
CREATE TABLE IF NOT EXISTS objects (
  cluster TEXT NOT NULL,
  grp TEXT NOT NULL,
  resource TEXT NOT NULL,
  namespace TEXT NOT NULL,
  obj_name TEXT NOT NULL,
  start_us INTEGER NOT NULL,
  end_us INTEGER NOT NULL,
  trace_id TEXT NOT NULL,
  PRIMARY KEY (cluster, grp, resource, namespace, obj_name, start_us)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS clusters (cluster TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS objects_by_name ON objects (obj_name, start_us);
CREATE INDEX IF NOT EXISTS objects_by_resource ON objects (resource, namespace, start_us);
-- by window start, and its end beside it: the range searches, and the summary's last end (format 3;
-- format 2 had objects_by_time on start_us alone)
CREATE INDEX IF NOT EXISTS objects_by_window ON objects (start_us, end_us);
DROP INDEX IF EXISTS objects_by_time;
-- The overview's index, kept by the writer as event spans are inserted (only the new ones, so a
-- redelivery counts nothing twice), read by frontend-plugin/backend/sqlite.ts activityCounts():
-- namespaces seen per cluster (the search's namespace list)
CREATE TABLE IF NOT EXISTS namespaces (cluster TEXT NOT NULL, namespace TEXT NOT NULL, PRIMARY KEY (cluster, namespace)) WITHOUT ROWID;
-- per second and kind/namespace: writes (requests with a verb), Kubernetes Events, Warning Events
CREATE TABLE IF NOT EXISTS activity (
  sec INTEGER NOT NULL,
  cluster TEXT NOT NULL,
  grp TEXT NOT NULL,
  resource TEXT NOT NULL,
  namespace TEXT NOT NULL,
  writes INTEGER NOT NULL,
  events INTEGER NOT NULL,
  warnings INTEGER NOT NULL,
  PRIMARY KEY (sec, cluster, grp, resource, namespace)
) WITHOUT ROWID;
-- which objects had an event in each minute (the overview's object counts)
CREATE TABLE IF NOT EXISTS active_objects (
  minute INTEGER NOT NULL,
  cluster TEXT NOT NULL,
  grp TEXT NOT NULL,
  resource TEXT NOT NULL,
  namespace TEXT NOT NULL,
  obj_name TEXT NOT NULL,
  PRIMARY KEY (minute, cluster, grp, resource, namespace, obj_name)
) WITHOUT ROWID;
-- the same per object: counting the distinct objects of a long range without sorting them
CREATE INDEX IF NOT EXISTS active_by_object ON active_objects (cluster, grp, resource, namespace, obj_name, minute);
-- the writer's space probe (sqlite-writer.ts probe()): empty except for a moment while the store
-- waits for free space; not part of the format (readers ignore it)
CREATE TABLE IF NOT EXISTS space_probe (filler BLOB NOT NULL);
-- failed requests (src/core/failed.ts), classified expected/real when read (frontend-plugin/failures.ts)
CREATE TABLE IF NOT EXISTS failed_events (
  start_us INTEGER NOT NULL,
  cluster TEXT NOT NULL,
  trace_id TEXT NOT NULL,
  span_id TEXT NOT NULL,
  PRIMARY KEY (start_us, cluster, trace_id, span_id)
) WITHOUT ROWID;
-- The diagnosis' facts (format 4): every event and link span as src/core/facts.ts compactSpan keeps
-- it (only what detectors read), written with the span; the diagnosis reads these instead of the
-- spans (frontend-plugin/backend/sqlite.ts scanFacts), finding the raw traces of a range in objects.
-- A rowid table with a UNIQUE index, as spans: appended in arrival order (a WITHOUT ROWID table
-- keyed by hashes took 2.5x the space, its pages half full), read by trace ID in the spans' order.
CREATE TABLE IF NOT EXISTS facts (
  trace_id TEXT NOT NULL,
  span_id TEXT NOT NULL,
  ${SPAN_FIELDS}
);
`;

/**
 * Fills the overview's index of a version-2 store from its spans (one pass in SQL, the same
 * counting as SqliteSpanInserter.insert), inside the caller's transaction.
 */
function migrate(db: DatabaseSync): void {
  const verb = "attributes ->> '$.verb'";
  const reason = `attributes ->> '$."event.reason"'`;
  db.exec(`INSERT OR IGNORE INTO namespaces (cluster, namespace) SELECT DISTINCT cluster, namespace FROM objects WHERE namespace != '';
    INSERT INTO activity (sec, cluster, grp, resource, namespace, writes, events, warnings)
      SELECT start_us / 1000000, cluster, grp, resource, namespace,
        SUM(${verb} IS NOT NULL), SUM(${verb} IS NULL AND ${reason} IS NOT NULL),
        SUM(${verb} IS NULL AND ${reason} IS NOT NULL AND attributes ->> '$."event.type"' = 'Warning')
      FROM spans WHERE kind = 'event' GROUP BY 1, 2, 3, 4, 5
      HAVING SUM(${verb} IS NOT NULL OR ${reason} IS NOT NULL) > 0;
    INSERT OR IGNORE INTO active_objects (minute, cluster, grp, resource, namespace, obj_name)
      SELECT DISTINCT start_us / 60000000, cluster, grp, resource, namespace, obj_name FROM spans WHERE kind = 'event';
    INSERT OR IGNORE INTO failed_events (start_us, cluster, trace_id, span_id)
      SELECT start_us, cluster, trace_id, span_id FROM spans
      WHERE ${FAILED_SQL};`);
}

/** The schema version of an open store: 0 = empty file, 1 = the unversioned first layout. */
function storedVersion(db: DatabaseSync): number {
  const v = Number((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version);
  if (v !== 0) return v;
  const spans = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'spans'").get();
  return spans ? 1 : 0;
}

/** Store transport: one batch = one call to the writer thread (or this thread for ':memory:'). */
class SqliteTransport implements Transport {
  readonly label: string;
  private readonly rpc: WorkerRpc<SpanRecord[] | { probe: number }, true> | undefined;
  private readonly inline: SqliteSpanInserter | undefined;
  private inlineFeed: FeedEnd | undefined;

  constructor(path: string, db: DatabaseSync) {
    this.label = `store write to ${path}`;
    if (path === ':memory:') this.inline = new SqliteSpanInserter(db);
    else
      this.rpc = new WorkerRpc(new URL('./sqlite-writer.ts', import.meta.url), { role: 'kubetrail-sqlite-writer', path } satisfies WriterData, 'store writer');
  }

  async export(batch: SpanRecord[]): Promise<void> {
    return this.run(batch);
  }

  async probe(bytes: number): Promise<void> {
    return this.run({ probe: bytes });
  }

  private async run(what: SpanRecord[] | { probe: number }): Promise<void> {
    try {
      if (this.inline) {
        if (!Array.isArray(what)) this.inline.probe(what.probe);
        else insertAndFeed(this.inline, [what], this.inlineFeed);
      } else await this.rpc!.call(what);
    } catch (err) {
      const e = sqliteError(err);
      const code = (e as { code?: string }).code;
      // no code: the thread died or the spans could not be cloned; a clone error is about the data
      const kind = code ? (TRANSIENT_SQLITE_CODES.has(code) ? 'transient' : 'permanent') : e.name === 'DataCloneError' ? 'permanent' : 'transient';
      throw new ExportError(e.message, kind, code);
    }
  }

  /** The facts of every committed batch's new spans also go to this feed (facts-feed.ts). */
  feedFacts(feed: FactsFeed): void {
    if (this.inline) this.inlineFeed = feed();
    else this.rpc!.setFeed(feed);
  }

  async shutdown(): Promise<void> {
    await this.rpc?.shutdown();
  }
}

/** Defaults of the store's writer (docs/operations.md). */
export const STORE_DEFAULTS: Partial<WriterLimits> = {
  maxQueueSpans: 200_000,
  maxBatchSpans: MAX_SPANS_PER_TRANSACTION,
  maxBatchBytes: 32 * 1024 ** 2,
  concurrency: 4,
  // a full disk or a locked file: retry briefly, then tell the writer (the webhook answers 503 and the API server resends)
  maxAttempts: 3,
  retryInitialMs: 100,
  retryMaxMs: 2000,
};

export class SqliteStore implements SpanSink {
  readonly path: string;
  /**
   * Schema setup and the read side's connection (frontend-plugin/backend/sqlite.ts reads through it);
   * the writes go through `writer`.
   */
  readonly db: DatabaseSync;
  /** The layout of the file (SCHEMA_VERSION once a writer opened it; 0 = empty, read-only). */
  readonly schemaVersion: number;
  /** The queued writer in front of the writer thread; undefined when read-only. */
  readonly writer: QueuedWriter | undefined;
  private closed = false;

  constructor(path: string = defaultStorePath(), opts: SqliteStoreOptions = {}) {
    this.path = path;
    const readOnly = opts.readOnly ?? false;
    if (path !== ':memory:' && !readOnly) mkdirSync(dirname(path), { recursive: true });
    this.db = new DatabaseSync(path, { readOnly, timeout: 5000 });
    let version: number;
    try {
      version = storedVersion(this.db);
      if (readOnly) {
        if (version !== 0 && !READABLE_VERSIONS.has(version)) {
          throw new Error(`store ${path} has schema ${version}, this kubetrail reads schema ${[...READABLE_VERSIONS].join(' or ')}: use a newer kubetrail`);
        }
      } else {
        if (version !== 0 && version !== 2 && version !== 3 && version !== SCHEMA_VERSION) {
          throw new Error(`store ${path} has schema ${version}, this kubetrail writes ${SCHEMA_VERSION}: replay into a new file`);
        }
        configureWriter(this.db);
        this.db.exec('BEGIN');
        this.db.exec(SCHEMA);
        if (version === 2) {
          log.info({ store: path }, 'adding the overview index to a store written by an older kubetrail (once; reads every span)');
          migrate(this.db);
        }
        if (version === 2 || version === 3) {
          log.info({ store: path }, "adding the diagnosis' facts to a store written by an older kubetrail (once; reads every span)");
          fillFacts(this.db);
        }
        this.db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
        this.db.exec('COMMIT');
        version = SCHEMA_VERSION;
        const { maxPending, name, readOnly: _ro, ...limits } = opts;
        this.writer = new QueuedWriter(new SqliteTransport(path, this.db), {
          ...STORE_DEFAULTS,
          ...(maxPending !== undefined ? { maxQueueSpans: maxPending } : {}),
          ...Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined)),
          name: name ?? 'store',
        });
      }
    } catch (err) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      this.db.close();
      throw err;
    }
    this.schemaVersion = version;
    // Reads (the query side) map the file instead of copying pages through read(2): a full-tree
    // trace touches thousands of raw traces, tens of MB of stored attributes. This connection does
    // not write (the writer thread has its own, unmapped), so a replay's RSS does not grow with it.
    if (path !== ':memory:') this.db.exec('PRAGMA mmap_size = 268435456;');
    this.db.exec('PRAGMA cache_size = -32768;');
  }

  /** The facts of every committed batch's new spans also go to this feed (facts-feed.ts); before the first write. */
  feedFacts(feed: FactsFeed): void {
    if (!this.writer) throw new Error(`store ${this.path} is open read-only`);
    this.writer.feedFacts(feed);
  }

  // ---- SpanSink (the queued writer's) ----

  /** Resolves when the spans are committed (durable against a process crash). */
  write(spans: SpanRecord[]): Promise<void> {
    if (!this.writer) return Promise.reject(new Error(`store ${this.path} is open read-only`));
    if (this.closed) return Promise.reject(new Error('store is closed'));
    return this.writer.write(spans);
  }

  pending(): number {
    return this.writer?.pending() ?? 0;
  }

  full(): boolean {
    return this.writer?.full() ?? false;
  }

  healthy(): boolean {
    return this.writer?.healthy() ?? true;
  }

  lastError(): string | undefined {
    return this.writer?.lastError();
  }

  writable(): Promise<void> {
    return this.writer?.writable() ?? Promise.resolve();
  }

  async flush(): Promise<void> {
    await this.writer?.flush();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writer?.close();
    this.db.close();
  }

  /** Number of stored spans (for summaries and tests). */
  count(): number {
    const row = this.db.prepare('SELECT COUNT(*) AS n FROM spans').get() as { n: number | bigint };
    return Number(row.n);
  }
}
