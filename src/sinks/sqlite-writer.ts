// The embedded store's write side: inserts rows into the spans/objects/clusters tables. Runs inside a
// worker thread (the entry point at the bottom) so SQLite's work overlaps parsing and tracing on the
// main thread; SqliteStore falls back to running it in-thread for ':memory:' stores.
//
// Spans travel as the SpanRecord[] itself: measured per 1,000 spans of a replay, its structured clone
// costs the main thread ~6 ms, less than JSON.stringify of their attributes alone (~11 ms), which
// therefore happens here, on the other core.
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { isMainThread, workerData } from 'node:worker_threads';
import { postFacts, type FeedEnd } from './facts-feed.ts';
import { serveRpc } from './worker-rpc.ts';
import { isFailed } from '../core/failed.ts';
import { compactSpan, NoPool, type StringPool } from '../core/facts.ts';
import { encodeCompactedFacts } from '../core/fact-spans.ts';
import { Attr, type ObjectRef, type SpanRecord } from '../core/model.ts';

/** Spans per transaction when several writes are waiting (one commit instead of many). */
export const MAX_SPANS_PER_TRANSACTION = 5000;

/** Connection settings of the writing connection. No mmap: mapped pages of a multi-GB store would
 * count towards the replay's RSS; the page cache is bounded instead. */
