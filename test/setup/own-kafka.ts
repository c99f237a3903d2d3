// A Kafka broker of a test's own (deploy/stack/kafka.sh, the cached build), to stop and start
// without touching the stack's shared broker; one workdir, so its data survives a restart.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePorts } from './ports.ts';
import type { RunningKubetrail } from './kubetrail.ts';

const kafkaSh = resolve(import.meta.dirname, '../../deploy/stack/kafka.sh');

export interface OwnKafka {
  /** Starts it on free ports (the first time) or again on the same ports; returns host:port. */
  up(): string;
  /** Stops it (the data stays in its workdir). */
  down(): void;
}

export async function ownKafka(dir: string): Promise<OwnKafka> {
  const [port, controller] = await freePorts(2);
  const workdir = join(dir, 'kafka');
  const run = (args: string[]) => execFileSync('bash', [kafkaSh, ...args, '--workdir', workdir], { stdio: ['ignore', 'ignore', 'inherit'] });
  return {
    up: () => {
      run(['up', '--port', String(port), '--controller-port', String(controller)]);
      return `127.0.0.1:${port}`;
    },
    down: () => run(['down']),
  };
}

/** An own-Kafka test's afterAll: kills its processes, stops its Kafka, removes its directory (even when the stop fails). */
export async function cleanUpOwnKafka(running: RunningKubetrail[], kafka: OwnKafka | undefined, dir: string): Promise<void> {
  await Promise.all(running.map((r) => r.stop('SIGKILL')));
  try {
    kafka?.down();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
