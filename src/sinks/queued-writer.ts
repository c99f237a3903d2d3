// The one queued writer in front of every transport (OTLP, SQLite, memory in tests), as
// OpenTelemetry splits a batch span processor from its exporter. It owns:
// - bounds: spans and estimated encoded bytes accepted but not yet durable; above either, write()
//   refuses with SinkFullError (callers answer 429 or wait), never drops;
// - batching: queued writes are cut into export batches of at most maxBatchSpans spans and
//   maxBatchBytes estimated bytes, up to `concurrency` in flight;
// - one span's size: a string attribute (snapshot, diff) above maxAttributeBytes is cut, with a
//   marker saying so, before it is queued, and so is a span larger than one export request
//   (maxBatchBytes) — its largest attributes — so that it can never block its batch; a span the
//   receiver still refuses alone as too large is cut to half and resent (down to 16 KiB);
// - the retry policy: transient failures are retried with exponential backoff up to maxAttempts,
//   a size rejection splits the batch and resends the halves, a permanent failure fails its spans
//   at once (logged, counted, the write rejects; a batch merged from several writes is first split
//   so that only the writes holding refused spans fail);
// - health: unhealthy from a failed export until the next successful one, or until a probe of the
//   transport with the size of the failed batch succeeds (readiness reads it);
// - metrics and flush/close.
// write() resolves once every batch holding its spans is durable.
import { Buffer } from 'node:buffer';
import type { AttrValue, SpanRecord } from '../core/model.ts';
import { SinkFullError, type SpanSink } from '../core/sink.ts';
import { log } from '../core/log.ts';
import { attributesTruncated, sinkExportFailures, sinkRefusals, spansFailed, spansWritten, trackSinkQueue } from '../core/metrics.ts';
import type { FactsFeed } from './facts-feed.ts';
import { ExportError, type FailureKind, type Transport } from './transport.ts';

export interface WriterLimits {
  /** Spans accepted but not yet durable at which write() refuses. */
  maxQueueSpans: number;
  /** Estimated bytes accepted but not yet durable at which write() refuses. */
  maxQueueBytes: number;
  /** Spans per export batch. */
  maxBatchSpans: number;
  /** Estimated encoded bytes per export batch (keep it under the receiver's message limit). */
  maxBatchBytes: number;
  /** Wait this long for a batch to fill before exporting it (0: export as soon as a slot is free). */
  scheduleDelayMs: number;
  /** Export batches in flight. */
  concurrency: number;
  /** Attempts per batch on transient failures before its writers are told. */
  maxAttempts: number;
  /** Backoff after the first failed attempt; doubles up to retryMaxMs. */
  retryInitialMs: number;
  retryMaxMs: number;
  /** String attribute values above this many UTF-8 bytes are cut with a marker (0: no limit). */
  maxAttributeBytes: number;
  /** While unhealthy and idle, probe the transport this often to notice recovery. */
  probeIntervalMs: number;
}

export interface QueuedWriterOptions extends Partial<WriterLimits> {
  /** Metrics label (`sink`), e.g. otlp, store. */
  name: string;
}

/** Defaults shared by all transports; each sink overrides what differs (see docs/operations.md). */
export const DEFAULT_LIMITS: WriterLimits = {
  maxQueueSpans: 100_000,
  maxQueueBytes: 512 * 1024 ** 2,
  maxBatchSpans: 1024,
  maxBatchBytes: 3 * 1024 ** 2,
  scheduleDelayMs: 0,
  concurrency: 4,
  maxAttempts: 6,
  retryInitialMs: 250,
  retryMaxMs: 10_000,
  maxAttributeBytes: 1024 ** 2,
  probeIntervalMs: 5000,
};

/** Fixed cost of one span in an OTLP request besides its attributes (IDs, times, kind, status, framing). */
const SPAN_OVERHEAD_BYTES = 80;
/** Framing of one attribute (KeyValue + AnyValue tags and lengths). */
const ATTRIBUTE_OVERHEAD_BYTES = 8;

function utf8Bytes(s: string): number {
  // short strings: length is exact for ASCII and the error is small; long ones are measured
  return s.length <= 256 ? s.length : Buffer.byteLength(s, 'utf8');
}

