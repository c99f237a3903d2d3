// Secret values never leave kubetrail, against the real KWOK cluster: `kubetrail serve` (audit
// webhook + informers, so each Secret also arrives by watch) and `kubetrail replay` of the cluster's
// audit log. We create, update, mount and delete Secrets with distinctive values — through `data`
// (kubectl create secret generic, kubectl patch) and through `stringData` (kubectl apply, whose
// last-applied annotation holds the values in clear) — then grep the raw bytes of the store files,
// the process output and /metrics for the values and their base64 forms.
import { afterAll, describe, expect, inject, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rawTraceId } from '../../src/core/ids.ts';
import { objectKey, type SpanRecord } from '../../src/core/model.ts';
import { SqliteBackend } from '../../frontend-plugin/backend/sqlite.ts';
import { createNamespace, deleteNamespace, kubectl, waitFor } from '../setup/kube.ts';
import { CLI, startKubetrail, type RunningKubetrail } from '../setup/kubetrail.ts';
import { leaks } from '../setup/secret-stream.ts';

const stack = inject('stack');

/** All spans of an object over every window the store knows it in. */
async function objectSpans(store: SqliteBackend, ref: { group: string; resource: string; namespace: string; name: string }): Promise<SpanRecord[]> {
  const full = { cluster: stack.clusterName, ...ref };
  const found = await store.findObjects({ ...full, startUs: 0, endUs: Number.MAX_SAFE_INTEGER, limit: 1 });
  if (found.length === 0) return [];
  const out: SpanRecord[] = [];
  for (const w of found[0]!.windows) out.push(...(await store.getRawTrace(rawTraceId(objectKey(full), w))));
  return out;
}

function storeBytes(path: string): Buffer {
  return Buffer.concat(['', '-wal', '-shm', '-journal'].filter((s) => existsSync(path + s)).map((s) => readFileSync(path + s)));
}

