// The read side of the embedded store: raw traces and object search over the SQLite file that
// src/sinks/sqlite-store.ts writes. Opened over a store this process writes (its connection), or
// read-only over a file (the query side of a store another process writes).
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { Attr, type AttrValue, type SpanRole, type SpanRecord } from '../../src/core/model.ts';
import { SqliteStore } from '../../src/sinks/sqlite-store.ts';
import { snapshotWanted, type ActivityCounts, type DataSummary, type FoundObject, type ObjectQuery, type SpanScan, type TraceBackend } from './backend.ts';

const SPAN_COLUMNS = 'trace_id, span_id, parent_span_id, kind, name, start_us, end_us, cluster, grp, resource, namespace, obj_name, attributes, error';
/** Raw traces per batched statement (bounds the JSON parameter and the rows held at once). */
const RAW_TRACES_PER_STATEMENT = 500;
/**
 * Raw traces per batch of a range scan (scanSpans). Small: a batch's parsed rows are alive until
 * the caller has digested it, and rows alive at a young-generation GC are promoted to the old
 * generation, which V8 then grows far beyond what the caller keeps.
 */
const SCAN_TRACES_PER_STATEMENT = 20;

function scanWhere(q: SpanScan): { where: string; params: (string | number)[] } {
  const where = ['start_us <= ?', 'end_us >= ?'];
  const params: (string | number)[] = [q.endUs, q.startUs];
  if (q.cluster !== undefined) {
    where.push('cluster = ?');
    params.push(q.cluster);
  }
  if (q.namespace !== undefined) {
    where.push("namespace IN (?, '')");
    params.push(q.namespace);
  }
  return { where: where.join(' AND '), params };
}

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

export class SqliteBackend implements TraceBackend {
  readonly store: SqliteStore;
  private readonly owned: boolean;
  private readonly selectTrace: StatementSync;
  private readonly selectTraces: StatementSync;

  /** Over an open store (shares its connection; close() leaves it open), or a file opened read-only. */
  constructor(source: SqliteStore | string) {
    this.owned = typeof source === 'string';
    this.store = typeof source === 'string' ? new SqliteStore(source, { readOnly: true }) : source;
    const db = this.store.db;
    this.selectTrace = db.prepare(`SELECT ${SPAN_COLUMNS} FROM spans WHERE trace_id = ? ORDER BY start_us, span_id`);
    // Many raw traces in one statement (the IDs as a JSON array, sorted so the index is walked in
    // order): one SQLite call per chunk instead of one per (object, window).
    this.selectTraces = db.prepare(`SELECT ${SPAN_COLUMNS} FROM spans WHERE trace_id IN (SELECT value FROM json_each(?))`);
  }

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

  /** Whether the file has the overview's index (schema 3: namespaces, activity, active_objects, failed_events). */
  private get indexed(): boolean {
    return this.store.schemaVersion >= 3;
  }

  #perObjectIndex: boolean | undefined;
  /** Whether active_objects has its per-object index (a format-3 file from before it was added has not; a writer adds it on open). */
  private get perObjectIndex(): boolean {
    this.#perObjectIndex ??= Boolean(this.store.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'active_by_object'").get());
    return this.#perObjectIndex;
  }