/** Estimated protobuf size of one span (an upper bound for ASCII data; used for batching and bounds). */
export function estimateSpanBytes(s: SpanRecord, attributes?: Record<string, AttrValue>): number {
  let n = SPAN_OVERHEAD_BYTES + utf8Bytes(s.name) + (s.error ? utf8Bytes(s.error) : 0);
  const attrs = attributes ?? s.attributes;
  for (const k in attrs) {
    const v = attrs[k];
    n += k.length + ATTRIBUTE_OVERHEAD_BYTES + (typeof v === 'string' ? utf8Bytes(v) : 9);
  }
  return n;
}

const MARKER_START = '… [truncated by kubetrail: ';

/**
 * `value` cut to at most `limit` UTF-8 bytes, with a marker that says what was cut. A value cut
 * before (it ends with a marker) is cut again from its kept part, and its marker keeps the original size.
 */
export function truncateValue(value: string, limit: number): string {
  let body = value;
  let bytes: number | undefined;
  const at = value.endsWith(']') ? value.lastIndexOf(MARKER_START) : -1;
  const prior = at >= 0 ? /^… \[truncated by kubetrail: (\d+) bytes, limit \d+\]$/.exec(value.slice(at)) : null;
  if (prior) {
    body = value.slice(0, at);
    bytes = Number(prior[1]);
  }
  bytes ??= Buffer.byteLength(value, 'utf8');
  const marker = `${MARKER_START}${bytes} bytes, limit ${limit}]`;
  const keep = Math.max(0, limit - Buffer.byteLength(marker, 'utf8'));
  // cut on a character boundary: decoding a cut multi-byte sequence would add U+FFFD
  let head = Buffer.from(body, 'utf8').subarray(0, keep).toString('utf8');
  if (head.endsWith('\uFFFD')) head = head.slice(0, -1);
  return head + marker;
}

/** Least of a value kept when a span is cut down to its budget. */
const MIN_KEEP_BYTES = 1024;
/** A span refused alone as too large is halved down to this estimate, then failed. */
const MIN_SPAN_BUDGET_BYTES = 16 * 1024;

/**
 * The span as a sink can take it (a copy; the caller's span is untouched): every string attribute
 * above `attrLimit` UTF-8 bytes cut (0: no limit), then, while the span's estimated size is above
 * `spanBudget` (what one export request holds), its largest string attribute cut. `cut` names the
 * attributes cut; the span's `truncated` attribute lists them (with those cut before).
 */
export function boundSpan(s: SpanRecord, attrLimit: number, spanBudget: number): { span: SpanRecord; cut: string[] } {
  let attrs: Record<string, AttrValue> | undefined;
  const cut = new Set<string>();
  const set = (k: string, v: string) => {
    attrs ??= { ...s.attributes };
    attrs[k] = v;
    cut.add(k);
  };
  if (attrLimit > 0) {
    for (const k in s.attributes) {
      const v = s.attributes[k];
      if (typeof v === 'string' && v.length * 3 > attrLimit && Buffer.byteLength(v, 'utf8') > attrLimit) set(k, truncateValue(v, attrLimit));
    }
  }
  for (let est = estimateSpanBytes(s, attrs); spanBudget > 0 && est > spanBudget; est = estimateSpanBytes(s, attrs)) {
    const cur: Record<string, AttrValue> = attrs ?? s.attributes;
    let big: string | undefined;
    let bigBytes = MIN_KEEP_BYTES;
    for (const k in cur) {
      const v = cur[k];
      if (typeof v === 'string' && k !== 'truncated' && utf8Bytes(v) > bigBytes) [big, bigBytes] = [k, utf8Bytes(v)];
    }
    if (big === undefined) break; // nothing left to cut: the receiver decides
    set(big, truncateValue(cur[big] as string, Math.max(MIN_KEEP_BYTES, bigBytes - (est - spanBudget))));
  }
  if (!attrs) return { span: s, cut: [] };
  const before = typeof s.attributes.truncated === 'string' && s.attributes.truncated ? s.attributes.truncated.split(',') : [];
  (attrs as Record<string, AttrValue>).truncated = [...new Set([...before, ...cut])].join(',');
  return { span: { ...s, attributes: attrs }, cut: [...cut] };
}

