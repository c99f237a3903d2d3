// A KWOK cluster of a test's own (deploy/stack/kwok.sh, the cached build), beside the shared
// stack's, for what the shared cluster cannot have: API server flags such as another audit policy,
// kwok Stages (which replace kwok's defaults, so they change nothing for other tests), a fresh
// cluster to re-enact into. Free loopback ports, its files in the test's directory; its audit
// webhook posts to `webhookPort` (nothing need listen there yet).
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { freePorts } from './ports.ts';

export const KWOK_SH = resolve(import.meta.dirname, '../../deploy/stack/kwok.sh');
export const STACK_LIB = resolve(import.meta.dirname, '../../deploy/stack/lib.sh');

/** Runs a program to its end: exit code, stdout, stderr. */
export function exec(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  return new Promise((done) => {
    execFile(cmd, args, { maxBuffer: 64 << 20, timeout: 240_000, env: { ...process.env, ...env } }, (err, out, errOut) =>
      done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out, err: errOut }),
    );
  });
}

/** Runs a program with `input` on stdin; resolves with its stdout, rejects with its stderr. */
export const run = (cmd: string, args: string[], input?: string): Promise<string> =>
  new Promise((ok, fail) => {
    const c = execFile(cmd, args, { timeout: 240_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      err ? fail(new Error(`${cmd} ${args.join(' ')}: ${stderr.trim() || err.message}`)) : ok(stdout),
    );
    c.stdin!.end(input ?? '');
  });

export interface KwokUp {
  KUBECONFIG: string;
  AUDIT_LOG: string;
  KUBECTL: string;
  webhookPort: number;
}

/**
 * Starts the cluster `name` under `workdir` (`extraConfig`: a kwok config file such as Stages;
 * `extra`: more kwok.sh up flags, e.g. `--audit-policy FILE`). Stop it with kwokDown.
 */
export async function kwokUp(name: string, workdir: string, o: { nodes?: number; extraConfig?: string; extra?: string[] } = {}): Promise<KwokUp> {
  const [webhookPort, apiserverPort] = await freePorts(2);
  const args = ['--name', name, '--workdir', workdir, '--nodes', String(o.nodes ?? 3)];
  args.push('--webhook-port', String(webhookPort), '--apiserver-port', String(apiserverPort));
  if (o.extraConfig) args.push('--extra-config', o.extraConfig);
  const r = await exec('bash', [KWOK_SH, 'up', ...args, ...(o.extra ?? [])]);
  if (r.code !== 0) throw new Error(`kwok.sh up: ${r.err}`);
  const env = Object.fromEntries(r.out.split('\n').flatMap((l) => (/^[A-Z_]+=./.test(l) ? [[l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]] : [])));
  return { KUBECONFIG: env.KUBECONFIG!, AUDIT_LOG: env.AUDIT_LOG!, KUBECTL: env.KUBECTL!, webhookPort };
}

export const kwokDown = (name: string, workdir: string) => exec('bash', [KWOK_SH, 'down', '--name', name, '--workdir', workdir]);

export interface OwnKwok {
  name: string;
  kubeconfig: string;
  auditLog: string;
  webhookPort: number;
  /** kubectl against it, with `args` after the kubeconfig. */
  kubectl(args: string[], input?: string): Promise<string>;
  down(): Promise<void>;
}

/** A one-node cluster under `dir`/kwok (`extra`: more kwok.sh up flags); resolves once its node is Ready. */
export async function ownKwok(dir: string, name: string, extra: string[] = []): Promise<OwnKwok> {
  const workdir = join(dir, 'kwok');
  const up = await kwokUp(name, workdir, { nodes: 1, extra });
  return {
    name,
    kubeconfig: up.KUBECONFIG,
    auditLog: up.AUDIT_LOG,
    webhookPort: up.webhookPort,
    kubectl: (args, input) => run(up.KUBECTL, ['--kubeconfig', up.KUBECONFIG, ...args], input),
    down: async () => {
      const r = await kwokDown(name, workdir);
      if (r.code !== 0) throw new Error(`kwok.sh down: ${r.err}`);
    },
  };
}