describe('Secret values never leave kubetrail (KWOK cluster)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kt-secret-'));
  let ns = '';
  const tag = () => `kt-secret-${randomBytes(9).toString('hex')}`;
  // created by `kubectl create secret generic` (data), changed by `kubectl patch` (data)
  const created = { name: 'db-creds', v1: tag(), v2: tag() };
  // created and changed by `kubectl apply` of stringData (last-applied annotation holds the values)
  const applied = { name: 'api-token', v1: tag(), v2: tag() };
  const values = [created.v1, created.v2, applied.v1, applied.v2];
  let serve: RunningKubetrail | undefined;
  afterAll(async () => {
    await serve?.stop('SIGKILL');
    if (ns) await deleteNamespace(ns).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  const manifest = (value: string) =>
    JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: applied.name, namespace: ns }, type: 'Opaque', stringData: { token: value } });

  it('serve: spans show create/update/delete and which key changed, never the values', async () => {
    const path = join(dir, 'serve.sqlite');
    serve = await startKubetrail(
      [
        'serve',
        '--kubeconfig',
        stack.kubeconfig,
        '--cluster',
        stack.clusterName,
        '--webhook-port',
        String(stack.webhookPort),
        '--webhook-host',
        '127.0.0.1',
        '--store',
        path,
        '--no-query',
        '--log-level',
        'debug',
      ],
      { ready: /informers started/ },
    );

    ns = await createNamespace('sec');
    await kubectl(['create', 'secret', 'generic', created.name, '-n', ns, `--from-literal=password=${created.v1}`]);
    await kubectl(['apply', '-f', '-'], { input: manifest(applied.v1) });
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'uses-secrets', namespace: ns },
      spec: {
        containers: [
          {
            name: 'app',
            image: 'busybox',
            env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: applied.name, key: 'token' } } }],
            volumeMounts: [{ name: 'creds', mountPath: '/etc/creds', readOnly: true }],
          },
        ],
        volumes: [{ name: 'creds', secret: { secretName: created.name } }],
      },
    };
    await kubectl(['apply', '-f', '-'], { input: JSON.stringify(pod) });
    await kubectl(['patch', 'secret', created.name, '-n', ns, '-p', JSON.stringify({ data: { password: Buffer.from(created.v2).toString('base64') } })]);
    await kubectl(['apply', '-f', '-'], { input: manifest(applied.v2) });
    await kubectl(['delete', 'pod', 'uses-secrets', '-n', ns, '--grace-period=0', '--force', '--wait=false']);
    await kubectl(['delete', 'secret', created.name, applied.name, '-n', ns]);

    const store = new SqliteBackend(path);
    const secretEvents = async (name: string) => {
      const spans = await objectSpans(store, { group: '', resource: 'secrets', namespace: ns, name });
      const audited = spans.filter((s) => s.kind === 'event' && s.attributes.source === 'audit');
      const verbs = new Set(audited.map((s) => String(s.attributes.verb)));
      return verbs.has('create') && verbs.has('delete') && (verbs.has('patch') || verbs.has('update')) ? spans : undefined;
    };
    const createdSpans = await waitFor(() => secretEvents(created.name), `audit events of secret ${created.name}`, 120_000);
    const appliedSpans = await waitFor(() => secretEvents(applied.name), `audit events of secret ${applied.name}`, 120_000);
    await waitFor(
      async () => ((await objectSpans(store, { group: '', resource: 'pods', namespace: ns, name: 'uses-secrets' })).length ? true : undefined),
      'the pod',
      120_000,
    );
    await store.close();

    // The change of the value is visible (which key), the value is not.
    const diffs = createdSpans.map((s) => String(s.attributes.diff ?? '')).join('\n');
    expect(diffs).toMatch(/data\.password/);
    expect(leaks(diffs, values)).toEqual([]);
    const appliedDiffs = appliedSpans.map((s) => `${s.attributes.diff ?? ''}\n${s.attributes['diff.verbose'] ?? ''}`).join('\n');
    expect(appliedDiffs).toMatch(/data\.token/);
    const snapshots = [...createdSpans, ...appliedSpans].filter((s) => s.attributes.snapshot !== undefined);
    expect(snapshots.length).toBeGreaterThanOrEqual(2); // create and delete carry a snapshot
    expect(leaks(JSON.stringify([...createdSpans, ...appliedSpans]), values)).toEqual([]);

    // the counters move with their own paths (webhook batches, the watch): wait for both
    const counted = [/kubetrail_audit_events_accepted_total [1-9]/, /kubetrail_watch_events_total\{source="watch",type="DELETED"\} [1-9]/];
    const metrics = await waitFor(
      async () => {
        const text = await (await fetch(`http://127.0.0.1:${stack.webhookPort}/metrics`)).text();
        return counted.every((re) => re.test(text)) ? text : undefined;
      },
      'accepted audit events and watched deletes in /metrics',
      60_000,
    );
    for (const re of counted) expect(metrics).toMatch(re);
    expect(leaks(metrics, values)).toEqual([]);

    expect(await serve.stop()).toBe(0);
    const output = serve.output();
    expect(output).toContain('drained');
    expect(leaks(output, values)).toEqual([]);
    const bytes = storeBytes(path);
    expect(bytes.includes(`${ns}/${created.name}`) || bytes.includes(created.name)).toBe(true); // the grep reads real bytes
    expect(leaks(bytes, values)).toEqual([]);
  }, 300_000);

  it('replay of the cluster audit log: same Secrets, no values in the store or the output', async () => {
    // kube-apiserver writes its audit log in batches: wait until our deletes are in it.
    await waitFor(
      async () => {
        const log = readFileSync(stack.auditLogPath, 'utf8');
        const deletes = log.split('\n').filter((l) => l.includes('"verb":"delete"') && l.includes(`/namespaces/${ns}/secrets/`));
        return [created.name, applied.name].every((n) => deletes.some((l) => l.includes(`/secrets/${n}`))) ? true : undefined;
      },
      'the Secret deletes in the audit log',
      120_000,
    );
    const path = join(dir, 'replay.sqlite');
    const run = spawnSync(
      process.execPath,
      [CLI, 'replay', '--cluster', stack.clusterName, '--store', path, '--no-progress', '--json', '--log-level', 'debug', stack.auditLogPath],
      {
        encoding: 'utf8',
        maxBuffer: 256 * 1024 * 1024,
      },
    );
    const out = `${run.stdout}\n${run.stderr}`;
    expect(run.status, out.slice(-2000)).toBe(0);
    const store = new SqliteBackend(path);
    const spans = await objectSpans(store, { group: '', resource: 'secrets', namespace: ns, name: created.name });
    expect(spans.filter((s) => s.kind === 'event').map((s) => String(s.attributes.verb))).toEqual(expect.arrayContaining(['create', 'patch', 'delete']));
    expect(spans.map((s) => String(s.attributes.diff ?? '')).join('\n')).toMatch(/data\.password/);
    await store.close();
    expect(leaks(out, values)).toEqual([]);
    const bytes = storeBytes(path);
    expect(bytes.includes(applied.name)).toBe(true);
    expect(leaks(bytes, values)).toEqual([]);
  }, 300_000);

  it('the test itself would see a leak (the values do reach the cluster audit log)', () => {
    // Guards against a vacuous pass: the cluster logs Secrets at RequestResponse level, so the raw
    // audit log holds what kubetrail must drop.
    expect(leaks(readFileSync(stack.auditLogPath), values).length).toBeGreaterThan(0);
  });
});