interface Chunk {
  spans: SpanRecord[];
  bytes: number;
  done: (err?: Error) => void;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class QueuedWriter implements SpanSink {
  readonly name: string;
  readonly limits: WriterLimits;
  readonly transport: Transport;
  private readonly queue: Chunk[] = [];
  private queuedSpans = 0;
  private queuedBytes = 0;
  private inFlightSpans = 0;
  private inFlightBytes = 0;
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private idleWaiters: (() => void)[] = [];
  private writableWaiters: (() => void)[] = [];
  private closed = false;
  private flushing = 0;
  private failure: string | undefined;
  /** Estimated bytes of the last batch that failed: what a probe must be able to write. */
  private failedBytes = 0;
  private probeTimer: NodeJS.Timeout | undefined;

  constructor(transport: Transport, opts: QueuedWriterOptions) {
    this.transport = transport;
    this.name = opts.name;
    const limits = { ...DEFAULT_LIMITS };
    for (const [k, v] of Object.entries(opts)) if (v !== undefined && k in limits) (limits as Record<string, number>)[k] = v as number;
    this.limits = limits;
    trackSinkQueue(this.name, () => this.pending(), { bytes: () => this.pendingBytes(), healthy: () => this.healthy() });
  }

  /** The facts of every batch the transport gets acknowledged also go to this feed (facts-feed.ts); before the first write. */
  feedFacts(feed: FactsFeed): void {
    if (!this.transport.feedFacts) throw new Error(`${this.transport.label}: this sink does not hand over facts`);
    this.transport.feedFacts(feed);
  }

  // ---- SpanSink ----

  write(spans: SpanRecord[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`${this.transport.label}: sink is closed`));
    if (spans.length === 0) return Promise.resolve();
    if (this.full()) {
      sinkRefusals.inc({ sink: this.name });
      return Promise.reject(
        new SinkFullError(
          `${this.name} queue holds ${this.pending()} spans (${Math.round(this.pendingBytes() / 1024 ** 2)} MiB); limits ${this.limits.maxQueueSpans} spans, ${Math.round(this.limits.maxQueueBytes / 1024 ** 2)} MiB`,
        ),
      );
    }
    const { maxBatchSpans, maxBatchBytes } = this.limits;
    const parts: Promise<void>[] = [];
    let cur: SpanRecord[] = [];
    let curBytes = 0;
    const cut = () => {
      const chunk = { spans: cur, bytes: curBytes } as Chunk;
      parts.push(
        new Promise<void>((resolve, reject) => {
          chunk.done = (err) => (err ? reject(err) : resolve());
        }),
      );
      this.queue.push(chunk);
      this.queuedSpans += cur.length;
      this.queuedBytes += curBytes;
      cur = [];
      curBytes = 0;
    };
    for (const raw of spans) {
      const s = this.bounded(raw);
      const b = estimateSpanBytes(s);
      if (cur.length > 0 && (cur.length >= maxBatchSpans || curBytes + b > maxBatchBytes)) cut();
      cur.push(s);
      curBytes += b;
    }
    cut();
    this.pump();
    return parts.length === 1 ? parts[0]! : Promise.all(parts).then(() => undefined);
  }

  pending(): number {
    return this.queuedSpans + this.inFlightSpans;
  }

  pendingBytes(): number {
    return this.queuedBytes + this.inFlightBytes;
  }

  full(): boolean {
    return this.pending() >= this.limits.maxQueueSpans || this.pendingBytes() >= this.limits.maxQueueBytes;
  }

  healthy(): boolean {
    return this.failure === undefined;
  }

  lastError(): string | undefined {
    return this.failure;
  }

  writable(): Promise<void> {
    if (!this.full() || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.writableWaiters.push(resolve));
  }

