// The embedded store: one SQLite file (node:sqlite, WAL) that is both a SpanSink (write path) and a
// TraceBackend (read path). Spans are unique by (trace_id, span_id) with INSERT OR IGNORE, so a replay
// or a redelivery of the same input (derived IDs) stores nothing twice. Writes run in a worker thread
// (sqlite-writer.ts) with its own connection; reads use this thread's connection.
import { DatabaseSync } from 'node:sqlite';
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { SpanRecord } from '../core/model.ts';
import { SinkFullError, type SpanSink } from '../core/sink.ts';
import { Worker } from 'node:worker_threads';
import { configureWriter, SpanWriter, type FromWriter, type ToWriter, type WriterData } from './sqlite-writer.ts';

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

export class SqliteStore implements SpanSink {
  readonly path: string;
  /**
   * Schema setup and the read side's connection (frontend-plugin/backend/sqlite.ts reads through it);
   * the writes go through `writer`.
   */
  readonly db: DatabaseSync;
  private readonly writer: WriteTarget | undefined;
  private readonly maxPending: number;
  private pendingCount = 0;
  private closed = false;
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

  /** Number of stored spans (for summaries and tests). */
  count(): number {
    const row = this.db.prepare('SELECT COUNT(*) AS n FROM spans').get() as { n: number | bigint };
    return Number(row.n);
  }
}