  async summary(cluster?: string): Promise<DataSummary> {
    const c = cluster !== undefined && cluster !== '' ? cluster : undefined;
    const where = c !== undefined ? 'WHERE cluster = ?' : '';
    const and = c !== undefined ? 'AND cluster = ?' : '';
    const args = c !== undefined ? [c] : [];
    const db = this.store.db;
    // MIN by the time index; every object span ends at its window's end, so the last end is one of
    // the latest window's (no index on end_us needed)
    const lo = db.prepare(`SELECT MIN(start_us) AS v FROM objects ${where}`).get(...args) as { v: number | bigint | null } | undefined;
    const hi = db.prepare(`SELECT MAX(end_us) AS v FROM objects WHERE start_us = (SELECT MAX(start_us) FROM objects ${where}) ${and}`).get(...args, ...args) as
      | { v: number | bigint | null }
      | undefined;
    const ns = (
      this.indexed
        ? db.prepare(`SELECT DISTINCT namespace FROM namespaces ${where} ORDER BY namespace`).all(...args)
        : db.prepare(`SELECT DISTINCT namespace FROM objects ${where} ORDER BY namespace`).all(...args)
    ) as { namespace: string }[];
    // the events' own first and last second (the primary key of activity starts with the second)
    const edge = (dir: 'ASC' | 'DESC') =>
      this.indexed
        ? (db.prepare(`SELECT sec AS v FROM activity ${where} ORDER BY sec ${dir} LIMIT 1`).get(...args) as { v: number | bigint } | undefined)
        : undefined;
    const first = edge('ASC'),
      last = edge('DESC');
    return {
      ...(lo?.v != null ? { firstUs: Number(lo.v) } : {}),
      ...(hi?.v != null ? { lastUs: Number(hi.v) } : {}),
      ...(first && last ? { firstEventUs: Number(first.v) * 1e6, lastEventUs: (Number(last.v) + 1) * 1e6 } : {}),
      namespaces: ns.map((x) => x.namespace).filter((x) => x !== ''),
    };
  }

  /** The overview's index over [startUs, endUs] (seconds that start in it; minutes that overlap it). */
  async activityCounts(q: { cluster?: string; startUs: number; endUs: number }): Promise<ActivityCounts | undefined> {
    if (!this.indexed) return undefined;
    const db = this.store.db;
    const c = q.cluster !== undefined && q.cluster !== '' ? q.cluster : undefined;
    const and = c !== undefined ? 'AND cluster = ?' : '';
    const args = c !== undefined ? [c] : [];
    const fromSec = Math.ceil(q.startUs / 1e6),
      toSec = Math.floor(q.endUs / 1e6);
    const cells = (
      db
        .prepare(`SELECT sec, cluster, grp AS "group", resource, namespace, writes, events, warnings FROM activity WHERE sec BETWEEN ? AND ? ${and}`)
        .all(fromSec, toSec, ...args) as Record<string, number | bigint | string>[]
    ).map((r) => ({
      sec: Number(r.sec),
      cluster: r.cluster as string,
      group: r.group as string,
      resource: r.resource as string,
      namespace: r.namespace as string,
      writes: Number(r.writes),
      events: Number(r.events),
      warnings: Number(r.warnings),
    }));
    // a range over most of the stored minutes: walk the per-object index (grouped and distinct
    // already, no sort); a short one: its minutes only (the primary key)
    const fromMin = Math.floor(q.startUs / 60e6),
      toMin = Math.floor(q.endUs / 60e6);
    const span = db.prepare('SELECT MIN(minute) AS lo, MAX(minute) AS hi FROM active_objects').get() as {
      lo: number | bigint | null;
      hi: number | bigint | null;
    };
    const stored = span.lo == null || span.hi == null ? 0 : Number(span.hi) - Number(span.lo) + 1;
    const covered = span.lo == null || span.hi == null ? 0 : Math.min(toMin, Number(span.hi)) - Math.max(fromMin, Number(span.lo)) + 1;
    const by = covered * 4 > stored && this.perObjectIndex ? 'INDEXED BY active_by_object' : '';
    const objects = (
      db
        .prepare(
          `SELECT cluster, grp AS "group", resource, namespace, COUNT(DISTINCT obj_name) AS count FROM active_objects ${by}
           WHERE minute BETWEEN ? AND ? ${and} GROUP BY cluster, grp, resource, namespace`,
        )
        .all(fromMin, toMin, ...args) as Record<string, number | bigint | string>[]
    ).map((r) => ({
      cluster: r.cluster as string,
      group: r.group as string,
      resource: r.resource as string,
      namespace: r.namespace as string,
      count: Number(r.count),
    }));
    const failed = (
      db
        .prepare(`SELECT start_us, trace_id, span_id FROM failed_events WHERE start_us BETWEEN ? AND ? ${and}`)
        .all(Math.ceil(q.startUs), Math.floor(q.endUs), ...args) as { start_us: number | bigint; trace_id: string; span_id: string }[]
    ).map((r) => ({ traceId: r.trace_id, spanId: r.span_id, startUs: Number(r.start_us) }));
    return { cells, objects, failed };
  }

