// Helpers of the deploy/ tests (Helm chart, Prometheus, Grafana, kwokctl recipe): the real tools
// (helm built by deploy/stack/build.sh, Debian's prometheus and promtool), run as child processes.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CHART = join(ROOT, 'deploy/helm/kubetrail');

/** A value of deploy/stack/versions.sh (`NAME=${NAME:-value}`), honouring the environment like the script. */
export function stackVersion(name: string): string {
  if (process.env[name]) return process.env[name]!;
  const m = new RegExp(`^${name}=\\$\\{${name}:-([^}]+)\\}`, 'm').exec(readFileSync(join(ROOT, 'deploy/stack/versions.sh'), 'utf8'));
  if (!m) throw new Error(`${name} not in deploy/stack/versions.sh`);
  return m[1];
}

export function stackBin(): string {
  const cache = process.env.KUBETRAIL_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(process.env.HOME ?? '/root', '.cache'), 'kubetrail');
  return join(process.env.STACK_DIR ?? join(cache, 'stack'), 'bin');
}

/** The helm binary deploy/stack/build.sh builds (`build.sh helm`). */
export const HELM = process.env.HELM ?? join(stackBin(), `helm-${stackVersion('HELM_VERSION')}`, 'helm');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command; resolves with its exit code and output (does not reject on a non-zero exit). */
export function run(cmd: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = execFile(
      cmd,
      args,
      {
        timeout: opts.timeoutMs ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
        cwd: opts.cwd,
        env: opts.env ? { ...process.env, ...opts.env } : process.env,
      },
      (err, stdout, stderr) => {
        if (err && typeof (err as NodeJS.ErrnoException).code === 'string') return reject(err); // ENOENT and the like
        resolvePromise({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    else child.stdin!.end();
  });
}

/** Like run, but rejects with the output when the exit code is not 0. */
export async function runOk(cmd: string, args: string[], opts: Parameters<typeof run>[2] = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}:\n${r.stderr}\n${r.stdout}`.slice(0, 6000));
  return r.stdout;
}

const tmp = mkdtempSync(join(tmpdir(), 'kubetrail-deploy-'));
let n = 0;
/** Writes values to a temporary values file and returns its path. */
export function valuesFile(values: Record<string, unknown>): string {
  const f = join(tmp, `values-${++n}.yaml`);
  writeFileSync(f, stringify(values));
  return f;
}

/** A Kubernetes object as rendered (loosely typed: tests look into it). */
export type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; [k: string]: any }; [k: string]: any };

export function parseManifests(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((d) => d.toJSON())
    .filter((d): d is Manifest => d && typeof d === 'object' && 'kind' in d);
}

/** `helm template` of the chart; rejects with helm's message when it refuses the values. */
export async function helmTemplate(release: string, namespace: string, values: Record<string, unknown> = {}): Promise<Manifest[]> {
  return parseManifests(await runOk(HELM, ['template', release, CHART, '--namespace', namespace, '-f', valuesFile(values)]));
}
