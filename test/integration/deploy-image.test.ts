// The container image (Dockerfile) as far as it can be checked without a container engine:
// hadolint finds nothing, the final stage is Node 24 slim, non-root, production dependencies
// only, `kubetrail` as entrypoint; and the image's file layout, made on this machine the way the
// Dockerfile makes it (its COPY lines, its `npm ci` command, its symlink), runs `kubetrail --help`,
// a replay of the recorded scenario and `serve` with the Helm chart's --config.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import { ensureHadolint } from '../setup/hadolint.ts';
import { ROOT, helmTemplate, run, runOk } from '../setup/deploy-tools.ts';
import { freePorts } from '../setup/ports.ts';
import { waitFor } from '../setup/wait.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpsRequest } from 'node:https';

const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
/** Instructions of the Dockerfile, continuation lines joined, comments dropped. */
const instructions = dockerfile
  .replace(/\\\n\s*/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'))
  .map((l) => {
    const i = l.indexOf(' ');
    return { op: l.slice(0, i).toUpperCase(), args: l.slice(i + 1).trim() };
  });
const stages: { from: string; body: typeof instructions }[] = [];
for (const ins of instructions) {
  if (ins.op === 'FROM') stages.push({ from: ins.args, body: [] });
  else stages.at(-1)?.body.push(ins);
}
const final = stages.at(-1)!;
const nodeVersion = /^ARG NODE_VERSION=(\S+)$/m.exec(dockerfile)![1];

describe('Dockerfile', () => {
  it('passes hadolint (and hadolint is real: it flags a bad variant)', async () => {
    const hadolint = await ensureHadolint();
    const r = await run(hadolint, ['--no-color', join(ROOT, 'Dockerfile')]);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.code).toBe(0);
    const bad = join(mkdtempSync(join(tmpdir(), 'kubetrail-dockerfile-')), 'Dockerfile');
    writeFileSync(bad, 'FROM node:latest\nRUN cd /tmp && npm install\n');
    const b = await run(hadolint, ['--no-color', bad]);
    expect(b.code).not.toBe(0);
    expect(b.stdout).toMatch(/DL3007/); // latest tag
  });

  it("final stage: Node 24 slim, non-root user 10001 (the chart's), production dependencies, kubetrail entrypoint", async () => {
    expect(nodeVersion).toMatch(/^24\./);
    expect(stages.map((s) => s.from)).toEqual(['node:${NODE_VERSION}-bookworm-slim AS deps', 'node:${NODE_VERSION}-bookworm-slim']);
    const op = (name: string) => final.body.filter((i) => i.op === name).map((i) => i.args);
    expect(op('USER')).toEqual(['10001:10001']);
    expect(op('ENTRYPOINT')).toEqual(['["kubetrail"]']);
    expect(stages[0]!.body.find((i) => i.op === 'RUN')!.args).toMatch(/^npm ci --omit=dev\b/);
    const chart = (await helmTemplate('img', 'default')).find((m) => m.kind === 'Deployment')!;
    expect(chart.spec.template.spec.securityContext).toMatchObject({ runAsUser: 10001, runAsGroup: 10001, runAsNonRoot: true });
    expect(chart.spec.template.spec.containers[0].ports[0].containerPort).toBe(8080);
    expect(op('EXPOSE')).toEqual(['8080 16686']);
  });

  it('.dockerignore keeps the context to what the Dockerfile copies', () => {
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'));
    expect(ignore[0]).toBe('*');
    const allowed = ignore
      .filter((l) => l.startsWith('!'))
      .map((l) => l.slice(1).replace(/\/$/, ''))
      .sort();
    const copied = instructions
      .filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1))
      .sort();
    expect(allowed).toEqual([...new Set(copied)].sort());
  });
});

