// Issue 12's pure pieces: YAML through the `yaml` package, diff entries per field, kinds by any
// spelling, name globs in both backends, the UI config served from the server's tables, and the
// tracing mode's own user/verb/subresource log fields.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SqliteStore } from '../../src/sinks/sqlite-store.ts';
import { SqliteBackend } from '../../frontend-plugin/backend/sqlite.ts';
import { nameMatches } from '../../frontend-plugin/backend/find-objects.ts';
import { uiConfig } from '../../frontend-plugin/server.ts';
import { modeDigits } from '../../frontend-plugin/trace-id.ts';
import { eventLog } from '../../frontend-plugin/modes/jaeger-json.ts';
// the trace view's events and labels, built by the query server (GET /api/ui/trace/:id)
import { toEvent } from '../../frontend-plugin/ui-tree/event.ts';
import { generatedSuffix } from '../../frontend-plugin/ui-tree/tree.ts';
import { MemoryBackend } from '../helpers/memory-backend.ts';
import { ref, SyntheticTraces } from '../helpers/synthetic-backend.ts';

const ui = (file: string) => import(new URL(`../../frontend-plugin/ui/${file}`, import.meta.url).href);
const { parseResourceInput, applyConfig, withMode } = await ui('model.js');
// the kind table comes from the server, as in the browser (GET /api/ui-config)
applyConfig(uiConfig());
const { expandEntries } = await ui('events.js');
const { toYaml } = await ui('yaml.js');

describe('UI YAML (the yaml package)', () => {
  it('writes valid YAML that reads back the same object, also for values the old renderer broke', async () => {
    const obj = {
      metadata: { annotations: { a: 'x:', b: 'key: value', c: '- item', d: '#not a comment', e: '', f: 'on', g: '1e3', h: 'line1\nline2' } },
      spec: { list: [{ name: 'x:' }], n: null },
    };
    const text = await toYaml(obj);
    expect(parse(text)).toEqual(obj);
    expect(parse(text, { version: '1.1' })).toEqual(obj);
  });
});

describe('UI diff entries', () => {
  it('lists an added condition per field (its type already in the path), changes and removals', () => {
    const lines = expandEntries([
      { path: 'status.conditions[type=Ready]', new: { type: 'Ready', status: 'True', lastTransitionTime: '2026-11-22T04:30:54Z' } },
      { path: 'status.conditions[type=Available].status', old: 'False', new: 'True' },
      { path: 'spec.template.spec.containers[name=log]', old: { name: 'log', image: 'busybox' } },
      { path: 'status.containerStatuses', old: [{ name: 'web', ready: false }], new: [{ name: 'web', ready: true }] },
      { path: 'spec.replicas', old: 2, new: 4 },
    ]);
    expect(lines.map((l: { path: string; old: string; new: string; op: string }) => `${l.op} ${l.path} ${l.old} ${l.new}`.trim())).toEqual([
      'add status.conditions[type=Ready].status  "True"',
      'add status.conditions[type=Ready].lastTransitionTime  "2026-11-22T04:30:54Z"',
      'change status.conditions[type=Available].status "False" "True"',
      'remove spec.template.spec.containers[name=log].image "busybox"',
      'change status.containerStatuses[name=web].ready false true',
      'change spec.replicas 2 4',
    ]);
  });
});

