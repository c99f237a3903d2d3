// The `kubetrail serve` arguments every Kafka-role process of the tests and bench/kafka.ts starts with.
export type KafkaRole = 'receive' | 'trace' | 'all';

/** `serve --kafka-brokers <broker> --kafka-topic <topic> --role <role>`; callers add their own flags. */
export function kafkaRoleArgs(broker: string, topic: string, role: KafkaRole | string): string[] {
  return ['serve', '--kafka-brokers', broker, '--kafka-topic', topic, '--role', role];
}

export interface WatchingReceiver {
  cluster: string;
  kubeconfig: string;
  /** Where the receivers elect their informer leader (--kafka-lease-namespace). */
  leaseNamespace: string;
  webhookPort: number;
  /** More flags, e.g. --kafka-lease-duration. */
  extra?: string[];
}

/** A receiver (2 partitions) whose elected informers list-watch ConfigMaps only, without Events; webhook on loopback, no UI. */
export function watchingReceiverArgs(broker: string, topic: string, r: WatchingReceiver): string[] {
  return [
    ...kafkaRoleArgs(broker, topic, 'receive'),
    '--kafka-partitions',
    '2',
    '--cluster',
    r.cluster,
    '--kubeconfig',
    r.kubeconfig,
    '--watch-resource',
    '/configmaps',
    '--no-events',
    '--kafka-lease-namespace',
    r.leaseNamespace,
    '--webhook-host',
    '127.0.0.1',
    '--webhook-port',
    String(r.webhookPort),
    '--no-query',
    ...(r.extra ?? []),
  ];
}

/** A tracer (consumer group `<topic>-g`) into an embedded store, without informers; webhook on loopback, no UI. */
export function storeTracerArgs(broker: string, topic: string, t: { store: string; cluster: string; webhookPort: number; extra?: string[] }): string[] {
  return [
    ...kafkaRoleArgs(broker, topic, 'trace'),
    '--kafka-group',
    `${topic}-g`,
    '--store',
    t.store,
    '--cluster',
    t.cluster,
    '--no-informers',
    '--webhook-host',
    '127.0.0.1',
    '--webhook-port',
    String(t.webhookPort),
    '--no-query',
    ...(t.extra ?? []),
  ];
}
