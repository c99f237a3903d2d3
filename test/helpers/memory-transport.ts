// A Transport (src/sinks/transport.ts) that keeps exported spans in memory, for unit tests of the
// queued writer. It can refuse requests above a size, as a collector with a message limit does, and
// fail on demand; `slowMs` makes each export take that long (a slow receiver).
import type { SpanRecord } from '../../src/core/model.ts';
import { ExportError, type FailureKind, type Transport } from '../../src/sinks/transport.ts';

export class MemoryTransport implements Transport {
  readonly label = 'memory export';
  readonly batches: SpanRecord[][] = [];
  /** Every export attempt, including refused ones: [spans, JSON bytes]. */
  readonly attempts: [number, number][] = [];
  /** Refuse requests whose JSON is larger than this, like gRPC's max receive message size. */
  maxRequestBytes = Infinity;
  /** Errors to answer the next attempts with, in order. */
  failures: { kind: FailureKind; message: string; code?: string }[] = [];
  slowMs = 0;
  shutdowns = 0;

  get spans(): SpanRecord[] {
    return this.batches.flat();
  }

  async export(batch: SpanRecord[]): Promise<void> {
    const bytes = Buffer.byteLength(JSON.stringify(batch));
    this.attempts.push([batch.length, bytes]);
    if (this.slowMs) await new Promise((r) => setTimeout(r, this.slowMs));
    const f = this.failures.shift();
    if (f) throw new ExportError(f.message, f.kind, f.code);
    if (bytes > this.maxRequestBytes) {
      throw new ExportError(`received message larger than max (${bytes} vs. ${this.maxRequestBytes})`, 'too-large', 'RESOURCE_EXHAUSTED');
    }
    this.batches.push(batch);
  }

  async shutdown(): Promise<void> {
    this.shutdowns++;
  }
}
