// One pino logger for the whole process. Logs go to stderr so stdout stays free for CLI output
// (summaries, URLs). Level from --log-level or KUBETRAIL_LOG_LEVEL.
import { pino, type Logger } from 'pino';

export type { Logger };

export const log: Logger = pino({ name: 'kubetrail', level: process.env.KUBETRAIL_LOG_LEVEL ?? 'info' }, pino.destination({ fd: 2, sync: true }));

export function setLogLevel(level: string): void {
  log.level = level;
}
