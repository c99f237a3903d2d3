// Reads kube-apiserver audit logs for `kubetrail replay`: JSON lines (one `kind: Event` per line),
// `.gz` files, `-` for stdin, and whole JSON documents (an audit EventList, a core `v1`
// EventList / List of Events, or an array). Several files (rotated logs, in any order) are
// merged into one stream ordered by stageTimestamp: each file is read lazily and the head item
// of every file competes (k-way merge), so multi-GB logs are never held in memory.
// `follow` tails the newest file after EOF and follows it across rotation (rename/recreate,
// inode change, or truncation) until `signal` aborts.
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { setTimeout as sleep } from 'node:timers/promises';
import { createGunzip } from 'node:zlib';
import { isRecord } from '../core/audit-event.ts';
import { parseTimeUs } from '../core/time.ts';
import { stripExportTime, unwrapManagedAudit } from '../normalize/managed-audit.ts';

export interface LogItem {
  event?: unknown;
  error?: string;
  file: string;
  line: number;
  /** The input could not be read to its end (missing, unreadable, truncated .gz): nothing follows from it. */
  incomplete?: boolean;
}

export interface ReadOptions {
  follow?: boolean;
  signal?: AbortSignal;
  /** Called with the number of bytes read from disk (compressed bytes for .gz). */
  onBytes?: (n: number) => void;
  /** Tail poll interval in ms (default 250). */
  pollMs?: number;
}

/** Where an item from a log belongs: an audit event, a Kubernetes Event, or neither. */
export function classifyItem(obj: unknown): 'audit' | 'kube-event' | 'unknown' {
  if (!isRecord(obj)) return 'unknown';
  const av = obj.apiVersion;
  if (obj.kind === 'Event') {
    if (typeof av === 'string' && av.startsWith('audit.k8s.io/')) return 'audit';
    if (av === 'v1' || (typeof av === 'string' && av.startsWith('events.k8s.io/'))) return 'kube-event';
  }
  if (av === undefined && typeof obj.auditID === 'string' && typeof obj.stage === 'string') return 'audit';
  return 'unknown';
}

/** Merge key of an item: audit stage time, or the Event's last occurrence. */
function itemTimeUs(ev: unknown): number | undefined {
  if (!isRecord(ev)) return undefined;
  return (
    parseTimeUs(ev.stageTimestamp) ??
    parseTimeUs(ev.timestamp) ??
    parseTimeUs(ev.lastTimestamp) ??
    parseTimeUs(ev.eventTime) ??
    parseTimeUs(ev.requestReceivedTimestamp) ??
    (isRecord(ev.metadata) ? parseTimeUs(ev.metadata.creationTimestamp) : undefined)
  );
}

const MAX_DOCUMENT_BYTES = 512 * 1024 * 1024;

// ---- byte sources ----------------------------------------------------------------------------

async function* streamChunks(stream: NodeJS.ReadableStream): AsyncGenerator<Buffer> {
  for await (const chunk of stream) yield typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
}

const RESET = Symbol('rotated');

/** Plain file chunks; with `follow`, keeps polling after EOF and reopens on rotation. */
async function* fileChunks(path: string, follow: boolean, opts: ReadOptions): AsyncGenerator<Buffer | typeof RESET> {
  let fh: FileHandle = await open(path, 'r');
  let ino = (await fh.stat()).ino;
  let pos = 0;
  const buf = Buffer.allocUnsafe(1 << 20);
  try {
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead > 0) {
        pos += bytesRead;
        opts.onBytes?.(bytesRead);
        yield Buffer.from(buf.subarray(0, bytesRead));
        continue;
      }
      if (!follow || opts.signal?.aborted) return;
      try {
        await sleep(opts.pollMs ?? 250, undefined, { signal: opts.signal });
      } catch {
        return; // aborted
      }
      let cur;
      try {
        cur = await stat(path);
      } catch {
        continue; // renamed away, not recreated yet
      }
      if (cur.ino !== ino || cur.size < pos) {
        // Drain what was appended to the old file before it was rotated, then switch.
        const more = await fh.read(buf, 0, buf.length, pos);
        if (more.bytesRead > 0 && cur.ino !== ino) {
          pos += more.bytesRead;
          opts.onBytes?.(more.bytesRead);
          yield Buffer.from(buf.subarray(0, more.bytesRead));
          continue;
        }
        await fh.close();
        fh = await open(path, 'r');
        ino = (await fh.stat()).ino;
        pos = 0;
        yield RESET;
      }
    }
  } finally {
    await fh.close().catch(() => {});
  }
}

