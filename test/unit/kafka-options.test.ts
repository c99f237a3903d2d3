// The Kafka option block of `kubetrail serve` (src/commands/kafka.ts).
import { describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { addKafkaOptions, parseClusterContexts } from '../../src/commands/kafka.ts';

describe('serve Kafka options', () => {
  it('parses --cluster-context name=context, repeatable', () => {
    const cmd = addKafkaOptions(new Command('serve')).exitOverride();
    cmd.parse(
      ['--kafka-brokers', 'k:9092', '--role', 'receive', '--cluster-context', 'kwok-a=ctx-a', '--cluster-context', 'kwok-b=ctx=b', '--kafka-warmup', '2m'],
      { from: 'user' },
    );
    const o = cmd.opts();
    expect(o.kafkaBrokers).toBe('k:9092');
    expect(o.kafkaWarmup).toBe(120_000);
    expect(o.kafkaTopic).toBe('kubetrail-audit');
    expect(parseClusterContexts(o.clusterContext)).toEqual([
      ['kwok-a', 'ctx-a'],
      ['kwok-b', 'ctx=b'],
    ]);
  });

  it('refuses what it cannot use, with the reason', () => {
    expect(() => parseClusterContexts(['ctx-only'])).toThrow(/expected <cluster name>=<kubeconfig context>/);
    expect(() => parseClusterContexts(['a=x', 'a=y'])).toThrow(/given twice/);
    const cmd = addKafkaOptions(new Command('serve'))
      .exitOverride()
      .configureOutput({ writeErr: () => undefined });
    expect(() => cmd.parse(['--role', 'tracer'], { from: 'user' })).toThrow(/Allowed choices are receive, trace, all/);
  });

  it('refuses a Kafka option without --kafka-brokers instead of ignoring it', async () => {
    const cmd = addKafkaOptions(new Command('serve'))
      .exitOverride()
      .configureOutput({ writeErr: () => undefined })
      .action(() => undefined);
    await expect(cmd.parseAsync(['--role', 'trace', '--kafka-group', 'g'], { from: 'user' })).rejects.toThrow(
      /--role, --kafka-group: only with --kafka-brokers/,
    );
    const ok = addKafkaOptions(new Command('serve'))
      .exitOverride()
      .action(() => undefined);
    await ok.parseAsync(['--kafka-brokers', 'k:1', '--role', 'trace'], { from: 'user' });
    const plain = addKafkaOptions(new Command('serve'))
      .exitOverride()
      .action(() => undefined);
    await plain.parseAsync([], { from: 'user' });
  });
});

describe('one duration syntax for every flag', () => {
  it('takes hours and compound durations where the flag is in milliseconds (--kafka-warmup 1h was refused)', () => {
    const cmd = addKafkaOptions(new Command('serve')).exitOverride();
    cmd.parse(['--kafka-brokers', 'k:9092', '--kafka-warmup', '1h30m'], { from: 'user' });
    expect(cmd.opts().kafkaWarmup).toBe(5_400_000);
  });

  it('refuses trailing words instead of reading the number before them', () => {
    const cmd = addKafkaOptions(new Command('serve'))
      .exitOverride()
      .configureOutput({ writeErr: () => undefined });
    expect(() => cmd.parse(['--kafka-brokers', 'k:9092', '--kafka-warmup', '1h soon'], { from: 'user' })).toThrow(/not a duration/);
  });
});
