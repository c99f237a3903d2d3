// The cleaning rules of `kubetrail export` (frontend-plugin/reenact/clean.ts) and the file's
// checks (format.ts): what a recorded object or write becomes in a re-enactment file, and which
// files `reenact` refuses before applying anything.
import { describe, expect, it } from 'vitest';
import { applyChanges, cleanForCreate, findPlaceholders, mergePatch, parseDiffPath } from '../../frontend-plugin/reenact/clean.ts';
import { FORMAT, parseReenact, type ReenactFile, serializeReenact } from '../../frontend-plugin/reenact/format.ts';
import { diffObjects } from '../../src/decorate/diff.ts';

const deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'web',
    namespace: 'shop',
    uid: 'u-1',
    resourceVersion: '42',
    generation: 1,
    creationTimestamp: '2026-12-06T09:00:00Z',
    labels: { app: 'web' },
    annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}', team: 'a' },
  },
  spec: {
    replicas: 2,
    template: {
      spec: {
        containers: [
          { name: 'web', image: 'nginx:1' },
          { name: 'log', image: 'busybox' },
        ],
      },
    },
  },
  status: { replicas: 2 },
};

/** The diff entries the write path stores for before → after. */
const entries = (before: unknown, after: unknown) => diffObjects(before, after).entries.map((e) => JSON.parse(e));

describe('diff paths', () => {
  it('reads keys, quoted keys, indexes and named items', () => {
    expect(parseDiffPath('spec.template.spec.containers[name=web].image')).toEqual([
      { key: 'spec' },
      { key: 'template' },
      { key: 'spec' },
      { key: 'containers' },
      { match: 'name', value: 'web' },
      { key: 'image' },
    ]);
    expect(parseDiffPath('metadata.labels["app.kubernetes.io/name"]')).toEqual([{ key: 'metadata' }, { key: 'labels' }, { key: 'app.kubernetes.io/name' }]);
    expect(parseDiffPath('spec.ports[0].port')).toEqual([{ key: 'spec' }, { key: 'ports' }, { index: 0 }, { key: 'port' }]);
  });

  it("rebuilds an object's state from its diffs: what the write path recorded, applied, is the object after", () => {
    const after = structuredClone(deployment);
    after.spec.template.spec.containers = [
      { name: 'web', image: 'nginx:2' },
      { name: 'side', image: 'envoy' },
    ];
    after.metadata.labels = { app: 'web', tier: 'front' } as typeof after.metadata.labels;
    after.spec.replicas = 4;
    (after.status as Record<string, unknown>).conditions = [{ type: 'Available', status: 'True' }];
    expect(applyChanges(deployment, entries(deployment, after))).toEqual({ ...after, metadata: { ...after.metadata } });
  });
});

describe('a create, cleaned', () => {
  it('has no uid, resourceVersion, generation, timestamps, managedFields, status or last-applied copy', () => {
    const { object } = cleanForCreate(deployment, () => false);
    expect(object).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'shop', labels: { app: 'web' }, annotations: { team: 'a' } },
      spec: deployment.spec,
    });
    expect(deployment.metadata.uid).toBe('u-1'); // the input is left alone
  });

  it('turns a generated name back into its generateName', () => {
    const pod = { kind: 'Pod', metadata: { name: 'job-x7k2p', generateName: 'job-', namespace: 'ci' }, spec: { containers: [] } };
    const { object, notes } = cleanForCreate(pod, () => false);
    expect(object.metadata).toEqual({ generateName: 'job-', namespace: 'ci' });
    expect(notes).toEqual(['name job-x7k2p was generated: created with generateName job-']);
  });

  it('keeps owner references to objects the file creates (uid left to resolve), drops those to controller-made ones', () => {
    const cm = {
      kind: 'ConfigMap',
      metadata: {
        name: 'c',
        ownerReferences: [
          { apiVersion: 'example.com/v1', kind: 'Widget', name: 'mine', uid: 'w1', controller: true },
          { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-5d8f', uid: 'r1' },
        ],
      },
    };
    const { object, notes } = cleanForCreate(cm, (o) => o.kind === 'Widget' && o.name === 'mine');
    expect((object.metadata as { ownerReferences: unknown }).ownerReferences).toEqual([
      { apiVersion: 'example.com/v1', kind: 'Widget', name: 'mine', controller: true },
    ]);
    expect(notes).toEqual(['owner reference to ReplicaSet web-5d8f dropped: the file does not create it']);
  });

  it("leaves a Service's cluster IPs and a pod's injected token volume to the new cluster", () => {
    const svc = { kind: 'Service', metadata: { name: 's' }, spec: { clusterIP: '10.0.0.7', clusterIPs: ['10.0.0.7'], ports: [{ port: 80 }] } };
    expect(cleanForCreate(svc, () => false).object.spec).toEqual({ ports: [{ port: 80 }] });
    const headless = { kind: 'Service', metadata: { name: 'h' }, spec: { clusterIP: 'None' } };
    expect(cleanForCreate(headless, () => false).object.spec).toEqual({ clusterIP: 'None' });
    const pod = {
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: {
        volumes: [
          { name: 'kube-api-access-8x2pq', projected: {} },
          { name: 'data', emptyDir: {} },
        ],
        containers: [
          {
            name: 'c',
            volumeMounts: [
              { name: 'kube-api-access-8x2pq', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' },
              { name: 'data', mountPath: '/d' },
            ],
          },
        ],
      },
    };
    expect(cleanForCreate(pod, () => false).object.spec).toEqual({
      volumes: [{ name: 'data', emptyDir: {} }],
      containers: [{ name: 'c', volumeMounts: [{ name: 'data', mountPath: '/d' }] }],
    });
  });
});

