// The embedded store: one SQLite file (node:sqlite, WAL) that is both a SpanSink (write path) and a
// TraceBackend (read path). Spans are unique by (trace_id, span_id) with INSERT OR IGNORE, so a replay
// or a redelivery of the same input (derived IDs) stores nothing twice. Writes run in a worker thread
// (sqlite-writer.ts) with its own connection; reads use this thread's connection.
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { SpanRecord, SpanKind, AttrValue } from '../model.ts';
import { SinkFullError, type SpanSink } from './sink.ts';
import { Worker } from 'node:worker_threads';
import { configureWriter, SpanWriter, type FromWriter, type ToWriter, type WriterData } from './sqlite-writer.ts';
import type { FoundObject, ObjectQuery, TraceBackend } from '../../frontend-plugin/backend/backend.ts';

export function defaultStorePath(): string {
  const base = process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(base, 'kubetrail', 'kubetrail.sqlite');
}

export interface SqliteStoreOptions {
  /** Spans accepted but not yet committed above which write() refuses with SinkFullError. */
  maxPending?: number;
  /** Open read-only (query side of a store another process writes). */
  readOnly?: boolean;
}

/** `PRAGMA user_version` of the layout below. 1 (stored as 0): spans as a WITHOUT ROWID table. */
export const SCHEMA_VERSION = 2;
/** Layouts this version can read (the span and object columns are the same). */
const READABLE_VERSIONS = new Set([1, 2]);

