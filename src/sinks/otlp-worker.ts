// The OTLP exporter's worker thread: turns compact span rows into ReadableSpans, serialises them to
// OTLP protobuf and sends them over gRPC with @opentelemetry/exporter-trace-otlp-grpc. Serialisation
// costs about as much CPU as parsing the audit bodies, so it runs here, off the webhook's event loop.
// One message in = one export attempt; retries, backoff, queueing and accounting stay in OtlpSink.
import { parentPort, workerData } from 'node:worker_threads';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { rowToReadableSpan, type WorkerReply, type WorkerRequest } from './otlp-rows.ts';

const { endpoint, timeoutMs } = workerData as { endpoint: string; timeoutMs: number };
const exporter = new OTLPTraceExporter({ url: endpoint, timeoutMillis: timeoutMs });
const port = parentPort!;

port.on('message', (msg: WorkerRequest) => {
  if (msg.type === 'shutdown') {
    void exporter.shutdown().finally(() => port.postMessage({ type: 'shutdown' } satisfies WorkerReply));
    return;
  }
  let spans;
  try {
    spans = msg.rows.map(rowToReadableSpan);
  } catch (err) {
    port.postMessage({ type: 'result', id: msg.id, ok: false, error: `bad span rows: ${(err as Error).message}` } satisfies WorkerReply);
    return;
  }
  exporter.export(spans, (result: ExportResult) => {
    const ok = result.code === ExportResultCode.SUCCESS;
    port.postMessage({
      type: 'result',
      id: msg.id,
      ok,
      ...(ok ? {} : { error: result.error?.message ?? 'OTLP export failed' }),
    } satisfies WorkerReply);
  });
});
