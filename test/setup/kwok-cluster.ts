// A KWOK cluster of a test's own (deploy/stack/kwok.sh), beside the shared stack's: re-enactments
// go into it, and Stages given to it (which replace kwok's defaults) change nothing for other tests.
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { freePorts } from './ports.ts';

export const KWOK_SH = resolve(import.meta.dirname, '../../deploy/stack/kwok.sh');

/** Runs a program to its end: exit code, stdout, stderr. */
export function exec(cmd: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((done) => {
    execFile(cmd, args, { maxBuffer: 64 << 20, timeout: 240_000 }, (err, out, errOut) =>
      done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out, err: errOut }),
    );
  });
}

/** Starts the cluster `name` under `workdir`: its kubeconfig and audit log. Stop it with kwokDown. */
export async function kwokUp(
  name: string,
  workdir: string,
  o: { nodes?: number; extraConfig?: string } = {},
): Promise<{ KUBECONFIG: string; AUDIT_LOG: string }> {
  const [webhookPort, apiserverPort] = await freePorts(2);
  const args = [
    '--name',
    name,
    '--workdir',
    workdir,
    '--nodes',
    String(o.nodes ?? 3),
    '--webhook-port',
    String(webhookPort),
    '--apiserver-port',
    String(apiserverPort),
  ];
  const r = await exec('bash', [KWOK_SH, 'up', ...args, ...(o.extraConfig ? ['--extra-config', o.extraConfig] : [])]);
  if (r.code !== 0) throw new Error(`kwok.sh up: ${r.err}`);
  return Object.fromEntries(r.out.split('\n').flatMap((l) => (/^[A-Z_]+=/.test(l) ? [[l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]] : []))) as {
    KUBECONFIG: string;
    AUDIT_LOG: string;
  };
}

export const kwokDown = (name: string, workdir: string) => exec('bash', [KWOK_SH, 'down', '--name', name, '--workdir', workdir]);
