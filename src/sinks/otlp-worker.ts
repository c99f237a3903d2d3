// The OTLP exporter's worker thread: turns compact span rows into ReadableSpans, serialises them to
// OTLP protobuf and sends them over gRPC with @opentelemetry/exporter-trace-otlp-grpc. Serialisation
// costs about as much CPU as parsing the audit bodies, so it runs here, off the webhook's event loop.
// One request = one export attempt; a failure comes back with its gRPC status name as `code`, and
// the queued writer (queued-writer.ts) decides between retry, split and fail.
import { workerData } from 'node:worker_threads';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { postFacts } from './facts-feed.ts';
import { factsBatch, factsOfRows, factsReadableSpans, rowToReadableSpan, type OtlpWorkerData, type SpanRow } from './otlp-rows.ts';
import { serveRpc } from './worker-rpc.ts';

const GRPC_STATUS = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];

const cfg = workerData as OtlpWorkerData;
// only what the command line set; the exporter reads OTEL_EXPORTER_OTLP_* for the rest (headers, TLS files, insecure)
const exporter = new OTLPTraceExporter({
  url: cfg.endpoint,
  timeoutMillis: cfg.timeoutMs,
  ...(cfg.compression ? { compression: cfg.compression as never } : {}),
});

serveRpc<SpanRow[], true>(
  (rows) => {
    let spans;
    let facts;
    try {
      spans = rows.map((r) => rowToReadableSpan(r));
      // the facts of the batch's event and link spans, in the same request: acknowledged together
      facts = factsOfRows(rows);
      spans.push(...factsReadableSpans(facts));
    } catch (err) {
      throw Object.assign(new Error(`bad span rows: ${(err as Error).message}`), { code: 'BAD_ROWS' });
    }
    return new Promise<true>((resolve, reject) => {
      exporter.export(spans, (result: ExportResult) => {
        if (result.code === ExportResultCode.SUCCESS) {
          // acknowledged: the same facts to the feed's consumer (live findings), before the writer hears of it
          if (cfg.feed && facts.length) {
            const { batch, count } = factsBatch(facts);
            postFacts(cfg.feed, batch, count);
          }
          return resolve(true);
        }
        const e = result.error as (Error & { code?: unknown; details?: string }) | undefined;
        const code = typeof e?.code === 'number' ? (GRPC_STATUS[e.code] ?? String(e.code)) : undefined;
        reject(Object.assign(new Error(e?.message ?? 'OTLP export failed'), code ? { code } : {}));
      });
    });
  },
  () => exporter.shutdown(),
);
