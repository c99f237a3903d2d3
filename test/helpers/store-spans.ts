// The event spans (one per write or change) an embedded store holds, in time order.
import { SqliteBackend } from '../../frontend-plugin/backend/sqlite.ts';
import type { SpanRecord } from '../../src/core/model.ts';

export async function storedEvents(store: string, namespace?: string): Promise<SpanRecord[]> {
  const b = new SqliteBackend(store);
  const out: SpanRecord[] = [];
  try {
    for await (const batch of b.scanSpans!({ namespace, startUs: 0, endUs: 4e15 })) out.push(...batch.filter((s) => s.attributes.nestLevel === 'event'));
  } finally {
    await b.close();
  }
  return out.sort((a, b) => a.startUs - b.startUs);
}
