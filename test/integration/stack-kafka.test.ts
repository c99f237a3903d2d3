// Proof that the Kafka of the test stack is real: kafkajs produces to a 4-partition topic and a
// consumer group reads every message back.
import { describe, expect, inject, it } from 'vitest';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import { randomBytes } from 'node:crypto';
import { waitFor } from '../setup/wait.ts';
import '../setup/types.ts';

describe('Kafka (real, from Maven Central)', () => {
  it('round-trips keyed messages through a 4-partition topic and a consumer group', async () => {
    const stack = inject('stack');
    const kafka = new Kafka({ clientId: 'stack-proof', brokers: [stack.kafkaBroker], logLevel: logLevel.NOTHING });
    const topic = `stack-proof-${randomBytes(3).toString('hex')}`;
    const admin = kafka.admin();
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    const consumer = kafka.consumer({ groupId: `${topic}-group` });
    try {
      await admin.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: 4, replicationFactor: 1 }], waitForLeaders: true });
      const meta = await admin.fetchTopicMetadata({ topics: [topic] });
      expect(meta.topics[0].partitions).toHaveLength(4);

      const sent = Array.from({ length: 40 }, (_, i) => ({ key: `default/pod-${i % 10}`, value: `event-${i}` }));
      await producer.connect();
      await producer.send({ topic, messages: sent });

      const received: { key: string; value: string; partition: number }[] = [];
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message, partition }) => {
          received.push({ key: message.key!.toString(), value: message.value!.toString(), partition });
        },
      });
      await waitFor(() => received.length >= sent.length, `${sent.length} messages`, 60_000);

      expect(received.map((m) => m.value).sort()).toEqual(sent.map((m) => m.value).sort());
      // keyed: one key always lands on one partition, and the keys spread over several partitions
      const partitionOfKey = new Map<string, Set<number>>();
      for (const m of received) partitionOfKey.set(m.key, (partitionOfKey.get(m.key) ?? new Set()).add(m.partition));
      for (const parts of partitionOfKey.values()) expect(parts.size).toBe(1);
      expect(new Set(received.map((m) => m.partition)).size).toBeGreaterThan(1);
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
      await admin.disconnect();
    }
  });
});