  async findObjects(q: ObjectQuery): Promise<FoundObject[]> {
    const where: string[] = ['start_us <= ?', 'end_us >= ?'];
    const params: (string | number)[] = [q.endUs, q.startUs];
    const eq: [keyof ObjectQuery, string][] = [
      ['cluster', 'cluster'],
      ['group', 'grp'],
      ['resource', 'resource'],
      ['namespace', 'namespace'],
      ['name', 'obj_name'],
    ];
    for (const [field, column] of eq) {
      const v = q[field];
      if (v !== undefined) {
        // a name with `*` is a glob (Kubernetes names have no `*`, `?` or `[`): GLOB is
        // case-sensitive like `=`, and a `prefix*` pattern uses the name index
        where.push(field === 'name' && String(v).includes('*') ? `${column} GLOB ?` : `${column} = ?`);
        params.push(v as string);
      }
    }
    // limit counts objects, not windows: pick the objects first, then their windows
    const rows = this.store.db
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
      cluster: string;
      grp: string;
      resource: string;
      namespace: string;
      obj_name: string;
      start_us: number | bigint;
    }[];
    const out: FoundObject[] = [];
    let last: FoundObject | undefined;
    for (const r of rows) {
      const win = Math.floor(Number(r.start_us) / 1e6);
      if (
        last &&
        last.object.cluster === r.cluster &&
        last.object.group === r.grp &&
        last.object.resource === r.resource &&
        last.object.namespace === r.namespace &&
        last.object.name === r.obj_name
      ) {
        last.windows.push(win);
        continue;
      }
      last = { object: { cluster: r.cluster, group: r.grp, resource: r.resource, namespace: r.namespace, name: r.obj_name }, windows: [win] };
      out.push(last);
    }
    return out;
  }

  /**
   * Event and link spans of the raw traces whose window overlaps the range: the trace IDs from the
   * objects table (indexed by time), then their spans by trace ID (the UNIQUE index), a few raw
   * traces a statement, one batch per statement so the caller holds only what it keeps.
   */
  scanSpans(q: SpanScan): AsyncIterable<SpanRecord[]> {
    return this.scanRows(q, 'spans');
  }

  /**
   * The facts of the same spans (format 4: the facts table, kept as the spans were written; in
   * the same order, as the table is keyed the same way); undefined for an older file.
   */
  async scanFacts(q: SpanScan): Promise<AsyncIterable<SpanRecord[]> | undefined> {
    return this.store.schemaVersion >= 4 ? this.scanRows(q, 'facts') : undefined;
  }

  private async *scanRows(q: SpanScan, table: 'spans' | 'facts'): AsyncIterable<SpanRecord[]> {
    // a file: read through a connection of its own without mmap (a range scan reads most of a
    // multi-GB file once; its mapped pages would stay in this process's RSS)
    const own = this.store.path === ':memory:' ? undefined : new DatabaseSync(this.store.path, { readOnly: true, timeout: 5000 });
    try {
      const db = own ?? this.store.db;
      own?.exec('PRAGMA mmap_size = 0;');
      const { where, params } = scanWhere(q);
      const ids = (db.prepare(`SELECT trace_id FROM objects WHERE ${where} ORDER BY trace_id`).all(...params) as { trace_id: string }[]).map((r) => r.trace_id);
      const select = db.prepare(
        table === 'spans'
          ? `SELECT ${SPAN_COLUMNS} FROM spans WHERE trace_id IN (SELECT value FROM json_each(?)) AND kind != 'object'`
          : `SELECT ${SPAN_COLUMNS.replace('parent_span_id', 'NULL')} FROM facts WHERE trace_id IN (SELECT value FROM json_each(?))`,
      );
      // rows as arrays, all() per statement: node:sqlite's per-row objects and iterate() cost more
      // than SQLite's own reading
      select.setReturnArrays(true);
      // facts are compacted already: their snapshots are the ones the diagnosis wants
      const creates = q.snapshots === 'creates' && table === 'spans';
      for (let i = 0; i < ids.length; i += SCAN_TRACES_PER_STATEMENT) {
        const rows = select.all(JSON.stringify(ids.slice(i, i + SCAN_TRACES_PER_STATEMENT))) as unknown as (unknown[] | undefined)[];
        const out: SpanRecord[] = [];
        let prev: SpanRecord | undefined;
        for (let j = 0; j < rows.length; j++) {
          const span = arrayRowToSpan(rows[j]!, prev);
          rows[j] = undefined; // the row's text dies young
          // a snapshot the caller does not want is dropped now, not held until the batch is digested
          const snap = span.attributes[Attr.snapshot];
          if (creates && typeof snap === 'string' && !snapshotWanted(span.attributes[Attr.verb], snap)) delete span.attributes[Attr.snapshot];
          out.push((prev = span));
        }
        yield out;
      }
    } finally {
      own?.close();
    }
  }

  async clusters(): Promise<string[]> {
    const rows = this.store.db.prepare('SELECT cluster FROM clusters ORDER BY cluster').all() as { cluster: string }[];
    return rows.map((r) => r.cluster);
  }

  /** Number of stored spans. */
  count(): number {
    return this.store.count();
  }

  async close(): Promise<void> {
    if (this.owned) await this.store.close();
  }
}