describe('UI kinds, names and config', () => {
  it('reads a kind in any usual spelling', () => {
    for (const t of ['deploy', 'deployment', 'Deployment', 'deployments', 'apps/deployments', 'apps/v1/deployments', 'deployments.apps']) {
      expect(parseResourceInput(t).resource, t).toBe('deployments');
    }
    expect(parseResourceInput('apps/deployments').group).toBe('apps');
    expect(parseResourceInput('v1/pods')).toEqual({ resource: 'pods', group: '' });
    expect(parseResourceInput('ingress').resource).toBe('ingresses');
    expect(parseResourceInput('NetworkPolicy').resource).toBe('networkpolicies');
  });

  it('takes the mode digits and kinds from the server config', () => {
    const cfg = uiConfig();
    expect(cfg.modes.find((m) => m.key === 'tree')!.digit).toBe(modeDigits('tree', 'default')[0]);
    expect(cfg.scopes.map((s) => s.key)).toEqual(['default', 'owned objects', 'full tree', 'ancestors']);
    expect(cfg.kinds).toContainEqual({ kind: 'Lease', group: 'coordination.k8s.io', resource: 'leases' });
    applyConfig(cfg);
    expect(withMode('ff20000000a7c3e91b2d4f6000000001', 'tree', 'owned objects')).toBe('ff04000000a7c3e91b2d4f6000000001');
    expect(parseResourceInput('Lease').resource).toBe('leases');
  });

  it('shows the distinguishing suffix of generated names', () => {
    expect(generatedSuffix('demo/demo-68c74967f8-vlntf')).toBe('68c74967f8-vlntf');
    expect(generatedSuffix('demo/web-0')).toBe('');
  });

  it('matches name globs (prefix, substring) in the in-memory and SQLite backends alike', async () => {
    expect(nameMatches('web-1', 'web-*')).toBe(true);
    expect(nameMatches('kwok-node-2', '*node*')).toBe(true);
    expect(nameMatches('web.1', 'web-*')).toBe(false);
    expect(nameMatches('a.b', 'a.b')).toBe(true);
    const t = new SyntheticTraces(1800);
    for (const n of ['web-1', 'web-2', 'api-1', 'kwok-node-0']) t.objectSpan(ref('pods', 'default', n, '', 'c1'), 0);
    const mem = new MemoryBackend();
    mem.add(t.spans);
    const dir = mkdtempSync(join(tmpdir(), 'kt-glob-'));
    const store = new SqliteStore(join(dir, 's.sqlite'));
    try {
      await store.write(t.spans);
      const sqlite = new SqliteBackend(store);
      for (const b of [mem, sqlite]) {
        const names = async (name: string) => (await b.findObjects({ name, startUs: 0, endUs: 1e12, limit: 10 })).map((f) => f.object.name).sort();
        expect(await names('web-*')).toEqual(['web-1', 'web-2']);
        expect(await names('*-1')).toEqual(['api-1', 'web-1']);
        expect(await names('*node*')).toEqual(['kwok-node-0']);
        expect(await names('web')).toEqual([]);
      }
      expect(await sqlite.summary()).toMatchObject({ firstUs: 0, namespaces: ['default'] });
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('tracing-mode log fields', () => {
  it("carries user, verb and subresource as their own fields beside Kelemetry's audit, and the UI reads them", () => {
    const t = new SyntheticTraces(1800);
    const pod = ref('pods', 'default', 'web-1', '', 'c1');
    const s = t.event(pod, 10e6, 'ev-1', 'update status', { verb: 'update', subresource: 'status', user: 'system:node:n 1', code: 200 });
    const log = eventLog(s);
    const f = Object.fromEntries(log.fields.map((x) => [x.key, x.value]));
    expect(f).toMatchObject({ audit: 'system:node:n 1 update status', user: 'system:node:n 1', verb: 'update', subresource: 'status' });
    // a user with a space would break splitting `audit`; the own fields do not
    expect(toEvent(1, f)).toMatchObject({ user: 'system:node:n 1', verb: 'update', subresource: 'status' });
  });
});

describe('UI object state at any moment', async () => {
  const { objectStates, parsePath } = await ui('state.js');
  it('parses write-path paths', () => {
    expect(parsePath('metadata.labels["app.kubernetes.io/name"]')).toEqual([{ key: 'metadata' }, { key: 'labels' }, { key: 'app.kubernetes.io/name' }]);
    expect(parsePath('status.conditions[type=Ready].status')).toEqual([
      { key: 'status' },
      { key: 'conditions' },
      { match: ['type', 'Ready'] },
      { key: 'status' },
    ]);
    expect(parsePath('spec.tolerations[0].effect')).toEqual([{ key: 'spec' }, { key: 'tolerations' }, { index: 0 }, { key: 'effect' }]);
  });
  it('rebuilds the object after each event from the create snapshot and the diff entries', () => {
    const ev = (kind: string, extra: object) => ({ kind, level: 'normal', isK8sEvent: false, diff: 'x', ...extra });
    const created = {
      kind: 'Pod',
      metadata: { name: 'p', labels: { a: '1' } },
      status: { phase: 'Pending', conditions: [{ type: 'Ready', status: 'False' }] },
    };
    const { states, gaps } = objectStates([
      ev('create', { snapshot: JSON.stringify(created) }),
      ev('update', { entries: [{ path: 'spec.nodeName', new: 'n1' }] }),
      ev('update', {
        entries: [
          { path: 'status.phase', old: 'Pending', new: 'Running' },
          { path: 'status.conditions[type=Ready].status', old: 'False', new: 'True' },
          { path: 'status.conditions[type=PodScheduled]', new: { type: 'PodScheduled', status: 'True' } },
          { path: 'metadata.labels.a', old: '1' },
        ],
      }),
      ev('update', { diff: 'old text only' }),
    ]);
    expect(states[0]).toEqual(created);
    expect(states[1].spec).toEqual({ nodeName: 'n1' });
    expect(states[2]).toEqual({
      kind: 'Pod',
      metadata: { name: 'p', labels: {} },
      spec: { nodeName: 'n1' },
      status: {
        phase: 'Running',
        conditions: [
          { type: 'Ready', status: 'True' },
          { type: 'PodScheduled', status: 'True' },
        ],
      },
    });
    expect(states[0]).toEqual(created); // earlier states untouched
    expect(gaps).toEqual([false, false, false, true]);
  });
  it('carries the resourceVersion and generation the object had after each event', () => {
    const ev = (kind: string, extra: object) => ({ kind, level: 'normal', isK8sEvent: false, diff: 'x', ...extra });
    const created = { kind: 'Deployment', metadata: { name: 'd', resourceVersion: '100', generation: 1 }, spec: { replicas: 1 } };
    const { states } = objectStates([
      ev('create', { snapshot: JSON.stringify(created) }),
      ev('patch', {
        entries: [{ path: 'spec.replicas', old: 1, new: 3 }],
        diffVerbose: 'metadata.generation 1 -> 2\nmetadata.resourceVersion "100" -> "120"',
        resourceVersion: '120',
      }),
      ev('update', { entries: [{ path: 'status.replicas', new: 3 }], resourceVersion: '131', diffVerbose: 'metadata.resourceVersion "120" -> "131"' }),
    ]);
    expect(states[1].metadata).toEqual({ name: 'd', resourceVersion: '120', generation: 2 });
    expect(states[2].metadata).toEqual({ name: 'd', resourceVersion: '131', generation: 2 });
    // the log fields as the UI reads them
    const e = toEvent(1, { verb: 'patch', user: 'u', 'resourceVersion.new': '120', 'diff.verbose': 'metadata.generation 1 -> 2' });
    expect(e).toMatchObject({ resourceVersion: '120', diffVerbose: 'metadata.generation 1 -> 2' });
  });
});