describe('a write, as a merge patch', () => {
  it('sets changed fields, removes deleted ones with null, and carries a changed list whole', () => {
    const after = applyChanges(deployment, [
      { path: 'spec.replicas', old: 2, new: 3 },
      { path: 'metadata.annotations.team', old: 'a' },
      { path: 'spec.template.spec.containers[name=web].image', old: 'nginx:1', new: 'nginx:2' },
    ]);
    const changes = entries(deployment, after);
    const { patch, changed } = mergePatch(changes, after, '');
    expect(patch).toEqual({
      metadata: { annotations: { team: null } },
      spec: {
        replicas: 3,
        template: {
          spec: {
            containers: [
              { name: 'web', image: 'nginx:2' },
              { name: 'log', image: 'busybox' },
            ],
          },
        },
      },
    });
    expect(changed).toEqual(['metadata.annotations.team', 'spec.replicas', 'spec.template.spec.containers[name=web].image']);
  });

  it('leaves out status (unless the write was to the status subresource) and bookkeeping', () => {
    const changes = [
      { path: 'status.replicas', old: 2, new: 3 },
      { path: 'metadata.uid', old: 'a', new: 'b' },
      { path: 'metadata.labels.x', new: '1' },
    ];
    expect(mergePatch(changes, undefined, '').patch).toEqual({ metadata: { labels: { x: '1' } } });
    expect(mergePatch(changes, undefined, 'status').patch).toEqual({ status: { replicas: 3 } });
  });

  it('names a change inside a list it never saw whole, instead of guessing the list', () => {
    const { patch, unknownLists } = mergePatch([{ path: 'spec.template.spec.containers[name=web].image', old: 'a', new: 'b' }], undefined, '');
    expect(patch).toEqual({});
    expect(unknownLists).toEqual(['spec.template.spec.containers[name=web].image']);
  });
});

describe('redacted values', () => {
  it('become placeholders with their recorded length; Secret data is marked base64', () => {
    const secret = { kind: 'Secret', data: { password: '<redacted 6 bytes>', 'tls.crt': '<redacted 900 bytes, changed>' }, stringData: { t: '<redacted>' } };
    expect(findPlaceholders(secret, true)).toEqual([
      { path: 'data.password', bytes: 6, base64: true },
      { path: 'data["tls.crt"]', bytes: 900, base64: true },
      { path: 'stringData.t', bytes: 0, base64: false },
    ]);
    expect(findPlaceholders({ data: { note: 'plain <redacted text>' } }, false)).toEqual([]);
  });
});

describe('the file', () => {
  const file: ReenactFile = {
    header: {
      format: FORMAT,
      version: 1,
      cluster: 'kwok',
      from: '2026-12-06T09:00:00.000000Z',
      until: '2026-12-06T09:01:00.000000Z',
      exportedAt: '2026-12-06T10:00:00.000Z',
      namespaces: [],
      actors: { routineExcluded: true, include: [], exclude: [] },
      skipped: {},
    },
    actions: [
      {
        seq: 1,
        offsetMs: 0,
        time: '2026-12-06T09:00:00.000000Z',
        verb: 'create',
        ref: { apiVersion: 'v1', kind: 'ConfigMap', group: '', resource: 'configmaps', namespace: 'a', name: 'c' },
        object: { metadata: { name: 'c' } },
        recorded: { verb: 'create', user: 'alice' },
      },
      {
        seq: 2,
        offsetMs: 1500.25,
        time: '2026-12-06T09:00:01.500250Z',
        verb: 'delete',
        ref: { apiVersion: 'v1', kind: 'ConfigMap', group: '', resource: 'configmaps', namespace: 'a', name: 'c' },
        recorded: { verb: 'delete', user: 'alice' },
      },
    ],
  };
  const text = serializeReenact(file);

  it('reads back what was written: a header, one line per action, a trailer', () => {
    expect(text.trimEnd().split('\n')).toHaveLength(4);
    expect(parseReenact(text)).toMatchObject(file);
  });

  it('refuses a truncated, altered, foreign or newer file', () => {
    const lines = text.split('\n');
    expect(() => parseReenact(lines.slice(0, 3).join('\n') + '\n')).toThrow(/truncated \(no trailer line/);
    expect(() => parseReenact(text.slice(0, -10))).toThrow(/truncated \(its last line is incomplete\)/);
    expect(() => parseReenact([lines[0], lines[1], lines[3], ''].join('\n'))).toThrow(/trailer counts 2 actions, it holds 1/);
    expect(() => parseReenact(text.replace('"alice"', '"mallory"'))).toThrow(/checksum does not match/);
    expect(() => parseReenact('{"kind":"EventList"}\n')).toThrow(/not a kubetrail-reenact file/);
    expect(() => parseReenact(text.replace('"version":1', '"version":2'))).toThrow(/version 2 is not supported/);
    expect(() => parseReenact('')).toThrow(/empty/);
  });
});
