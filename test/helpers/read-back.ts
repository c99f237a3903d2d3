// Reading back what was written to a backend that stores asynchronously (Jaeger stores trace by
// trace, some time after it acknowledged the spans).
import type { SpanRecord } from '../../src/core/model.ts';
import { waitFor } from '../setup/wait.ts';

/** Waits until `backend` returns every one of the written spans; resolves with what it read, by span ID. */
export function readBack(
  backend: { getRawTraces(traceIds: string[]): Promise<SpanRecord[][]> },
  written: SpanRecord[],
  what: string,
  timeoutMs = 60_000,
): Promise<Map<string, SpanRecord>> {
  const traceIds = [...new Set(written.map((s) => s.traceId))];
  return waitFor(
    async () => {
      const got = new Map((await backend.getRawTraces(traceIds)).flat().map((s) => [s.spanId, s]));
      return written.every((s) => got.has(s.spanId)) ? got : undefined;
    },
    `${written.length} ${what}`,
    timeoutMs,
  );
}
