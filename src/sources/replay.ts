// Replay: audit log files (and dumps of Kubernetes Events) through the pipeline into a sink.
// Used by `kubetrail replay` and `kubetrail demo`. Reading is paced by the sink: at most one batch
// is being written while the next one is built, and a full sink is waited for, never skipped. The
// sink (a queued writer) cuts the batch into exports and retries them; a failure it reports stops
// the replay.
import type { SpanRecord } from '../core/model.ts';
import { objectKey } from '../core/model.ts';
import type { SpanSink } from '../core/sink.ts';
import { log } from '../core/log.ts';
import { isRecord } from '../core/audit-event.ts';
import type { LogItem } from './audit-log.ts';
import type { WatchChange } from '../pipeline/pipeline.ts';
import { CommitEngine, type Staged, type Traced } from '../pipeline/engine.ts';

/** One parsed line/document of a log (src/sources/audit-log.ts LogItem). */
/** One item of an audit log as readAuditLogs yields it. */
export type ReplayItem = LogItem & {
  /** Deliberately not traced by the reader (a reason code, counted under skipped). */
  skipped?: string;
};

type Ingest = Traced<SpanRecord>;

/**
 * What replay needs from the pipeline (src/pipeline/pipeline.ts Pipeline satisfies it): one
 * transaction for the whole run, which the engine commits step by step as the spans are durable.
 */
export interface ReplayPipeline {
  begin(): Staged & {
    auditEvent(raw: unknown, cluster: string): Ingest;
    kubeEvent(obj: unknown, cluster: string): Ingest;
    watchChange(change: WatchChange, cluster: string): Ingest;
  };
}

export interface ReplayOptions {
  items: AsyncIterable<ReplayItem>;
  classify: (obj: unknown) => 'audit' | 'kube-event' | 'watch' | 'unknown';
  pipeline: ReplayPipeline;
  sink: SpanSink;
  cluster: string;
  /** Spans per sink write. */
  batchSize?: number;
  /** Follow mode: also write the buffer every `idleFlushMs` when input is quiet. */
  idleFlushMs?: number;
  /** Called after each event with running totals (progress display). */
  onEvent?: (s: ReplaySummary) => void;
}

export interface ReplaySummary {
  eventsRead: number;
  traced: number;
  skipped: Record<string, number>;
  errors: number;
  /** First few errors, `file:line: reason`. */
  errorSamples: string[];
  objects: number;
  spansWritten: number;
  elapsedSec: number;
  eventsPerSec: number;
}

const MAX_ERROR_SAMPLES = 10;

/**
 * Why an item is rejected that is neither an audit event nor a Kubernetes Event: bad input, as the
 * webhook rejects it (a skip is only for what is deliberately not traced: reads, excluded resources).
 */
function notAnEvent(v: unknown): string {
  const field = (x: unknown) => (typeof x === 'string' ? JSON.stringify(x.slice(0, 64)) : x === undefined ? 'none' : `a ${typeof x}`);
  const what = isRecord(v)
    ? `kind ${field(v.kind)}, apiVersion ${field(v.apiVersion)}`
    : `a JSON ${Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v}`;
  return `not an audit event or Kubernetes Event (${what})`;
}

