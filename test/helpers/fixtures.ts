// Shared test helpers for the unit tests: temporary directories and stores, fake sinks, time ranges.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SpanRecord } from '../../src/core/model.ts';
import { SinkFullError, type SpanSink } from '../../src/core/sink.ts';
import { SqliteStore } from '../../src/sinks/sqlite-store.ts';

/** Every time there is: a findObjects/search range that matches everything. */
export const ALL_TIME = { startUs: 0, endUs: Number.MAX_SAFE_INTEGER } as const;

/** A fresh temporary directory; `remove()` deletes it. */
export function tempDir(prefix = 'kt-test-'): { path: string; file(name: string): string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, file: (name) => join(path, name), remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A real embedded store in a temporary directory; `close()` closes it and removes the directory. */
export function tempStore(prefix = 'kt-store-'): { store: SqliteStore; path: string; close(): Promise<void> } {
  const dir = tempDir(prefix);
  const path = dir.file('kt.sqlite');
  const store = new SqliteStore(path);
  return {
    store,
    path,
    async close() {
      await store.close();
      dir.remove();
    },
  };
}

/** A sink that keeps what it is given, in memory. `refuse(n)` makes the next n writes fail as full. */
export function memorySink(): SpanSink & { spans: SpanRecord[]; refuse(n: number): void } {
  const spans: SpanRecord[] = [];
  let refusals = 0;
  return {
    spans,
    refuse(n) {
      refusals = n;
    },
    async write(batch) {
      if (refusals > 0) {
        refusals--;
        throw new SinkFullError();
      }
      spans.push(...batch);
    },
    pending: () => 0,
    full: () => refusals > 0,
    flush: async () => {},
    close: async () => {},
  };
}
