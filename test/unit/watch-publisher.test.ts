// Receive role with informers (scale-out on Kafka): the watch changes wait in a queue for Kafka.
// While Kafka is down that queue must not grow without bound: at its bound the informers pause
// (their watches close; the API server keeps what was not read) and they read again once half is
// sent. Nothing handed over is lost, and the order is kept.
import { describe, expect, it } from 'vitest';
import { WatchPublisher } from '../../src/sources/kafka/watch-publisher.ts';
import { WatchWriter } from '../../src/sources/informers/watch-writer.ts';
import type { TopicMessage } from '../../src/sources/kafka/messages.ts';

/** A Kafka that refuses every produce while `down` (what kafkajs answers when the brokers are gone). */
class Broker {
  down = true;
  readonly got: TopicMessage[] = [];
  async publish(messages: TopicMessage[]): Promise<void> {
    await new Promise((r) => setTimeout(r, 1));
    if (this.down) throw new Error('KafkaJSConnectionError: Connection error: connect ECONNREFUSED 127.0.0.1:9092');
    this.got.push(...messages);
  }
}

describe('WatchPublisher bound', () => {
  it('pauses the informers at its bound while Kafka is down, resumes once half is sent, loses and reorders nothing', async () => {
    const broker = new Broker();
    const watch = new WatchPublisher(broker, { maxQueued: 100 });
    let paused = false;
    const events: string[] = [];
    let read: (max: number) => void = () => {};
    const writer = new WatchWriter(watch, {
      minPauseMs: 5,
      onPause: () => {
        paused = true;
        events.push('pause');
      },
      onResume: () => {
        paused = false;
        events.push('resume');
        setImmediate(() => read(1000)); // the informers restart their watches
      },
    });
    const stream = writer.stream(watch.begin());
    let n = 0;
    // an informer: reads watch events while not paused, each traced and handed to the engine (as src/sources/informers/index.ts does)
    read = (max: number) => {
      while (!paused && n < max) {
        const r = stream.trace((tx) =>
          tx.watchChange({ type: 'MODIFIED', object: { metadata: { name: `cm-${n}` } }, group: '', version: 'v1', resource: 'configmaps' }, 'kwok'),
        );
        void stream.commit(r.spans);
        n++;
      }
    };
    read(1000);
    expect(paused).toBe(true);
    expect(n).toBe(100); // stopped reading at the bound, not at 1000
    expect(watch.pending()).toBe(100);
    expect(watch.full()).toBe(true);
    // Kafka back: the queue drains, the informers read again (pausing whenever it is full)
    broker.down = false;
    while (n < 1000 || watch.pending() > 0) {
      await watch.drain();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(events[0]).toBe('pause');
    expect(events).toContain('resume');
    expect(broker.got.map((m) => (m.item as { object: { metadata: { name: string } } }).object.metadata.name)).toEqual(
      Array.from({ length: 1000 }, (_, i) => `cm-${i}`),
    );
    expect(watch.published).toBe(1000);
  });
});
