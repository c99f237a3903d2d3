// What a corpus scenario (bench/diagnose-corpus/scenarios/<name>/scenario.ts) gets from the
// recorder: kubectl against the recording KWOK cluster as a named actor (impersonation through the
// admin kubeconfig, so the audit log names that actor), manifests, waits, and the cluster's
// processes (to pause the scheduler). Every scenario runs in its own namespace.
import { execFile } from 'node:child_process';

/** A service-account identity: `system:serviceaccount:<ns>:<name>` (need not exist). */
export const sa = (ns: string, name: string): string => `system:serviceaccount:${ns}:${name}`;

/** The identity that deploys workloads in scenarios where it is not the cause. */
export const DEPLOYER = sa('ci', 'deployer');

export interface KubectlOptions {
  /** Impersonated user (with group system:masters); default: the admin (kwok-admin). */
  as?: string;
  input?: string;
  /** Resolve with stderr instead of rejecting when kubectl fails. */
  allowFail?: boolean;
  /** No namespace flag (cluster-scoped objects, other namespaces). */
  noNamespace?: boolean;
  timeoutMs?: number;
}

export interface ScenarioContext {
  /** The scenario's namespace (created before `run`, deleted after). */
  ns: string;
  /** The standard fake nodes, Ready and untainted at the start (kwok-node-0..2). */
  nodes: string[];
  kubectl(args: string[], opts?: KubectlOptions): Promise<string>;
  /** One API request as `as` without a kubectl process (for high-rate actors): resolves with the status code. */
  request(as: string, method: string, path: string, body?: object, contentType?: string): Promise<number>;
  /** `kubectl apply -f -` of one or more manifests as `as`. */
  apply(as: string, ...objects: object[]): Promise<void>;
  /** Polls `check` every second until it returns true. */
  waitFor(what: string, check: () => Promise<boolean>, timeoutMs?: number): Promise<void>;
  sleep(ms: number): Promise<void>;
  /** A step of the scenario's timeline (timeline.tsv of the artifact). */
  step(text: string): void;
  /** SIGSTOP a control-plane process of the cluster (kube-scheduler, kube-controller-manager) for `ms`. */
  pause(component: string, ms: number): Promise<void>;
  /** A fake node managed by kwok (the template of deploy/kwok/node.yaml), created as `as`. */
  nodeManifest(name: string, labels?: Record<string, string>): object;
}

export interface Scenario {
  run(ctx: ScenarioContext): Promise<void>;
  /** Undo what outlives the namespace (taints, nodes, finalizers); runs after the recording window. */
  cleanup?(ctx: ScenarioContext): Promise<void>;
}

export function execKubectl(kubectlPath: string, kubeconfig: string, args: string[], opts: KubectlOptions = {}): Promise<string> {
  const imp = opts.as ? [`--as=${opts.as}`, '--as-group=system:masters'] : [];
  return new Promise((resolve, reject) => {
    const child = execFile(
      kubectlPath,
      ['--kubeconfig', kubeconfig, ...imp, ...args],
      { timeout: opts.timeoutMs ?? 120_000, maxBuffer: 256 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (!err) resolve(stdout);
        else if (opts.allowFail) resolve(`${stdout}${stderr}`);
        else reject(new Error(`kubectl ${args.join(' ')} failed: ${stderr.trim() || err.message}`));
      },
    );
    child.stdin!.end(opts.input ?? '');
  });
}

/** A Deployment of `replicas` pods labelled app=<name>; `extra` is merged into the pod spec. */
export function deployment(name: string, replicas: number, podSpec: Record<string, unknown> = {}, podLabels: Record<string, string> = {}): object {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name, ...podLabels } },
        spec: { containers: [{ name: 'app', image: 'registry.example/app:1.0' }], ...podSpec },
      },
    },
  };
}

/** A Job of pods labelled app=<name> (restartPolicy Never); `spec` adds completions, parallelism, backoffLimit. */
export function job(name: string, spec: Record<string, unknown>, podLabels: Record<string, string> = {}): object {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name },
    spec: {
      ...spec,
      template: {
        metadata: { labels: { app: name, ...podLabels } },
        spec: { restartPolicy: 'Never', containers: [{ name: 'work', image: `registry.example/${name}:1.0` }] },
      },
    },
  };
}

/** Number of pods of app=<name> in the namespace that are Running. */
export async function runningPods(ctx: ScenarioContext, app: string): Promise<number> {
  const out = await ctx.kubectl(['get', 'pods', '-l', `app=${app}`, '-o', 'jsonpath={range .items[*]}{.status.phase}{"\\n"}{end}']);
  return out.split('\n').filter((p) => p === 'Running').length;
}

/** Waits until `n` pods of app=<name> are Running. */
export function waitRunning(ctx: ScenarioContext, app: string, n: number, timeoutMs = 90_000): Promise<void> {
  return ctx.waitFor(`${n} pods of ${app} Running`, async () => (await runningPods(ctx, app)) >= n, timeoutMs);
}

/** Waits until `n` pods of app=<name> are Running on nodes other than `node`. */
export function waitRunningOff(ctx: ScenarioContext, app: string, n: number, node: string, timeoutMs = 150_000): Promise<void> {
  return ctx.waitFor(
    `${n} pods of ${app} Running off ${node}`,
    async () => {
      const out = await ctx.kubectl(['get', 'pods', '-l', `app=${app}`, '-o', 'jsonpath={range .items[*]}{.spec.nodeName} {.status.phase}{"\\n"}{end}']);
      return out.split('\n').filter((l) => l.endsWith(' Running') && !l.startsWith(`${node} `)).length >= n;
    },
    timeoutMs,
  );
}
