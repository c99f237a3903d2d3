// The embedded store: one SQLite file (node:sqlite, WAL) that is both a SpanSink (write path) and a
// TraceBackend (read path). Spans are keyed by (trace_id, span_id) with INSERT OR IGNORE, so a replay
// or a redelivery of the same input (derived IDs) stores nothing twice.
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { SpanRecord, SpanKind, AttrValue } from '../model.ts';
import { SinkFullError, type SpanSink } from './sink.ts';
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
  PRIMARY KEY (trace_id, span_id)
) WITHOUT ROWID;
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

export class SqliteStore implements SpanSink, TraceBackend {
  readonly path: string;
  private readonly db: DatabaseSync;
  private readonly maxPending: number;
  private pendingCount = 0;
  private closed = false;
  private readonly insertSpan: StatementSync;
  private readonly insertObject: StatementSync;
  private readonly selectTrace: StatementSync;
  private readonly selectTraces: StatementSync;
  private readonly insertCluster: StatementSync;
  /** Clusters already recorded by this process (skips a statement per object span). */
  private readonly knownClusters = new Set<string>();
  /** Serialises writes: each write() is one transaction, run after the previous one. */
  private chain: Promise<void> = Promise.resolve();

  constructor(path: string = defaultStorePath(), opts: SqliteStoreOptions = {}) {
    this.path = path;
    this.maxPending = opts.maxPending ?? 200_000;
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new DatabaseSync(path, { readOnly: opts.readOnly ?? false, timeout: 5000 });
    if (!opts.readOnly) {
      // WAL: readers (the query UI) never block the writer. NORMAL: durable at checkpoints, safe
      // against corruption; a power cut may lose the last commits, which the webhook's callers resend.
      // A bigger page cache keeps the B-tree of hash-keyed spans off the disk during inserts.
      this.db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -131072; PRAGMA temp_store = MEMORY;');
      this.db.exec(SCHEMA);
      // stores written before the clusters table existed
      this.db.exec('INSERT OR IGNORE INTO clusters SELECT DISTINCT cluster FROM objects WHERE NOT EXISTS (SELECT 1 FROM clusters)');
    } else {
      this.db.exec('PRAGMA cache_size = -131072;');
    }
    // Reads (the query side) map the file instead of copying pages through read(2): a full-tree
    // trace touches thousands of raw traces, tens of MB of stored attributes.
    if (path !== ':memory:') this.db.exec('PRAGMA mmap_size = 268435456;');
    this.insertSpan = this.db.prepare(
      `INSERT OR IGNORE INTO spans (trace_id, span_id, parent_span_id, kind, name, start_us, end_us,
        cluster, grp, resource, namespace, obj_name, attributes, error)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertObject = this.db.prepare(
      `INSERT OR IGNORE INTO objects (cluster, grp, resource, namespace, obj_name, start_us, end_us, trace_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertCluster = this.db.prepare('INSERT OR IGNORE INTO clusters (cluster) VALUES (?)');
    this.selectTrace = this.db.prepare(`SELECT ${SPAN_COLUMNS} FROM spans WHERE trace_id = ? ORDER BY start_us, span_id`);
    // Many raw traces in one statement (the IDs as a JSON array): one SQLite call per chunk instead of
    // one per (object, window).
    this.selectTraces = this.db.prepare(
      `SELECT ${SPAN_COLUMNS} FROM spans WHERE trace_id IN (SELECT value FROM json_each(?))`,
    );
  }

  // ---- SpanSink ----

  write(spans: SpanRecord[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    if (spans.length === 0) return Promise.resolve();
    if (this.full()) return Promise.reject(new SinkFullError(`store has ${this.pendingCount} spans pending`));
    this.pendingCount += spans.length;
    const run = this.chain.then(() => this.insert(spans));
    const done = run.finally(() => {
      this.pendingCount -= spans.length;
    });
    // keep the chain alive after a failed write; the caller sees the error through `done`
    this.chain = done.catch(() => undefined);
    return done;
  }

  /** Synchronous batch insert in one transaction (SQLite does ~10^5 rows/s this way). */
  private insert(spans: SpanRecord[]): void {
    this.db.exec('BEGIN');
    try {
      for (const s of spans) {
        const o = s.object;
        this.insertSpan.run(
          s.traceId, s.spanId, s.parentSpanId ?? null, s.kind, s.name, s.startUs, s.endUs,
          o.cluster, o.group, o.resource, o.namespace, o.name, JSON.stringify(s.attributes), s.error ?? null,
        );
        if (s.kind === 'object') {
          this.insertObject.run(o.cluster, o.group, o.resource, o.namespace, o.name, s.startUs, s.endUs, s.traceId);
          if (!this.knownClusters.has(o.cluster)) {
            this.insertCluster.run(o.cluster);
            this.knownClusters.add(o.cluster);
          }
        }
      }
      this.db.exec('COMMIT');
    } catch (err) {
      this.db.exec('ROLLBACK');
      this.knownClusters.clear();
      throw err;
    }
  }

  pending(): number {
    return this.pendingCount;
  }

  full(): boolean {
    return this.pendingCount >= this.maxPending;
  }

  async flush(): Promise<void> {
    await this.chain;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
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
    const unique = [...new Set(traceIds)]; // an ID in two chunks would collect its rows twice
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