/** The object of a row: `prev`'s when identical (one raw trace = one object, rows come per trace). */
function objectOf(cluster: string, grp: string, resource: string, namespace: string, name: string, prev?: SpanRecord): SpanRecord['object'] {
  const p = prev?.object;
  return p && p.name === name && p.namespace === namespace && p.resource === resource && p.group === grp && p.cluster === cluster
    ? p
    : { cluster, group: grp, resource, namespace, name };
}

/** `prev`: the span of the row before; its object is shared when identical (one raw trace = one object). */
function rowToSpan(r: SpanRow, prev?: SpanRecord): SpanRecord {
  const span: SpanRecord = {
    traceId: r.trace_id,
    spanId: r.span_id,
    kind: r.kind as SpanRole,
    name: r.name,
    startUs: Number(r.start_us),
    endUs: Number(r.end_us),
    object: objectOf(r.cluster, r.grp, r.resource, r.namespace, r.obj_name, prev),
    attributes: JSON.parse(r.attributes) as Record<string, AttrValue>,
  };
  if (r.parent_span_id) span.parentSpanId = r.parent_span_id;
  if (r.error !== null) span.error = r.error;
  return span;
}

/** A scan row (arrays, SPAN_COLUMNS' order). */
function arrayRowToSpan(r: unknown[], prev?: SpanRecord): SpanRecord {
  // trace_id, span_id, parent_span_id, kind, name, start_us, end_us, cluster, grp, resource, namespace, obj_name, attributes, error
  const attributes = JSON.parse(r[12] as string) as Record<string, AttrValue>;
  const error = r[13];
  const span: SpanRecord = {
    traceId: r[0] as string,
    spanId: r[1] as string,
    kind: r[3] as SpanRole,
    name: r[4] as string,
    startUs: Number(r[5]),
    endUs: Number(r[6]),
    object: objectOf(r[7] as string, r[8] as string, r[9] as string, r[10] as string, r[11] as string, prev),
    attributes,
  };
  if (r[2]) span.parentSpanId = r[2] as string;
  if (error !== null && error !== undefined) span.error = error as string;
  return span;
}
