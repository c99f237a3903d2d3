// Small helpers shared by the benchmarks: free ports, child processes, peak RSS, percentiles.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';

export const REPO_ROOT = new URL('..', import.meta.url).pathname.replace(/\/$/, '');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** A memory field of /proc/<pid>/status (VmHWM, VmRSS) in MB; undefined when /proc is not readable. */
function statusMb(pid: number, field: 'VmHWM' | 'VmRSS'): number | undefined {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? +(Number(m[1]) / 1024).toFixed(1) : undefined;
  } catch {
    return undefined;
  }
}

/** Peak resident set (VmHWM) of a live process, in MB. */
export const peakRssMb = (pid: number): number | undefined => statusMb(pid, 'VmHWM');

/** Current resident set (VmRSS) of a live process, in MB. */
export const rssMb = (pid: number): number | undefined => statusMb(pid, 'VmRSS');

/** This process's peak RSS in MB (getrusage maxrss). */
export function ownPeakRssMb(): number {
  return +(process.resourceUsage().maxRSS / 1024).toFixed(1);
}

/** Linear-interpolated percentile of an ascending array (p in [0, 100]). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(idx);
  const hi = Math.ceil(idx);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (idx - lo);
}

/**
 * Quantile from a Prometheus histogram in text exposition format (the way histogram_quantile()
 * does it: linear interpolation inside the bucket). Returns undefined when the metric is absent.
 */
export function histogramQuantile(metricsText: string, name: string, q: number): number | undefined {
  const buckets: Array<{ le: number; count: number }> = [];
  const re = new RegExp(`^${name}_bucket\\{[^}]*le="([^"]+)"[^}]*\\}\\s+([0-9.eE+-]+)`, 'gm');
  for (let m; (m = re.exec(metricsText)); ) {
    buckets.push({ le: m[1] === '+Inf' ? Infinity : Number(m[1]), count: Number(m[2]) });
  }
  if (buckets.length === 0) return undefined;
  buckets.sort((a, b) => a.le - b.le);
  const total = buckets[buckets.length - 1]!.count;
  if (total === 0) return undefined;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of buckets) {
    if (b.count >= rank) {
      if (b.le === Infinity) return prevLe; // beyond the last finite bucket: report its bound
      return prevLe + (b.le - prevLe) * ((rank - prevCount) / Math.max(1, b.count - prevCount));
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}

/** Sum of a counter/gauge over all its label sets in Prometheus text format. */
export function metricSum(metricsText: string, name: string): number {
  const re = new RegExp(`^${name}(?:\\{[^}]*\\})?\\s+([0-9.eE+-]+)`, 'gm');
  let sum = 0;
  for (let m; (m = re.exec(metricsText)); ) sum += Number(m[1]);
  return sum;
}

/** The label set `{a="x",b="y"}` of one sample line as an object. */
export function parseLabels(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) out[m[1]!] = m[2]!;
  return out;
}

type LabelFilter = (labels: Record<string, string>) => boolean;

/** Samples of one metric in Prometheus text format: labels and value, optionally filtered by labels. */
export function samples(metricsText: string, name: string, where?: LabelFilter): Array<{ labels: Record<string, string>; value: number }> {
  const re = new RegExp(`^${name}(?:\\{([^}]*)\\})?\\s+([0-9.eE+-]+|NaN|[+-]Inf)`, 'gm');
  const out: Array<{ labels: Record<string, string>; value: number }> = [];
  for (let m; (m = re.exec(metricsText)); ) {
    const labels = parseLabels(m[1] ?? '');
    if (!where || where(labels)) out.push({ labels, value: Number(m[2]) });
  }
  return out;
}

/** Sum of a counter/gauge over the label sets `where` accepts (all when absent). */
export function metricSumWhere(metricsText: string, name: string, where?: LabelFilter): number {
  return samples(metricsText, name, where).reduce((a, s) => a + s.value, 0);
}

/** Bucket counts of a Prometheus histogram by upper bound, summed over the label sets `where` accepts. */
export function histogramBuckets(metricsText: string, name: string, where?: LabelFilter): Map<string, number> {
  const m = new Map<string, number>();
  for (const s of samples(metricsText, `${name}_bucket`)) {
    const { le, ...rest } = s.labels;
    if (le === undefined || (where && !where(rest))) continue;
    m.set(le, (m.get(le) ?? 0) + s.value);
  }
  return m;
}