export function configureWriter(db: DatabaseSync): void {
  // WAL: readers (the query UI) never block the writer. NORMAL: a commit survives a process crash; a
  // power cut may lose the last commits (the webhook's callers resend), never corrupts the file.
  db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536;
    PRAGMA temp_store = MEMORY; PRAGMA journal_size_limit = 67108864;`);
}

/** Bounds of the space probe's blob (SqliteSpanInserter.probe): one page at least, at most 2 export batches. */
const PROBE_MIN_BYTES = 4096;
const PROBE_MAX_BYTES = 64 * 1024 ** 2;

/** Primary SQLite result codes worth naming (https://sqlite.org/rescode.html). */
const SQLITE_CODES: Record<number, string> = {
  1: 'SQLITE_ERROR',
  3: 'SQLITE_PERM',
  5: 'SQLITE_BUSY',
  6: 'SQLITE_LOCKED',
  7: 'SQLITE_NOMEM',
  8: 'SQLITE_READONLY',
  10: 'SQLITE_IOERR',
  11: 'SQLITE_CORRUPT',
  13: 'SQLITE_FULL',
  14: 'SQLITE_CANTOPEN',
  18: 'SQLITE_TOOBIG',
  19: 'SQLITE_CONSTRAINT',
  20: 'SQLITE_MISMATCH',
  26: 'SQLITE_NOTADB',
};

/** Codes after which the same write may succeed later (space freed, lock released, disk back). */
export const TRANSIENT_SQLITE_CODES = new Set([
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_NOMEM',
  'SQLITE_READONLY',
  'SQLITE_IOERR',
  'SQLITE_FULL',
  'SQLITE_CANTOPEN',
]);

/** The error with its SQLite code name in `code` and at the front of the message, e.g. `SQLITE_FULL: database or disk is full`. */
export function sqliteError(err: unknown): Error & { code?: string } {
  const e = err as Error & { errcode?: number; errstr?: string; code?: string };
  if (typeof e?.errcode !== 'number') return e;
  const name = SQLITE_CODES[e.errcode & 0xff] ?? `SQLITE_${e.errcode}`;
  const out = new Error(`${name}: ${e.message}`) as Error & { code?: string };
  out.code = name;
  return out;
}

export class SqliteSpanInserter {
  private readonly db: DatabaseSync;
  private readonly insertSpan: StatementSync;
  private readonly insertObject: StatementSync;
  private readonly insertCluster: StatementSync;
  private readonly insertNamespace: StatementSync;
  private readonly addActivity: StatementSync;
  private readonly insertActive: StatementSync;
  private readonly insertFailed: StatementSync;
  private readonly insertProbe: StatementSync;
  private readonly insertFact: StatementSync;
  /** Clusters and (cluster, namespace) pairs already recorded by this connection (skips a statement per object span). */
  private readonly knownClusters = new Set<string>();
  private readonly knownNamespaces = new Set<string>();

  constructor(db: DatabaseSync) {
    this.db = db;
    this.insertSpan = db.prepare(
      `INSERT OR IGNORE INTO spans (trace_id, span_id, parent_span_id, kind, name, start_us, end_us,
        cluster, grp, resource, namespace, obj_name, attributes, error)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertObject = db.prepare(
      `INSERT OR IGNORE INTO objects (cluster, grp, resource, namespace, obj_name, start_us, end_us, trace_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertCluster = db.prepare('INSERT OR IGNORE INTO clusters (cluster) VALUES (?)');
    this.insertNamespace = db.prepare('INSERT OR IGNORE INTO namespaces (cluster, namespace) VALUES (?, ?)');
    this.addActivity = db.prepare(
      `INSERT INTO activity (sec, cluster, grp, resource, namespace, writes, events, warnings) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT DO UPDATE SET writes = writes + excluded.writes, events = events + excluded.events, warnings = warnings + excluded.warnings`,
    );
    this.insertActive = db.prepare('INSERT OR IGNORE INTO active_objects (minute, cluster, grp, resource, namespace, obj_name) VALUES (?, ?, ?, ?, ?, ?)');
    this.insertFailed = db.prepare('INSERT OR IGNORE INTO failed_events (start_us, cluster, trace_id, span_id) VALUES (?, ?, ?, ?)');
    this.insertProbe = db.prepare('INSERT INTO space_probe (filler) VALUES (zeroblob(?))');
    this.insertFact = factInserter(db);
  }

  /**
   * A commit that needs the free space a real write of `bytes` (estimated span bytes) needs: a blob
   * of twice that size committed into space_probe, then removed in a second commit. (A batch takes
   * more pages than its estimate: rows, index entries, page slack; 400 pod-create spans took 1.8x
   * with small objects, 1.05x with 20 KB ones.) A tiny commit is no proof: on a full disk it may still fit in the space the
   * write-ahead log already holds, while every real batch fails. Throws like insert().
   */
  probe(bytes: number): void {
    const size = Math.min(PROBE_MAX_BYTES, Math.max(PROBE_MIN_BYTES, Math.ceil(2 * bytes)));
    this.probeCommit(() => this.insertProbe.run(size));
    this.probeCommit();
  }

  /** One commit of the probe: space_probe emptied (also of what an earlier probe left), then `then`. */
  private probeCommit(then?: () => void): void {
    this.db.exec('BEGIN');
    try {
      this.db.exec('DELETE FROM space_probe');
      then?.();
      this.db.exec('COMMIT');
    } catch (err) {
      this.rollback();
      throw sqliteError(err);
    }
  }

  /**
   * Rolls back the open transaction, if any. A failed COMMIT (e.g. SQLITE_FULL) may have rolled back
   * already: ROLLBACK then fails with "no transaction is active" and must not replace the real cause.
   */
  private rollback(): void {
    if (!this.db.isTransaction) return;
    try {
      this.db.exec('ROLLBACK');
    } catch {
      /* the original error is what the user needs */
    }
  }

  /**
   * Inserts several batches of spans in one transaction; all or nothing. Event spans that were new
   * (not a redelivery INSERT OR IGNORE skipped) are also counted in the overview's index (activity,
   * active_objects, failed_events: see SCHEMA in sqlite-store.ts), and new event and link spans'
   * facts are kept (facts), in the same transaction. With `keepFacts`, returns those facts once
   * committed (for the facts feed, facts-feed.ts).
   */
  insert(batches: SpanRecord[][], keepFacts = false): SpanRecord[] | undefined {
    const ins = this.insertSpan;
    const pool = new NoPool();
    const facts: SpanRecord[] | undefined = keepFacts ? [] : undefined;
    const counts = new Map<string, { sec: number; o: ObjectRef; writes: number; events: number; warnings: number }>();
    const active = new Map<string, { minute: number; o: ObjectRef }>();
    this.db.exec('BEGIN');
    try {
      for (const spans of batches) {
        for (const s of spans) {
          const o = s.object;
          const added = ins.run(
            s.traceId,
            s.spanId,
            s.parentSpanId ?? null,
            s.kind,
            s.name,
            s.startUs,
            s.endUs,
            o.cluster,
            o.group,
            o.resource,
            o.namespace,
            o.name,
            JSON.stringify(s.attributes),
            s.error ?? null,
          ).changes;
          if (s.kind !== 'object' && Number(added) > 0) {
            const fact = insertFact(this.insertFact, s, pool);
            facts?.push(fact);
          }
          if (s.kind === 'event' && Number(added) > 0) {
            const a = s.attributes;
            const write = a[Attr.verb] !== undefined;
            const event = !write && a[Attr.eventReason] !== undefined;
            const sec = Math.floor(s.startUs / 1e6);
            const minute = Math.floor(s.startUs / 60e6);
            if (write || event) {
              const k = `${sec}\u0000${o.cluster}\u0000${o.group}\u0000${o.resource}\u0000${o.namespace}`;
              let c = counts.get(k);
              if (!c) counts.set(k, (c = { sec, o, writes: 0, events: 0, warnings: 0 }));
              if (write) c.writes++;
              else {
                c.events++;
                if (a[Attr.eventType] === 'Warning') c.warnings++;
              }
            }
            const ak = `${minute}\u0000${o.cluster}\u0000${o.group}\u0000${o.resource}\u0000${o.namespace}\u0000${o.name}`;
            if (!active.has(ak)) active.set(ak, { minute, o });
            if (isFailed(s)) this.insertFailed.run(s.startUs, o.cluster, s.traceId, s.spanId);
          }
          if (s.kind === 'object') {
            this.insertObject.run(o.cluster, o.group, o.resource, o.namespace, o.name, s.startUs, s.endUs, s.traceId);
            if (!this.knownClusters.has(o.cluster)) {
              this.insertCluster.run(o.cluster);
              this.knownClusters.add(o.cluster);
            }
            const nk = `${o.cluster}\u0000${o.namespace}`;
            if (o.namespace !== '' && !this.knownNamespaces.has(nk)) {
              this.insertNamespace.run(o.cluster, o.namespace);
              this.knownNamespaces.add(nk);
            }
          }
        }
      }
      for (const c of counts.values()) this.addActivity.run(c.sec, c.o.cluster, c.o.group, c.o.resource, c.o.namespace, c.writes, c.events, c.warnings);
      for (const { minute, o } of active.values()) this.insertActive.run(minute, o.cluster, o.group, o.resource, o.namespace, o.name);
      this.db.exec('COMMIT');
      return facts;
    } catch (err) {
      this.rollback();
      this.knownClusters.clear();
      this.knownNamespaces.clear();
      throw sqliteError(err);
    }
  }
}

const factInserter = (db: DatabaseSync): StatementSync =>
  db.prepare(
    `INSERT OR IGNORE INTO facts (trace_id, span_id, kind, name, start_us, end_us, cluster, grp, resource, namespace, obj_name, attributes, error)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );

/** The facts of an event or link span (src/core/facts.ts compactSpan) as a row of facts; returns the facts. */
function insertFact(stmt: StatementSync, s: SpanRecord, pool: StringPool): SpanRecord {
  const c = compactSpan(s, pool);
  const o = c.object;
  stmt.run(
    c.traceId,
    c.spanId,
    c.kind,
    c.name,
    c.startUs,
    c.endUs,
    o.cluster,
    o.group,
    o.resource,
    o.namespace,
    o.name,
    JSON.stringify(c.attributes),
    c.error ?? null,
  );
  return c;
}

/** Fills facts from the stored spans (a store written before facts existed), inside the caller's transaction. */
export function fillFacts(db: DatabaseSync): void {
  const stmt = factInserter(db);
  const pool = new NoPool();
  const rows = db.prepare(
    `SELECT trace_id, span_id, kind, name, start_us, end_us, cluster, grp, resource, namespace, obj_name, attributes, error FROM spans WHERE kind != 'object'`,
  );
  for (const r of rows.iterate() as Iterable<Record<string, string | number | bigint | null>>) {
    const s: SpanRecord = {
      traceId: String(r.trace_id),
      spanId: String(r.span_id),
      kind: r.kind as SpanRecord['kind'],
      name: String(r.name),
      startUs: Number(r.start_us),
      endUs: Number(r.end_us),
      object: { cluster: String(r.cluster), group: String(r.grp), resource: String(r.resource), namespace: String(r.namespace), name: String(r.obj_name) },
      attributes: JSON.parse(String(r.attributes)) as SpanRecord['attributes'],
    };
    if (r.error !== null) s.error = String(r.error);
    insertFact(stmt, s, pool);
  }
}

// ---- worker ----

export interface WriterData {
  role: 'kubetrail-sqlite-writer';
  path: string;
  /** Where the facts of committed spans go (facts-feed.ts), when a consumer registered one. */
  feed?: FeedEnd;
}

/** Commits spans, and hands the facts of the new ones to the feed once committed. */
export function insertAndFeed(writer: SqliteSpanInserter, batches: SpanRecord[][], feed: FeedEnd | undefined): void {
  const facts = writer.insert(batches, feed !== undefined);
  if (facts?.length) postFacts(feed, { payloads: encodeCompactedFacts(facts) }, facts.length);
}

function runWorker(data: WriterData): void {
  let writer: SqliteSpanInserter | undefined;
  let db: DatabaseSync | undefined;
  let openError: Error | undefined;
  try {
    db = new DatabaseSync(data.path, { timeout: 5000 });
    configureWriter(db);
    writer = new SqliteSpanInserter(db);
  } catch (err) {
    openError = sqliteError(err);
  }
  const queue: { spans: SpanRecord[]; resolve: (v: true) => void; reject: (e: Error) => void }[] = [];
  let scheduled = false;

  // Requests that arrived while a transaction ran are committed together in the next one.
  const drain = () => {
    scheduled = false;
    const take: typeof queue = [];
    let spans = 0;
    while (queue.length > 0 && (take.length === 0 || spans + queue[0]!.spans.length <= MAX_SPANS_PER_TRANSACTION)) {
      const m = queue.shift()!;
      take.push(m);
      spans += m.spans.length;
    }
    try {
      insertAndFeed(
        writer!,
        take.map((m) => m.spans),
        data.feed,
      );
      for (const m of take) m.resolve(true);
    } catch (err) {
      if (take.length === 1) take[0]!.reject(err as Error);
      else {
        // one bad write must not fail the others merged with it: redo them one by one
        for (const m of take) {
          try {
            insertAndFeed(writer!, [m.spans], data.feed);
            m.resolve(true);
          } catch (e) {
            m.reject(e as Error);
          }
        }
      }
    }
    // let new requests in before the next transaction
    if (queue.length > 0) schedule();
  };
  const schedule = () => {
    if (!scheduled) {
      scheduled = true;
      setImmediate(drain);
    }
  };
  serveRpc<SpanRecord[] | { probe: number }, true>(
    (spans) => {
      if (openError) throw openError;
      if (!Array.isArray(spans)) {
        writer!.probe(spans.probe);
        return true;
      }
      return new Promise<true>((resolve, reject) => {
        queue.push({ spans, resolve, reject });
        schedule();
      });
    },
    () => db?.close(),
  );
}

if (!isMainThread && (workerData as WriterData | undefined)?.role === 'kubetrail-sqlite-writer') runWorker(workerData as WriterData);
