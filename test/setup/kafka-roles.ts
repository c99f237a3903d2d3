// The `kubetrail serve` arguments every Kafka-role process of the tests and bench/kafka.ts starts with.
export type KafkaRole = 'receive' | 'trace' | 'all';

/** `serve --kafka-brokers <broker> --kafka-topic <topic> --role <role>`; callers add their own flags. */
export function kafkaRoleArgs(broker: string, topic: string, role: KafkaRole | string): string[] {
  return ['serve', '--kafka-brokers', broker, '--kafka-topic', topic, '--role', role];
}