// Spans in an ordinary rowid table: rows are appended in arrival order instead of landing at random
// places in a B-tree of ~2 KB rows keyed by hashes (2.5x faster inserts); the UNIQUE index keeps
// INSERT OR IGNORE's de-duplication and serves reads by trace_id.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS spans (
  trace_id TEXT NOT NULL,
  span_id TEXT NOT NULL,
  parent_span_id TEXT,
  kind TEXT NOT NULL,
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
  UNIQUE (trace_id, span_id)
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
CREATE INDEX IF NOT EXISTS objects_by_time ON objects (start_us);
`;

const SPAN_COLUMNS = 'trace_id, span_id, parent_span_id, kind, name, start_us, end_us, cluster, grp, resource, namespace, obj_name, attributes, error';
/** Raw traces per batched statement (bounds the JSON parameter and the rows held at once). */
const RAW_TRACES_PER_STATEMENT = 500;

interface SpanRow {
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  kind: string;
  name: string;
  start_us: number | bigint;
  end_us: number | bigint;
  cluster: string;
  grp: string;
  resource: string;
  namespace: string;
  obj_name: string;
  attributes: string;
  error: string | null;
}

/** The schema version of an open store: 0 = empty file, 1 = the unversioned first layout. */
function storedVersion(db: DatabaseSync): number {
  const v = Number((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version);
  if (v !== 0) return v;
  const spans = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'spans'").get();
  return spans ? 1 : 0;
}

/** Where write() sends spans: a worker thread, or this thread for ':memory:' stores. */
interface WriteTarget {
  write(spans: SpanRecord[]): Promise<void>;
  close(): Promise<void>;
  /** Keep the process alive while writes are outstanding. */
  busy(on: boolean): void;
}

class InlineWriter implements WriteTarget {
  private readonly writer: SpanWriter;
  constructor(db: DatabaseSync) {
    this.writer = new SpanWriter(db);
  }
  async write(spans: SpanRecord[]): Promise<void> {
    this.writer.insert([spans]);
  }
  async close(): Promise<void> {}
  busy(): void {}
}

class WorkerWriter implements WriteTarget {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private failed: Error | undefined;
  private onClosed: (() => void) | undefined;

  constructor(path: string) {
    const data: WriterData = { role: 'kubetrail-sqlite-writer', path };
    this.worker = new Worker(new URL('./sqlite-writer.ts', import.meta.url), { workerData: data });
    this.worker.unref();
    this.worker.on('message', (m: FromWriter) => {
      if ('ids' in m) {
        for (const id of m.ids) {
          const w = this.waiting.get(id);
          this.waiting.delete(id);
          if (m.error === undefined) w?.resolve();
          else w?.reject(new Error(`store write failed: ${m.error}`));
        }
      } else if ('closed' in m) {
        this.onClosed?.();
      } else {
        this.fail(new Error(`store writer: ${m.fatal}`));
      }
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', () => {
      this.fail(new Error('store writer thread exited'));
      this.onClosed?.();
    });
  }

  private fail(err: Error): void {
    this.failed ??= err;
    for (const w of this.waiting.values()) w.reject(this.failed);
    this.waiting.clear();
  }

  write(spans: SpanRecord[]): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      // postMessage clones synchronously: a span that cannot be cloned fails here, alone
      try {
        this.worker.postMessage({ id, spans } satisfies ToWriter);
      } catch (err) {
        this.waiting.delete(id);
        reject(err as Error);
      }
    });
  }

  close(): Promise<void> {
    if (this.failed) return this.worker.terminate().then(() => undefined);
    return new Promise<void>((resolve) => {
      this.onClosed = resolve;
      this.worker.ref();
      this.worker.postMessage({ close: true } satisfies ToWriter);
    });
  }

  busy(on: boolean): void {
    if (on) this.worker.ref();
    else this.worker.unref();
  }
}

export class SqliteStore implements SpanSink, TraceBackend {
  readonly path: string;
  /** Read side (and schema setup); the writes go through `writer`. */
  private readonly db: DatabaseSync;
  private readonly writer: WriteTarget | undefined;
  private readonly maxPending: number;
  private pendingCount = 0;
  private closed = false;
  private readonly selectTrace: StatementSync;
  private readonly selectTraces: StatementSync;
  /** The last write; the writer commits in order, so awaiting it awaits all before it. */
  private last: Promise<void> = Promise.resolve();

  constructor(path: string = defaultStorePath(), opts: SqliteStoreOptions = {}) {
    this.path = path;
    this.maxPending = opts.maxPending ?? 200_000;
    const readOnly = opts.readOnly ?? false;
    if (path !== ':memory:' && !readOnly) mkdirSync(dirname(path), { recursive: true });
    this.db = new DatabaseSync(path, { readOnly, timeout: 5000 });
    try {
      const version = storedVersion(this.db);
      if (readOnly) {
        if (version !== 0 && !READABLE_VERSIONS.has(version)) {
          throw new Error(`store ${path} has schema ${version}, this kubetrail reads schema ${[...READABLE_VERSIONS].join(' or ')}: use a newer kubetrail`);
        }
      } else {
        if (version !== 0 && version !== SCHEMA_VERSION) {
          throw new Error(`store ${path} has schema ${version}, this kubetrail writes ${SCHEMA_VERSION}: replay into a new file`);
        }
        configureWriter(this.db);
        this.db.exec('BEGIN');
        this.db.exec(SCHEMA);
        this.db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
        this.db.exec('COMMIT');
        this.writer = path === ':memory:' ? new InlineWriter(this.db) : new WorkerWriter(path);
      }
    } catch (err) {
      this.db.close();
      throw err;
    }
    // Reads (the query side) map the file instead of copying pages through read(2): a full-tree
    // trace touches thousands of raw traces, tens of MB of stored attributes. This connection does
    // not write (the writer thread has its own, unmapped), so a replay's RSS does not grow with it.
    if (path !== ':memory:') this.db.exec('PRAGMA mmap_size = 268435456;');
    this.db.exec('PRAGMA cache_size = -32768;');
    this.selectTrace = this.db.prepare(`SELECT ${SPAN_COLUMNS} FROM spans WHERE trace_id = ? ORDER BY start_us, span_id`);
    // Many raw traces in one statement (the IDs as a JSON array, sorted so the index is walked in
    // order): one SQLite call per chunk instead of one per (object, window).
    this.selectTraces = this.db.prepare(
      `SELECT ${SPAN_COLUMNS} FROM spans WHERE trace_id IN (SELECT value FROM json_each(?))`,
    );
  }

  // ---- SpanSink ----

  /** Resolves when the spans are committed (durable against a process crash). */
  write(spans: SpanRecord[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    if (!this.writer) return Promise.reject(new Error(`store ${this.path} is open read-only`));
    if (spans.length === 0) return Promise.resolve();
    if (this.full()) return Promise.reject(new SinkFullError(`store has ${this.pendingCount} spans pending`));
    if (this.pendingCount === 0) this.writer.busy(true);
    this.pendingCount += spans.length;
    const done = this.writer.write(spans).finally(() => {
      this.pendingCount -= spans.length;
      if (this.pendingCount === 0) this.writer?.busy(false);
    });
    // the caller sees a failure through `done`; flush() only waits
    this.last = done.catch(() => undefined);
    return done;
  }

  pending(): number {
    return this.pendingCount;
  }

  full(): boolean {
    return this.pendingCount >= this.maxPending;
  }

  async flush(): Promise<void> {
    await this.last;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.flush();
    await this.writer?.close();
    this.db.close();
  }

  // ---- TraceBackend ----

  async getRawTrace(traceId: string): Promise<SpanRecord[]> {
    const out: SpanRecord[] = [];
    let prev: SpanRecord | undefined;
    for (const r of this.selectTrace.all(traceId) as unknown as SpanRow[]) out.push((prev = rowToSpan(r, prev)));
    return out;
  }

  /** getRawTrace of many IDs at once, in the order asked (unknown IDs: []). */
  async getRawTraces(traceIds: string[]): Promise<SpanRecord[][]> {
    const byId = new Map<string, SpanRecord[]>();
    // unique: an ID in two chunks would collect its rows twice; sorted: the index is walked in order
    const unique = [...new Set(traceIds)].sort();
    for (let i = 0; i < unique.length; i += RAW_TRACES_PER_STATEMENT) {
      const rows = this.selectTraces.all(JSON.stringify(unique.slice(i, i + RAW_TRACES_PER_STATEMENT))) as unknown as SpanRow[];
      let prev: SpanRecord | undefined;
      for (const r of rows) {
        let list = byId.get(r.trace_id);
        if (!list) byId.set(r.trace_id, (list = []));
        list.push((prev = rowToSpan(r, prev)));
      }
    }
    // selectTrace's order; sorting here is cheaper than an ORDER BY over rows this wide
    for (const list of byId.values()) list.sort((a, b) => a.startUs - b.startUs || (a.spanId < b.spanId ? -1 : a.spanId > b.spanId ? 1 : 0));
    return traceIds.map((id) => byId.get(id) ?? []);
  }

  async findObjects(q: ObjectQuery): Promise<FoundObject[]> {
    const where: string[] = ['start_us <= ?', 'end_us >= ?'];
    const params: (string | number)[] = [q.endUs, q.startUs];
    const eq: [keyof ObjectQuery, string][] = [
      ['cluster', 'cluster'], ['group', 'grp'], ['resource', 'resource'], ['namespace', 'namespace'], ['name', 'obj_name'],
    ];
    for (const [field, column] of eq) {
      const v = q[field];
      if (v !== undefined) {
        where.push(`${column} = ?`);
        params.push(v as string);
      }
    }
    // limit counts objects, not windows: pick the objects first, then their windows
    const rows = this.db
      .prepare(
        `WITH picked AS (
           SELECT cluster, grp, resource, namespace, obj_name, MIN(start_us) AS first_us FROM objects
           WHERE ${where.join(' AND ')}
           GROUP BY cluster, grp, resource, namespace, obj_name
           ORDER BY first_us, cluster, grp, resource, namespace, obj_name
           LIMIT ?)
         SELECT o.cluster, o.grp, o.resource, o.namespace, o.obj_name, o.start_us FROM objects o
         JOIN picked p USING (cluster, grp, resource, namespace, obj_name)
         WHERE o.start_us <= ? AND o.end_us >= ?
         ORDER BY p.first_us, o.cluster, o.grp, o.resource, o.namespace, o.obj_name, o.start_us`,
      )
      .all(...params, Math.max(0, Math.floor(q.limit)), q.endUs, q.startUs) as unknown as {
      cluster: string; grp: string; resource: string; namespace: string; obj_name: string; start_us: number | bigint;
    }[];
    const out: FoundObject[] = [];
    let last: FoundObject | undefined;
    for (const r of rows) {
      const win = Math.floor(Number(r.start_us) / 1e6);
      if (last && last.object.cluster === r.cluster && last.object.group === r.grp && last.object.resource === r.resource &&
        last.object.namespace === r.namespace && last.object.name === r.obj_name) {
        last.windows.push(win);
        continue;
      }
      last = { object: { cluster: r.cluster, group: r.grp, resource: r.resource, namespace: r.namespace, name: r.obj_name }, windows: [win] };
      out.push(last);
    }
    return out;
  }

  async clusters(): Promise<string[]> {
    const rows = this.db.prepare('SELECT cluster FROM clusters ORDER BY cluster').all() as { cluster: string }[];
    return rows.map((r) => r.cluster);
  }

  /** Number of stored spans (for summaries and tests). */
  count(): number {
    const row = this.db.prepare('SELECT COUNT(*) AS n FROM spans').get() as { n: number | bigint };
    return Number(row.n);
  }
}

/** `prev`: the span of the row before; its object is shared when identical (one raw trace = one object). */
function rowToSpan(r: SpanRow, prev?: SpanRecord): SpanRecord {
  const p = prev?.object;
  const object =
    p && p.name === r.obj_name && p.namespace === r.namespace && p.resource === r.resource && p.group === r.grp && p.cluster === r.cluster
      ? p
      : { cluster: r.cluster, group: r.grp, resource: r.resource, namespace: r.namespace, name: r.obj_name };
  const span: SpanRecord = {
    traceId: r.trace_id,
    spanId: r.span_id,
    kind: r.kind as SpanKind,
    name: r.name,
    startUs: Number(r.start_us),
    endUs: Number(r.end_us),
    object,
    attributes: JSON.parse(r.attributes) as Record<string, AttrValue>,
  };
  if (r.parent_span_id) span.parentSpanId = r.parent_span_id;
  if (r.error !== null) span.error = r.error;
  return span;
}