// ---- lines and items -------------------------------------------------------------------------

interface Line {
  text: string;
  line: number;
}

async function* lines(chunks: AsyncIterable<Buffer | typeof RESET>): AsyncGenerator<Line> {
  let decoder = new StringDecoder('utf8');
  let carry = '';
  let n = 0;
  for await (const chunk of chunks) {
    if (chunk === RESET) {
      if (carry.trim()) yield { text: carry, line: ++n };
      carry = '';
      n = 0;
      decoder = new StringDecoder('utf8');
      continue;
    }
    const text = carry + decoder.write(chunk);
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      n++;
      if (nl > start) yield { text: text.slice(start, nl), line: n };
      start = nl + 1;
    }
    carry = text.slice(start);
  }
  carry += decoder.end();
  if (carry.trim()) yield { text: carry, line: ++n };
}

/** Items of one parsed JSON value: list items (kind *List / array) or the value itself. */
function* expand(v: unknown): Generator<unknown> {
  if (Array.isArray(v)) {
    yield* v;
    return;
  }
  if (isRecord(v) && Array.isArray(v.items) && typeof v.kind === 'string' && v.kind.endsWith('List')) {
    const av = v.apiVersion;
    for (const item of v.items) {
      // Items of an EventList may omit their own kind/apiVersion.
      if (isRecord(item) && item.kind === undefined && (v.kind === 'EventList' || typeof item.auditID === 'string')) {
        yield { kind: 'Event', apiVersion: av, ...item };
      } else {
        yield item;
      }
    }
    return;
  }
  yield v;
}

/** Log items of one parsed value: list items, and managed-cluster export records unwrapped. */
function* toItems(v: unknown, file: string, line: number): Generator<LogItem> {
  for (const value of expand(v)) {
    const managed = unwrapManagedAudit(value);
    if (!managed) {
      yield { event: value, file, line };
      continue;
    }
    for (const m of managed) yield 'error' in m ? { error: m.error, file, line } : { event: m.event, file, line };
  }
}

/**
 * The items of one JSON value (a line, or a whole pretty-printed document), oldest first when it
 * holds several: exports are often newest first (`gcloud logging read --format=json`, also compacted
 * onto one line with `jq -c .`). Lines of a JSON lines log keep their file order.
 */
function documentItems(v: unknown, file: string, line: number): LogItem[] {
  const items = [...toItems(v, file, line)];
  return items.length > 1 ? inTimeOrder(items) : items;
}

/** Items oldest first (stable; an item without a time keeps its place after the one before it). */
function inTimeOrder(items: LogItem[]): LogItem[] {
  let last = -Infinity;
  const keyed = items.map((item, i) => {
    const t = item.event !== undefined ? itemTimeUs(item.event) : undefined;
    if (t !== undefined) last = t;
    return { item, t: t ?? last, i };
  });
  keyed.sort((a, b) => a.t - b.t || a.i - b.i);
  return keyed.map((k) => k.item);
}

/** JSON.parse of a line; also a CloudWatch S3 export line `<ISO time> {json}`. */
function parseLine(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const rest = stripExportTime(text);
    if (rest === undefined) throw e;
    return JSON.parse(rest);
  }
}

async function* fileItems(file: string, chunks: AsyncIterable<Buffer | typeof RESET>): AsyncGenerator<LogItem> {
  const it = lines(chunks)[Symbol.asyncIterator]();
  let first = true;
  for (;;) {
    const r = await it.next();
    if (r.done) return;
    const { line } = r.value;
    // A byte order mark (files written by Windows tools) is no part of the JSON.
    const text = first && r.value.text.startsWith('\uFEFF') ? r.value.text.slice(1) : r.value.text;
    if (text.trim() === '') continue;
    let v: unknown;
    try {
      v = parseLine(text);
    } catch (e) {
      const t = text.trim();
      if (first && (t === '{' || t.startsWith('['))) {
        // Probably a JSON document over several lines: pretty-printed (`kubectl get events -o json`),
        // or an array opened on its first record (JSON lines never start with '[').
        yield* prettyDocumentItems(file, text, it);
        return;
      }
      yield { error: `invalid JSON: ${(e as Error).message}`, file, line };
      first = false;
      continue;
    }
    first = false;
    yield* documentItems(v, file, line);
  }
}

