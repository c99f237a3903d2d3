// The embedded store's write side: inserts rows into the spans/objects/clusters tables. Runs inside a
// worker thread (the entry point at the bottom) so SQLite's work overlaps parsing and tracing on the
// main thread; SqliteStore falls back to running it in-thread for ':memory:' stores.
//
// Spans travel as the SpanRecord[] itself: measured per 1,000 spans of a replay, its structured clone
// costs the main thread ~6 ms, less than JSON.stringify of their attributes alone (~11 ms), which
// therefore happens here, on the other core.
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { SpanRecord } from '../core/model.ts';

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

export class SpanWriter {
  private readonly db: DatabaseSync;
  private readonly insertSpan: StatementSync;
  private readonly insertObject: StatementSync;
  private readonly insertCluster: StatementSync;
  /** Clusters already recorded by this connection (skips a statement per object span). */
  private readonly knownClusters = new Set<string>();

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
  }

  /** Inserts several batches of spans in one transaction; all or nothing. */
  insert(batches: SpanRecord[][]): void {
    const ins = this.insertSpan;
    this.db.exec('BEGIN');
    try {
      for (const spans of batches) {
        for (const s of spans) {
          const o = s.object;
          ins.run(s.traceId, s.spanId, s.parentSpanId ?? null, s.kind, s.name, s.startUs, s.endUs,
            o.cluster, o.group, o.resource, o.namespace, o.name, JSON.stringify(s.attributes), s.error ?? null);
          if (s.kind === 'object') {
            this.insertObject.run(o.cluster, o.group, o.resource, o.namespace, o.name, s.startUs, s.endUs, s.traceId);
            if (!this.knownClusters.has(o.cluster)) {
              this.insertCluster.run(o.cluster);
              this.knownClusters.add(o.cluster);
            }
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
}

// ---- worker protocol ----

export interface WriterData {
  role: 'kubetrail-sqlite-writer';
  path: string;
}
export type ToWriter = { id: number; spans: SpanRecord[] } | { close: true };
/** `ids` committed (or failed with `error`); `closed` after a close request; `fatal` if the store cannot be opened. */
export type FromWriter = { ids: number[]; error?: string } | { closed: true } | { fatal: string };

function runWorker(data: WriterData): void {
  const port = parentPort!;
  let writer: SpanWriter;
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(data.path, { timeout: 5000 });
    configureWriter(db);
    writer = new SpanWriter(db);
  } catch (err) {
    port.postMessage({ fatal: (err as Error).message } satisfies FromWriter);
    return;
  }
  const queue: { id: number; spans: SpanRecord[] }[] = [];
  let scheduled = false;
  let closing = false;

  // Messages that arrived while a transaction ran are committed together in the next one.
  const drain = () => {
    scheduled = false;
    while (queue.length > 0) {
      const take: { id: number; spans: SpanRecord[] }[] = [];
      let spans = 0;
      while (queue.length > 0 && (take.length === 0 || spans + queue[0]!.spans.length <= MAX_SPANS_PER_TRANSACTION)) {
        const m = queue.shift()!;
        take.push(m);
        spans += m.spans.length;
      }
      try {
        writer.insert(take.map((m) => m.spans));
        port.postMessage({ ids: take.map((m) => m.id) } satisfies FromWriter);
      } catch {
        // one bad write must not fail the others merged with it: redo them one by one
        for (const m of take) {
          try {
            writer.insert([m.spans]);
            port.postMessage({ ids: [m.id] } satisfies FromWriter);
          } catch (err) {
            port.postMessage({ ids: [m.id], error: (err as Error).message } satisfies FromWriter);
          }
        }
      }
      // let new messages in before the next transaction
      if (queue.length > 0 && !closing) return schedule();
    }
    if (closing) {
      db.close();
      port.postMessage({ closed: true } satisfies FromWriter);
      port.close();
    }
  };
  const schedule = () => {
    if (!scheduled) {
      scheduled = true;
      setImmediate(drain);
    }
  };
  port.on('message', (m: ToWriter) => {
    if ('close' in m) closing = true;
    else queue.push(m);
    schedule();
  });
}

if (!isMainThread && (workerData as WriterData | undefined)?.role === 'kubetrail-sqlite-writer') runWorker(workerData as WriterData);