describe('the image layout on this machine', () => {
  const image = mkdtempSync(join(tmpdir(), 'kubetrail-image-'));
  const app = join(image, 'opt/kubetrail');
  const bin = join(image, 'usr/local/bin/kubetrail');
  const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}`, NODE_ENV: 'production', XDG_DATA_HOME: join(image, 'var/lib') };
  let serve: ChildProcess | undefined;

  beforeAll(async () => {
    mkdirSync(app, { recursive: true });
    // deps stage: COPY package.json package-lock.json ./ then its RUN, in a directory of its own
    const deps = join(image, 'deps');
    mkdirSync(deps);
    for (const f of ['package.json', 'package-lock.json']) cpSync(join(ROOT, f), join(deps, f));
    const npmCi = stages[0]!.body
      .find((i) => i.op === 'RUN')!
      .args.split('&&')[0]!
      .trim()
      .split(/\s+/);
    await runOk('npm', npmCi.slice(1), { cwd: deps, env, timeoutMs: 300_000 });
    // final stage: COPY --from=deps node_modules, then every COPY line
    cpSync(join(deps, 'node_modules'), join(app, 'node_modules'), { recursive: true, verbatimSymlinks: true });
    for (const c of final.body.filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'))) {
      const parts = c.args.split(/\s+/);
      const dest = parts.at(-1)!;
      // relative to WORKDIR /opt/kubetrail; a destination ending in / is a directory
      for (const src of parts.slice(0, -1)) cpSync(join(ROOT, src), dest.endsWith('/') ? join(app, dest, basename(src)) : join(app, dest), { recursive: true });
    }
    const link = final.body.find((i) => i.op === 'RUN' && i.args.startsWith('ln -s'))!.args.split(/\s+/);
    mkdirSync(dirname(bin), { recursive: true });
    symlinkSync(link[2]!.replace('/opt/kubetrail', app), bin);
  }, 360_000);
  afterAll(() => {
    serve?.kill('SIGKILL');
  });

  it('holds the production dependencies only', () => {
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
    for (const [path, p] of Object.entries<any>(lock.packages)) {
      if (!path) continue;
      expect(existsSync(join(app, path)), `${path}${p.dev ? ' (dev)' : ''}`).toBe(!p.dev);
    }
    expect(existsSync(join(app, 'node_modules/vitest'))).toBe(false);
    expect(existsSync(join(app, 'test'))).toBe(false);
  });

  it('`kubetrail --help` through the entrypoint symlink', async () => {
    const out = await runOk(bin, ['--help'], { env, cwd: '/' });
    for (const c of ['serve', 'replay', 'demo', 'query']) expect(out).toMatch(new RegExp(`^  ${c} `, 'm'));
  });

  it('`kubetrail replay` of the recorded scenario the image ships', async () => {
    const r = await run(bin, ['replay', '--cluster', 'kwok', '--json', join(app, 'examples/kwok-scenario/audit.log.gz')], { env, cwd: '/' });
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.errors).toBe(0);
    expect(summary.spansWritten ?? summary.spans).toBeGreaterThan(100);
    // the default store location of the image (XDG_DATA_HOME=/var/lib, the chart's volume)
    expect(existsSync(join(image, 'var/lib/kubetrail/kubetrail.sqlite'))).toBe(true);
  });

  it("`kubetrail serve` with the Helm chart's --config, token and generated certificate answers over HTTPS", async () => {
    const rendered = await helmTemplate('img', 'default', { webhook: { token: { value: 'tok-0123456789abcdef' } } });
    const cfg = parseYaml(rendered.find((m) => m.kind === 'ConfigMap')!.data['config.yaml']);
    const tls = rendered.find((m) => m.kind === 'Secret' && m.type === 'kubernetes.io/tls')!;
    const files = join(image, 'etc/kubetrail');
    mkdirSync(join(files, 'tls'), { recursive: true });
    for (const k of ['tls.crt', 'tls.key', 'ca.crt']) writeFileSync(join(files, 'tls', k), Buffer.from(tls.data[k], 'base64'));
    writeFileSync(join(files, 'token'), 'tok-0123456789abcdef');
    const [port] = await freePorts(1);
    // in-pod paths moved into the layout; loopback instead of the pod's 0.0.0.0
    const file = join(files, 'config.yaml');
    writeFileSync(
      file,
      stringify({
        ...cfg,
        webhookHost: '127.0.0.1',
        webhookPort: port,
        webhookTokenFile: join(files, 'token'),
        tlsCert: cfg.tlsCert.replace('/etc/kubetrail', files),
        tlsKey: cfg.tlsKey.replace('/etc/kubetrail', files),
        store: join(image, 'var/lib/kubetrail/serve.sqlite'),
        informers: false,
        query: false,
      }),
    );
    serve = spawn(bin, ['serve', '--config', file], { env, cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    serve.stderr!.on('data', (d) => {
      out += d;
    });
    serve.stdout!.on('data', (d) => {
      out += d;
    });
    // what the kube-apiserver does with the audit kubeconfig from NOTES.txt: verify the certificate
    // against the CA for the Service's name, send the token
    const call = (method: string, path: string, auth?: string) =>
      new Promise<{ status: number; body: string }>((resolvePromise, reject) => {
        const req = httpsRequest(
          {
            host: '127.0.0.1',
            port,
            path,
            method,
            servername: 'img-kubetrail.default.svc',
            ca: Buffer.from(tls.data['ca.crt'], 'base64'),
            headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) },
          },
          (res) => {
            let body = '';
            res.on('data', (d) => {
              body += d;
            });
            res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        req.end(method === 'POST' ? JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items: [] }) : undefined);
      });
    await waitFor(async () => (await call('GET', '/readyz')).status === 200, `/readyz (${out.slice(-500)})`, 30_000);
    expect((await call('GET', '/metrics')).body).toContain('kubetrail_webhook_requests_total');
    expect((await call('POST', '/audit/default')).status).toBe(401);
    expect((await call('POST', '/audit/default', 'Bearer tok-0123456789abcdef')).status).toBe(200);
    serve.kill('SIGTERM');
    expect(await new Promise((r) => serve!.on('exit', r))).toBe(0);
  });
});