async function* prettyDocumentItems(file: string, firstText: string, it: AsyncIterator<Line>): AsyncGenerator<LogItem> {
  const buffered: Line[] = [{ text: firstText, line: 1 }];
  let size = firstText.length;
  let tooBig = false;
  for (;;) {
    const r = await it.next();
    if (r.done) break;
    buffered.push(r.value);
    size += r.value.text.length + 1;
    if (size > MAX_DOCUMENT_BYTES) {
      tooBig = true;
      break;
    }
  }
  if (!tooBig) {
    try {
      const v = JSON.parse(buffered.map((l) => l.text).join('\n'));
      yield* documentItems(v, file, 1);
      return;
    } catch {
      // not a document: fall back to JSON lines below
    }
  }
  // JSON lines whose first line is broken: report it and go on line by line.
  for (const l of buffered) yield* lineItems(file, l);
  for (;;) {
    const r = await it.next();
    if (r.done) return;
    yield* lineItems(file, r.value);
  }
}

function* lineItems(file: string, l: Line): Generator<LogItem> {
  let v: unknown;
  try {
    v = parseLine(l.text);
  } catch (e) {
    yield { error: `invalid JSON: ${(e as Error).message}`, file, line: l.line };
    return;
  }
  yield* documentItems(v, file, l.line);
}

function openSource(path: string, follow: boolean, opts: ReadOptions): AsyncIterable<Buffer | typeof RESET> {
  if (path === '-') return streamChunks(process.stdin);
  if (path.endsWith('.gz')) {
    const raw = createReadStream(path);
    if (opts.onBytes) raw.on('data', (c) => opts.onBytes!(c.length));
    const gunzip = createGunzip();
    raw.on('error', (e) => gunzip.destroy(e));
    return streamChunks(raw.pipe(gunzip));
  }
  return fileChunks(path, follow, opts);
}

async function* safeItems(path: string, follow: boolean, opts: ReadOptions): AsyncGenerator<LogItem> {
  const file = path === '-' ? 'stdin' : path;
  let lastLine = 0;
  try {
    for await (const item of fileItems(file, openSource(path, follow, opts))) {
      lastLine = item.line;
      yield item;
    }
  } catch (e) {
    const where = lastLine > 0 ? `stopped after line ${lastLine}` : 'nothing read';
    yield { error: `cannot read ${file} completely (${where}): ${(e as Error).message}`, file, line: lastLine, incomplete: true };
  }
}

// ---- merge -----------------------------------------------------------------------------------

interface Head {
  it: AsyncIterator<LogItem>;
  item: LogItem;
  ts: number;
  order: number;
}

export async function* readAuditLogs(paths: string[], opts: ReadOptions = {}): AsyncIterable<LogItem> {
  let followed = -1;
  if (opts.follow) {
    // Tail the most recently modified plain file (the one the API server writes to).
    let newest = -Infinity;
    for (let i = 0; i < paths.length; i++) {
      const p = paths[i]!;
      if (p === '-' || p.endsWith('.gz')) continue;
      const m = await stat(p).then(
        (s) => s.mtimeMs,
        () => -Infinity,
      );
      if (m >= newest) {
        newest = m;
        followed = i;
      }
    }
  }
  if (paths.length === 1) {
    // Nothing to merge: skip the per-item timestamp parsing.
    for await (const item of safeItems(paths[0]!, followed === 0, opts)) {
      yield item;
      if (opts.signal?.aborted) return;
    }
    return;
  }
  const heads: Head[] = [];
  const advance = async (it: AsyncIterator<LogItem>, order: number, lastTs: number) => {
    const r = await it.next();
    if (r.done) return;
    // Errors and items without a time keep their file's position in the merge.
    const ts = r.value.event !== undefined ? (itemTimeUs(r.value.event) ?? lastTs) : lastTs;
    heads.push({ it, item: r.value, ts, order });
  };
  await Promise.all(paths.map((p, i) => advance(safeItems(p, i === followed, opts)[Symbol.asyncIterator](), i, -Infinity)));
  while (heads.length) {
    if (opts.signal?.aborted) {
      for (const h of heads) await h.it.return?.();
      return;
    }
    let best = 0;
    for (let i = 1; i < heads.length; i++) {
      const h = heads[i]!;
      const b = heads[best]!;
      if (h.ts < b.ts || (h.ts === b.ts && h.order < b.order)) best = i;
    }
    const h = heads[best]!;
    heads.splice(best, 1);
    yield h.item;
    await advance(h.it, h.order, h.ts);
  }
}