export async function replay(opts: ReplayOptions): Promise<ReplaySummary> {
  const t0 = performance.now();
  const batchSize = opts.batchSize ?? 5000;
  const objects = new Set<string>();
  const s: ReplaySummary = {
    eventsRead: 0,
    traced: 0,
    skipped: {},
    errors: 0,
    errorSamples: [],
    objects: 0,
    spansWritten: 0,
    elapsedSec: 0,
    eventsPerSec: 0,
  };
  let buffer: SpanRecord[] = [];
  // Events see the state of every earlier event; the pipeline's state takes them once written. A
  // full sink is waited for; a write the sink failed (it already retried) stops the replay.
  const stream = new CommitEngine(opts.sink, { whenFull: 'wait' }).stream(opts.pipeline.begin());
  let writing: Promise<void> = Promise.resolve();
  let writeError: unknown;

  const error = (item: ReplayItem, reason: string) => {
    s.errors++;
    if (s.errorSamples.length < MAX_ERROR_SAMPLES) s.errorSamples.push(`${item.file}:${item.line}: ${reason}`);
    log.debug({ file: item.file, line: item.line, reason }, 'rejected bad log item');
  };

  /** Hands the buffer to the sink once the previous batch is durable. */
  const flushBuffer = async () => {
    await writing;
    if (writeError) throw writeError;
    if (buffer.length === 0) return;
    const spans = buffer;
    buffer = [];
    writing = stream.commit(spans).then((refused) => {
      if (refused) writeError = refused.error;
      else s.spansWritten += spans.length;
    });
  };

  const timer = opts.idleFlushMs ? setInterval(() => void flushBuffer().catch(() => undefined), opts.idleFlushMs) : undefined;
  try {
    for await (const item of opts.items) {
      if (writeError) throw writeError;
      s.eventsRead++;
      if (item.skipped !== undefined) {
        s.skipped[item.skipped] = (s.skipped[item.skipped] ?? 0) + 1;
      } else if (item.error !== undefined || item.event === undefined) {
        error(item, item.error ?? 'empty item');
      } else {
        const kind = opts.classify(item.event);
        const r = stream.trace((tx) =>
          kind === 'audit'
            ? tx.auditEvent(item.event, opts.cluster)
            : kind === 'kube-event'
              ? tx.kubeEvent(item.event, opts.cluster)
              : kind === 'watch'
                ? tx.watchChange(item.event as WatchChange, opts.cluster)
                : { spans: [], error: notAnEvent(item.event) },
        );
        if (r.error) error(item, r.error);
        else if (r.skipped) s.skipped[r.skipped] = (s.skipped[r.skipped] ?? 0) + 1;
        else s.traced++;
        for (const span of r.spans) {
          if (span.kind === 'object') objects.add(objectKey(span.object));
          buffer.push(span);
        }
        if (buffer.length >= batchSize) await flushBuffer();
      }
      if (opts.onEvent) {
        s.objects = objects.size;
        opts.onEvent(s);
      }
    }
    await flushBuffer();
    await writing;
    if (writeError) throw writeError;
    await opts.sink.flush();
  } finally {
    if (timer) clearInterval(timer);
  }
  s.objects = objects.size;
  s.elapsedSec = (performance.now() - t0) / 1000;
  s.eventsPerSec = s.elapsedSec > 0 ? s.eventsRead / s.elapsedSec : 0;
  return s;
}

/**
 * Text from the input made safe for a terminal: C0/C1 control characters, DEL and the Unicode
 * bidirectional controls become visible escapes (`\x1b`, `\u202e`), so a crafted log line can
 * neither move the cursor nor recolour or retitle the terminal.
 */
export function escapeControl(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const code = c.charCodeAt(0);
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/**
 * Human-readable summary for the terminal, in the webhook's words: an item is traced, skipped
 * (intentionally not traced: reads, excluded resources) or rejected (bad: invalid JSON, not an
 * audit event the pipeline can use). Text from the input is escaped (escapeControl).
 */
export function formatSummary(s: ReplaySummary): string {
  const lines = [
    `events read:   ${s.eventsRead}`,
    `traced:        ${s.traced}`,
    `skipped:       ${Object.values(s.skipped).reduce((a, b) => a + b, 0)}`,
    ...Object.entries(s.skipped)
      .sort((a, b) => b[1] - a[1])
      .map(([reason, n]) => `  ${escapeControl(reason)}: ${n}`),
    `rejected:      ${s.errors}`,
    ...s.errorSamples.map((e) => `  ${escapeControl(e)}`),
    ...(s.errors > s.errorSamples.length
      ? [`  … and ${s.errors - s.errorSamples.length} more not listed (the first ${s.errorSamples.length} are; --log-level debug logs each)`]
      : []),
    `objects:       ${s.objects}`,
    `spans written: ${s.spansWritten}`,
    `elapsed:       ${s.elapsedSec.toFixed(2)}s (${Math.round(s.eventsPerSec)} events/s)`,
  ];
  return lines.join('\n');
}