  async flush(): Promise<void> {
    if (this.pending() === 0) return;
    this.flushing++;
    try {
      this.pump();
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    } finally {
      this.flushing--;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    this.recovered();
    for (const w of this.writableWaiters.splice(0)) w();
    await this.transport.shutdown();
  }

  // ---- internals ----

  /** The span cut to the attribute limit and to what one export request holds (boundSpan). */
  private bounded(s: SpanRecord): SpanRecord {
    const { span, cut } = boundSpan(s, this.limits.maxAttributeBytes, this.limits.maxBatchBytes);
    if (cut.length > 0) this.noteCut(span, cut, 'span attribute above the size limit, truncated with a marker');
    return span;
  }

  /** A span the receiver refused alone as too large, cut to half its estimated size; undefined when it cannot shrink. */
  private shrunk(s: SpanRecord): SpanRecord | undefined {
    const budget = Math.floor(estimateSpanBytes(s) / 2);
    if (budget < MIN_SPAN_BUDGET_BYTES) return undefined;
    const { span, cut } = boundSpan(s, 0, budget);
    if (cut.length === 0) return undefined;
    this.noteCut(span, cut, `${this.transport.label}: one span larger than the receiver accepts, cut to ${budget} bytes with a marker and resent`);
    return span;
  }

  private noteCut(s: SpanRecord, cut: string[], msg: string): void {
    attributesTruncated.inc({ sink: this.name }, cut.length);
    log.warn(
      {
        sink: this.name,
        span: s.spanId,
        object: `${s.object.resource}/${s.object.namespace}/${s.object.name}`,
        attributes: cut,
        maxAttributeBytes: this.limits.maxAttributeBytes,
      },
      msg,
    );
  }

  /** Starts exports while there is room. */
  private pump(): void {
    const { concurrency, maxBatchSpans, maxBatchBytes, scheduleDelayMs } = this.limits;
    while (this.inFlight < concurrency && this.queue.length > 0) {
      if (scheduleDelayMs > 0 && this.flushing === 0 && this.queuedSpans < maxBatchSpans && this.queuedBytes < maxBatchBytes) {
        this.timer ??= setTimeout(() => {
          this.timer = undefined;
          this.flushing++;
          try {
            this.pump();
          } finally {
            this.flushing--;
          }
        }, scheduleDelayMs);
        return;
      }
      const batch: Chunk[] = [];
      let n = 0;
      let bytes = 0;
      while (this.queue.length > 0) {
        const next = this.queue[0]!;
        if (batch.length > 0 && (n + next.spans.length > maxBatchSpans || bytes + next.bytes > maxBatchBytes)) break;
        this.queue.shift();
        batch.push(next);
        n += next.spans.length;
        bytes += next.bytes;
      }
      this.queuedSpans -= n;
      this.queuedBytes -= bytes;
      this.inFlightSpans += n;
      this.inFlightBytes += bytes;
      this.inFlight++;
      void this.exportBatch(batch).finally(() => {
        this.inFlight--;
        this.pump();
        if (this.pending() === 0) for (const w of this.idleWaiters.splice(0)) w();
      });
    }
  }

  /** Exports one batch with the retry policy; settles every chunk in it. */
  private async exportBatch(batch: Chunk[]): Promise<void> {
    const spans = batch.length === 1 ? batch[0]!.spans : batch.flatMap((c) => c.spans);
    const { maxAttempts, retryInitialMs, retryMaxMs } = this.limits;
    for (let attempt = 1; ; attempt++) {
      let err: Error;
      try {
        await this.transport.export(spans);
        this.recovered();
        spansWritten.inc({ sink: this.name }, spans.length);
        this.settle(batch);
        return;
      } catch (e) {
        err = e as Error;
      }
      const kind: FailureKind = err instanceof ExportError ? err.kind : 'transient';
      sinkExportFailures.inc({ sink: this.name, kind: kind.replace('-', '_') });
      const smaller = kind === 'too-large' && spans.length === 1 ? this.shrunk(spans[0]!) : undefined;
      if (smaller) return this.exportBatch([{ ...batch[0]!, spans: [smaller] }]);
      if (kind === 'too-large' && spans.length > 1) {
        const [a, b] = split(batch);
        log.warn({ sink: this.name, spans: spans.length, err: err.message }, `${this.transport.label}: request too large, splitting the batch and resending`);
        await this.exportBatch(a);
        await this.exportBatch(b);
        return;
      }
      if (kind === 'permanent' && batch.length > 1) {
        // several writers' spans: find whose spans cannot be accepted, let the others through
        const [a, b] = split(batch);
        log.warn(
          { sink: this.name, spans: spans.length, writes: batch.length, err: err.message },
          `${this.transport.label}: refused as not retryable, resending each half alone to isolate the refused spans`,
        );
        await this.exportBatch(a);
        await this.exportBatch(b);
        return;
      }
      if (kind !== 'transient') {
        const why = kind === 'too-large' ? 'one span is larger than the receiver accepts' : 'not retryable';
        return this.fail(batch, spans.length, new Error(`${this.transport.label} failed (${why}): ${err.message}`), attempt);
      }
      this.failed(
        `${this.transport.label} failed: ${err.message}`,
        batch.reduce((n, c) => n + c.bytes, 0),
      );
      if (attempt >= maxAttempts) {
        return this.fail(
          batch,
          spans.length,
          new Error(`${this.transport.label} failed after ${attempt} attempt${attempt === 1 ? '' : 's'}: ${err.message}`),
          attempt,
        );
      }
      const delay = Math.min(retryMaxMs, retryInitialMs * 2 ** (attempt - 1));
      log.warn({ sink: this.name, spans: spans.length, attempt, retryInMs: delay, err: err.message }, `${this.transport.label} failed, retrying`);
      await sleep(delay);
    }
  }

  /**
   * Unhealthy until an export succeeds, or a probe as large as the batch that failed (`bytes`): a
   * smaller write may still fit where the real ones do not (a full disk with room left in SQLite's
   * write-ahead log), and readiness must not turn on for it.
   */
  private failed(why: string, bytes: number): void {
    if (this.failure === undefined) log.error({ sink: this.name, err: why }, 'sink unhealthy: readiness is off until a write succeeds');
    this.failure = why;
    this.failedBytes = bytes;
    if (this.probeTimer || !this.transport.probe || this.closed) return;
    this.probeTimer = setInterval(() => {
      if (this.inFlight > 0 || this.queue.length > 0) return; // exports are the probe
      this.transport.probe!(this.failedBytes).then(
        () => this.recovered(),
        (e: Error) => {
          if (this.failure !== undefined) this.failure = `${this.transport.label} failed: ${e.message}`;
        },
      );
    }, this.limits.probeIntervalMs);
    this.probeTimer.unref();
  }

  private recovered(): void {
    if (this.failure !== undefined && !this.closed) log.info({ sink: this.name }, 'sink healthy again');
    this.failure = undefined;
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.probeTimer = undefined;
  }

  private fail(batch: Chunk[], n: number, err: Error, attempts: number): void {
    spansFailed.inc({ sink: this.name }, n);
    log.error({ sink: this.name, spans: n, attempts, err: err.message }, 'spans not made durable; their writers are told (non-2xx / replay error)');
    this.settle(batch, err);
  }

  /** Releases the chunks' share of the bounds, then tells their writers (who may write again at once). */
  private settle(batch: Chunk[], err?: Error): void {
    for (const c of batch) {
      this.inFlightSpans -= c.spans.length;
      this.inFlightBytes -= c.bytes;
    }
    for (const c of batch) c.done(err);
    if (!this.full()) for (const w of this.writableWaiters.splice(0)) w();
  }
}

/** Two halves of a batch by spans; a single chunk is cut in two whose writer settles when both did. */
function split(batch: Chunk[]): [Chunk[], Chunk[]] {
  if (batch.length > 1) {
    const total = batch.reduce((a, c) => a + c.spans.length, 0);
    let i = 0;
    for (let n = 0; i < batch.length - 1 && n + batch[i]!.spans.length <= total / 2; i++) n += batch[i]!.spans.length;
    i = Math.max(1, i);
    return [batch.slice(0, i), batch.slice(i)];
  }
  const c = batch[0]!;
  const mid = Math.ceil(c.spans.length / 2);
  let left = 2;
  let first: Error | undefined;
  const done = (err?: Error) => {
    first ??= err;
    if (--left === 0) c.done(first);
  };
  const a = c.spans.slice(0, mid);
  const b = c.spans.slice(mid);
  const ab = Math.round((c.bytes * a.length) / c.spans.length);
  return [[{ spans: a, bytes: ab, done }], [{ spans: b, bytes: c.bytes - ab, done }]];
}
