// The UI's pure modules (frontend-plugin/ui/*.js run in the browser and in Node alike): what a
// user reads in the trace view comes from these transformations of the query server's JSON.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromJaegerTrace, type JaegerTrace } from '../../frontend-plugin/modes/jaeger-json.ts';
import { uiConfig } from '../../frontend-plugin/server.ts';
import { toEvent } from '../../frontend-plugin/ui-tree/event.ts';
import { uiTree } from '../../frontend-plugin/ui-tree/wire.ts';

// Browser modules without type declarations: imported by URL so the type checker leaves them be.
const ui = (file: string) => import(new URL(`../../frontend-plugin/ui/${file}`, import.meta.url).href);
const { applyConfig, linkTree, parseResourceInput, parseTraceId, withMode } = await ui('model.js');
// The trace view's tree as the query server builds it (GET /api/ui/trace/:id) and the UI links it
const buildTree = (v1: JaegerTrace) => linkTree(plain(uiTree(fromJaegerTrace(v1))));
const plain = (x: unknown) => JSON.parse(JSON.stringify(x));
// the kind table comes from the server, as in the browser (GET /api/ui-config)
applyConfig(uiConfig());
const { parseDiffLine } = await ui('events.js');
const { toYaml, snapshotToYaml } = await ui('yaml.js');

const captured = (mode: string) => JSON.parse(readFileSync(new URL(`../fixtures/ui/captured-${mode}.json`, import.meta.url), 'utf8')).data[0];

describe('UI model', () => {
  it('reads and swaps the mode digits of a kubetrail trace ID', () => {
    const id = 'ff20000000a7c3e91b2d4f6000000001';
    expect(parseTraceId(id)).toEqual({ mode: 'tracing', scope: 'default' });
    expect(withMode(id, 'tree', 'owned objects')).toBe('ff04000000a7c3e91b2d4f6000000001');
    expect(parseTraceId('0123456789abcdef0123456789abcdef')).toBeNull();
  });

  it('turns span-log fields into who/what/code, with or without a user', () => {
    const e = toEvent(1, { audit: 'system:serviceaccount:kube-system:deployment-controller update status', code: 409, error: 'Conflict: modified' });
    expect(e).toMatchObject({
      user: 'system:serviceaccount:kube-system:deployment-controller',
      verb: 'update',
      subresource: 'status',
      code: 409,
      level: 'error',
      kind: 'update',
    });
    expect(toEvent(1, { audit: 'patch scale' })).toMatchObject({ user: '', verb: 'patch', subresource: 'scale' });
    const ev = toEvent(1, { event: 'FailedScheduling', message: '0/2 nodes', 'event.type': 'Warning', 'event.component': 'default-scheduler' });
    expect(ev).toMatchObject({ isK8sEvent: true, who: 'default-scheduler', what: 'FailedScheduling', level: 'warning', kind: 'event' });
    // every span log carries an `event` name (what the Jaeger UI titles it with): a write's name is
    // not a Kubernetes Event reason, whatever its fields
    const write = toEvent(1, {
      audit: 'kwok-admin patch status',
      user: 'kwok-admin',
      verb: 'patch',
      subresource: 'status',
      event: 'kwok-admin patch status',
      source: 'audit',
    });
    expect(write).toMatchObject({ isK8sEvent: false, kind: 'update', what: 'patch status', reason: '' });
    expect(toEvent(1, { event: 'snapshot', source: 'watch' })).toMatchObject({ isK8sEvent: false, reason: '' });
    expect(toEvent(1, { event: 'Scheduled', source: 'event', 'event.component': 'default-scheduler' })).toMatchObject({ isK8sEvent: true, what: 'Scheduled' });
    // event spans (tree/timeline modes) carry error=true and error.message
    expect(toEvent(1, { verb: 'update', user: 'u', error: true, 'error.message': 'Conflict' }).error).toBe('Conflict');
  });

  it('builds the object tree of a real query-server answer (tracing mode)', () => {
    const tree = buildTree(captured('tracing'));
    expect(tree.flat.map((n: { kind: string; label: string; depth: number }) => `${'  '.repeat(n.depth)}${n.kind} ${n.label}`)).toEqual([
      'Deployment default/demo',
      '  ReplicaSet default/demo-aaa',
      '  ReplicaSet default/demo-bbb',
    ]);
    expect(tree.flat[1].relation.key).toBe('children');
    expect(tree.flat[1].errors).toBe(1);
    expect(tree.eventCount).toBe(6);
  });

  it('shows events as rows in tree mode and keeps their marks on the object row', () => {
    const tree = buildTree(captured('tree'));
    const deploy = tree.flat[0];
    expect(deploy.children.filter((c: { isEvent: boolean }) => c.isEvent).map((c: { label: string }) => c.label)).toEqual([
      'create — admin',
      'update status — deployment-controller',
      'patch — admin',
    ]);
    expect(deploy.events).toHaveLength(3);
    expect(tree.eventCount).toBe(6);
  });

  it('accepts kinds, plural resources, short names and groups in the search', () => {
    expect(parseResourceInput('Deployment')).toEqual({ resource: 'deployments', group: undefined });
    expect(parseResourceInput('deploy')).toEqual({ resource: 'deployments', group: undefined });
    expect(parseResourceInput('certificates.cert-manager.io')).toEqual({ resource: 'certificates', group: 'cert-manager.io' });
  });
});

describe('UI diff and YAML rendering', () => {
  it('parses diff lines into changes, additions and removals', () => {
    expect(parseDiffLine('spec.replicas 2 -> 4')).toMatchObject({ path: 'spec.replicas', old: '2', new: '4', op: 'change' });
    expect(parseDiffLine('status.podIP <none> -> 10.0.0.1')).toMatchObject({ op: 'add', new: '10.0.0.1' });
    expect(parseDiffLine('metadata.labels.x a b -> <none>')).toMatchObject({ op: 'remove', old: 'a b' });
  });

  it('renders snapshots as block YAML, quoting what YAML would misread', async () => {
    const yaml = await toYaml({
      kind: 'Deployment',
      metadata: { name: 'demo', labels: { 'app.kubernetes.io/name': 'demo' }, resourceVersion: '1001', annotations: {} },
      spec: { replicas: 2, paused: false, template: { spec: { containers: [{ name: 'nginx', image: 'nginx:1.27', args: ['--port', '80'] }] } } },
      data: { script: 'echo hi\necho bye\n', on: 'yes', empty: '' },
    });
    expect(yaml).toBe(
      [
        'kind: Deployment',
        'metadata:',
        '  name: demo',
        '  labels:',
        '    app.kubernetes.io/name: demo',
        '  resourceVersion: "1001"',
        '  annotations: {}',
        'spec:',
        '  replicas: 2',
        '  paused: false',
        '  template:',
        '    spec:',
        '      containers:',
        '      - name: nginx',
        '        image: nginx:1.27',
        '        args:',
        '        - --port',
        '        - "80"',
        'data:',
        '  script: |',
        '    echo hi',
        '    echo bye',
        '  "on": "yes"',
        '  empty: ""',
        '',
      ].join('\n'),
    );
    expect(await snapshotToYaml('not json')).toBe('not json');
  });
});
