// A KWOK cluster of a test's own (deploy/stack/kwok.sh, the cached build), for what the stack's
// shared cluster cannot have: API server flags such as another audit policy, kwok Stages. One
// node, free loopback ports, its files in the test's directory; its audit webhook posts to
// `webhookPort` (nothing need listen there yet).
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { freePorts } from './ports.ts';

const kwokSh = resolve(import.meta.dirname, '../../deploy/stack/kwok.sh');

export interface OwnKwok {
  name: string;
  kubeconfig: string;
  auditLog: string;
  webhookPort: number;
  /** kubectl against it, with `args` after the kubeconfig. */
  kubectl(args: string[], input?: string): Promise<string>;
  down(): Promise<void>;
}

export const run = (cmd: string, args: string[], input?: string): Promise<string> =>
  new Promise((ok, fail) => {
    const c = execFile(cmd, args, { timeout: 240_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      err ? fail(new Error(`${cmd} ${args.join(' ')}: ${stderr.trim() || err.message}`)) : ok(stdout),
    );
    c.stdin!.end(input ?? '');
  });

/** Starts it (`extra`: more kwok.sh up flags, e.g. `--audit-policy FILE`); resolves once its node is Ready. */
export async function ownKwok(dir: string, name: string, extra: string[] = []): Promise<OwnKwok> {
  const common = ['--name', name, '--workdir', join(dir, 'kwok')];
  const [webhookPort, apiserverPort] = await freePorts(2);
  const out = await run('bash', [
    kwokSh,
    'up',
    ...common,
    '--nodes',
    '1',
    '--webhook-port',
    String(webhookPort),
    '--apiserver-port',
    String(apiserverPort),
    ...extra,
  ]);
  const env = Object.fromEntries(out.split('\n').flatMap((l) => (/^[A-Z_]+=./.test(l) ? [[l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]] : [])));
  return {
    name,
    kubeconfig: env.KUBECONFIG!,
    auditLog: env.AUDIT_LOG!,
    webhookPort,
    kubectl: (args, input) => run(env.KUBECTL!, ['--kubeconfig', env.KUBECONFIG!, ...args], input),
    down: () => run('bash', [kwokSh, 'down', ...common]).then(() => undefined),
  };
}
