// A real Prometheus (Debian's package, /usr/bin/prometheus) on a free loopback port with a
// temporary config and data directory: scrapes the given targets every second and evaluates
// rule files every second. For the deploy/ tests (rules, Grafana panels).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePorts } from './ports.ts';
import { waitFor } from './wait.ts';

export const PROMETHEUS = process.env.PROMETHEUS ?? '/usr/bin/prometheus';
export const PROMTOOL = process.env.PROMTOOL ?? '/usr/bin/promtool';

export interface RunningPrometheus {
  url: string;
  output(): string;
  /** GET /api/v1/<path>; rejects unless status is success. */
  api<T = any>(path: string, params?: Record<string, string>): Promise<T>;
  stop(): Promise<void>;
}

export async function startPrometheus(opts: { job: string; targets: string[]; ruleFiles?: string[] }): Promise<RunningPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'kubetrail-prometheus-'));
  const [port] = await freePorts(1);
  const config = join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    stringify({
      global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
      rule_files: opts.ruleFiles ?? [],
      scrape_configs: [{ job_name: opts.job, static_configs: [{ targets: opts.targets }] }],
    }),
  );
  const child: ChildProcess = spawn(
    PROMETHEUS,
    [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(async () => child.exitCode === null && (await fetch(`${url}/-/ready`)).ok, `Prometheus ready (${out.slice(-500)})`, 30_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url,
    output: () => out,
    async api(path, params = {}) {
      const res = await fetch(`${url}/api/v1/${path}?${new URLSearchParams(params)}`);
      const body = (await res.json()) as { status: string; data: any; error?: string };
      if (body.status !== 'success') throw new Error(`Prometheus ${path} ${JSON.stringify(params)}: ${body.error}`);
      return body.data;
    },
    stop,
  };
}
