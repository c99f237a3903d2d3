// kafkajs' request queue schedules a timer with a negative delay (kafkajs#1751); Node ≥ 23 prints
// `TimeoutNegativeWarning` for it at every Kafka role's start. Against kafkajs' own RequestQueue:
// that warning is dropped once the filter is installed, any other warning still goes through.
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { quietKafkajsNegativeTimeout } from '../../src/sources/kafka/kafkajs-warning.ts';

const RequestQueue = createRequire(import.meta.url)('kafkajs/src/network/requestQueue/index.js');
const silent = { debug() {}, info() {}, warn() {}, error() {} };

function warningsDuring(fn: () => void): Promise<string[]> {
  const seen: string[] = [];
  const on = (w: Error) => seen.push(w.name);
  process.on('warning', on);
  fn();
  // warnings are emitted on the next tick
  return new Promise((r) =>
    setTimeout(() => {
      process.off('warning', on);
      r(seen);
    }, 20),
  );
}

describe("kafkajs' negative timeout warning", () => {
  let queue: { scheduleCheckPendingRequests(): void; destroy(): void } | undefined;
  afterEach(() => queue?.destroy());

  it('is not reported once the filter is installed; other warnings are', async () => {
    quietKafkajsNegativeTimeout();
    queue = new RequestQueue({ logger: { namespace: () => silent }, broker: 'test', clientId: 'test' });
    expect(await warningsDuring(() => queue!.scheduleCheckPendingRequests())).toEqual([]);
    // raised elsewhere, the same warning goes through
    expect(await warningsDuring(() => process.emitWarning('-5 is a negative number', 'TimeoutNegativeWarning'))).toEqual(['TimeoutNegativeWarning']);
    expect(await warningsDuring(() => process.emitWarning('other', 'SomeWarning'))).toEqual(['SomeWarning']);
  });
});
