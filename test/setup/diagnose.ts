// `kubetrail diagnose --json` as a user runs it (a real process), polled until the report holds
// what a live test staged: the store is written a moment after the cluster answered.
import { spawnSync } from 'node:child_process';
import type { Report } from '../../frontend-plugin/diagnose/types.ts';
import { CLI } from './kubetrail.ts';
import { waitFor } from './wait.ts';

/** Runs `kubetrail diagnose <args> --json` every 2 s (up to 60 s) until `ready(report)`; exit 0 or 1 (findings at --fail-on) are both answers. */
export function diagnoseUntil(args: string[], ready: (r: Report) => boolean, what: string): Promise<Report> {
  const env = { ...process.env, KUBETRAIL_LOG_LEVEL: 'warn' };
  return waitFor(
    async () => {
      const r = spawnSync(process.execPath, [CLI, 'diagnose', ...args, '--json'], { encoding: 'utf8', env });
      if (r.status !== 0 && r.status !== 1) throw new Error(`diagnose exited ${r.status}: ${r.stderr}`);
      const rep = JSON.parse(r.stdout) as Report;
      return ready(rep) ? rep : undefined;
    },
    what,
    60_000,
    2000,
  );
}