/** Quantile of the difference of two histogram snapshots (only what happened between them). */
export function quantileOfDiff(before: Map<string, number>, after: Map<string, number>, q: number): { value?: number; count: number } {
  const rows = [...after.entries()]
    .map(([le, c]) => ({ le: le === '+Inf' ? Infinity : Number(le), count: c - (before.get(le) ?? 0) }))
    .sort((a, b) => a.le - b.le);
  const total = rows.length ? rows[rows.length - 1]!.count : 0;
  if (total === 0) return { count: 0 };
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const r of rows) {
    if (r.count >= rank) {
      if (r.le === Infinity) return { value: prevLe, count: total };
      return { value: prevLe + (r.le - prevLe) * ((rank - prevCount) / Math.max(1, r.count - prevCount)), count: total };
    }
    prevLe = r.le;
    prevCount = r.count;
  }
  return { value: prevLe, count: total };
}

/** CPU time (user + system) a live process used so far, in seconds; undefined when /proc is not readable. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return round((Number(fields[11]) + Number(fields[12])) / 100, 2); // utime + stime, clock ticks (100/s)
  } catch {
    return undefined;
  }
}

export interface ChildResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; stderr is passed through (prefixed) so progress stays visible. */
export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; quiet?: boolean } = {}): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: REPO_ROOT, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (!opts.quiet) process.stderr.write(d);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs a benchmark script under this Node and returns the JSON object it prints last on stdout. */
export async function runNodeJson<T>(script: string, args: string[], env?: NodeJS.ProcessEnv): Promise<T> {
  const r = await run(process.execPath, [script, ...args], { env });
  const lines = r.stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'));
  if (r.code !== 0 || lines.length === 0) {
    throw new Error(`${script} ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim().split('\n').slice(-5).join(' | ')}`);
  }
  return JSON.parse(lines[lines.length - 1]!) as T;
}

/** Starts a long-running child; its output goes to the given log collector. */
export function startDaemon(cmd: string, args: string[], env?: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string } {
  const child = spawn(cmd, args, { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: string) => {
    out += d;
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout!.setEncoding('utf8').on('data', keep);
  child.stderr!.setEncoding('utf8').on('data', keep);
  return { child, output: () => out };
}

export async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not up yet
    }
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function stopChild(child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}

export const round = (x: number, digits = 1): number => (Number.isFinite(x) ? +x.toFixed(digits) : x);

export interface RunningJaeger {
  queryUrl: string;
  otlpGrpcEndpoint: string;
  pid?: number;
  stop(): Promise<void>;
}

/**
 * Starts the test stack's Jaeger v2 (deploy/stack/jaeger.sh: in-memory storage, or badger) on free
 * loopback ports, so a developer's own Jaeger on the default ports is left alone.
 */
export async function startJaeger(workdir: string, storage: 'mem' | 'badger' = 'mem'): Promise<RunningJaeger> {
  const ports = {
    JAEGER_OTLP_GRPC_PORT: await freePort(),
    JAEGER_OTLP_HTTP_PORT: await freePort(),
    JAEGER_QUERY_HTTP_PORT: await freePort(),
    JAEGER_QUERY_GRPC_PORT: await freePort(),
    JAEGER_HEALTH_PORT: await freePort(),
  };
  mkdirSync(workdir, { recursive: true });
  const env = {
    ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
    JAEGER_WORKDIR: workdir,
    JAEGER_MAX_TRACES: '1000000',
    JAEGER_LOG_LEVEL: 'warn',
    JAEGER_STORAGE: storage,
  };
  const script = join(REPO_ROOT, 'deploy/stack/jaeger.sh');
  const up = await run('bash', [script, 'up'], { env });
  if (up.code !== 0) throw new Error(`jaeger.sh up failed: ${up.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  const pidFile = join(workdir, 'jaeger.pid');
  return {
    queryUrl: `http://127.0.0.1:${ports.JAEGER_QUERY_HTTP_PORT}`,
    otlpGrpcEndpoint: `http://127.0.0.1:${ports.JAEGER_OTLP_GRPC_PORT}`,
    pid: existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : undefined,
    stop: async () => {
      await run('bash', [script, 'down'], { env, quiet: true });
    },
  };
}
