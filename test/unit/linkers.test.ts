import { describe, expect, it } from 'vitest';
import { findLinks, linkers } from '../../linkers/index.ts';
import { Pipeline } from '../../src/pipeline/pipeline.ts';
import { Attr, objectKey } from '../../src/core/model.ts';
import type { ObjectRef, SpanRecord } from '../../src/core/model.ts';
import { linkSpanId, objectSpanId, rawTraceId, windowStartSec } from '../../src/core/ids.ts';
import { fx } from './audit-fixtures.ts';

const C = 'kwok';
const ref = (resource: string, name: string, namespace = 'default', group = ''): ObjectRef => ({ cluster: C, group, resource, namespace, name });
const linkSpans = (spans: SpanRecord[], owner: string) => spans.filter((s) => s.kind === 'link' && objectKey(s.object) === owner);

describe('linkers', () => {
  it('owner reference: the controller owner is the parent (class children), marked as the controller', () => {
    const pod = fx('pod-create-generatename').responseObject;
    expect(findLinks(pod, ref('pods', pod.metadata.name))).toContainEqual({
      target: ref('replicasets', 'web-7d9f8b6c5d', 'default', 'apps'),
      role: 'parent',
      class: 'children',
      controller: true,
    });
  });

  it('owner reference: every owner is a parent, controlling or not; broken entries are skipped', () => {
    const owners = [
      { apiVersion: 'apps/v1', kind: 'Deployment', name: 'a' },
      { apiVersion: 'apps/v1', kind: 'Deployment', name: 'b', controller: false },
      { apiVersion: 'v1', kind: 'Node', name: 'n1', controller: true },
      { apiVersion: 'v1', kind: 'ConfigMap' },
      null,
    ];
    expect(findLinks({ metadata: { ownerReferences: owners } } as never, ref('configmaps', 'shared'))).toEqual([
      { target: ref('deployments', 'a', 'default', 'apps'), role: 'parent', class: 'children' },
      { target: ref('deployments', 'b', 'default', 'apps'), role: 'parent', class: 'children' },
      { target: ref('nodes', 'n1', ''), role: 'parent', class: 'children', controller: true },
    ]);
  });

  it('pod → node from spec.nodeName and from a Binding', () => {
    const running = fx('pod-status-patch-kwok').responseObject;
    expect(findLinks(running, ref('pods', running.metadata.name))).toContainEqual({ target: ref('nodes', 'kwok-node-0', ''), role: 'parent', class: 'node' });
    const binding = fx('pod-binding-scheduler').requestObject;
    expect(findLinks(binding, ref('pods', running.metadata.name))).toEqual([{ target: ref('nodes', 'kwok-node-0', ''), role: 'parent', class: 'node' }]);
  });

  it('parent annotation: kubetrail.io/parent (other cluster or same) and Kelemetry parent-link', () => {
    const r = ref('configmaps', 'c');
    expect(findLinks({ metadata: { annotations: { 'kubetrail.io/parent': 'hub/apps/deployments/ns/x' } } }, r)).toEqual([
      { target: { cluster: 'hub', group: 'apps', resource: 'deployments', namespace: 'ns', name: 'x' }, role: 'parent', class: 'annotation' },
    ]);
    expect(findLinks({ metadata: { annotations: { 'kubetrail.io/parent': '/nodes//n1' } } }, r)[0]!.target).toEqual(ref('nodes', 'n1', ''));
    const k = JSON.stringify({
      cluster: 'core',
      group: 'podseidon.kubewharf.io',
      version: 'v1alpha1',
      resource: 'podprotectors',
      namespace: 'ns',
      name: 'ppr',
      uid: 'u',
    });
    expect(findLinks({ metadata: { annotations: { 'kelemetry.kubewharf.io/parent-link': k } } }, r)[0]!.target).toEqual({
      cluster: 'core',
      group: 'podseidon.kubewharf.io',
      resource: 'podprotectors',
      namespace: 'ns',
      name: 'ppr',
    });
    expect(findLinks({ metadata: { annotations: { 'kubetrail.io/parent': 'garbage', 'kelemetry.kubewharf.io/parent-link': '{' } } }, r)).toEqual([]);
  });

  it('endpointslice → service, PVC → PV, Helm release', () => {
    const es = ref('endpointslices', 'web-abc', 'default', 'discovery.k8s.io');
    expect(findLinks({ metadata: { labels: { 'kubernetes.io/service-name': 'web' } } }, es)).toEqual([
      { target: ref('services', 'web'), role: 'parent', class: 'service' },
    ]);
    expect(findLinks({ spec: { volumeName: 'pv-1' } }, ref('persistentvolumeclaims', 'data'))).toEqual([
      { target: ref('persistentvolumes', 'pv-1', ''), role: 'child', class: 'volume' },
    ]);
    const helm = {
      metadata: {
        labels: { 'app.kubernetes.io/managed-by': 'Helm' },
        annotations: { 'meta.helm.sh/release-name': 'shop', 'meta.helm.sh/release-namespace': 'apps' },
      },
    };
    expect(findLinks(helm, ref('services', 'shop-web'))).toEqual([
      { target: { cluster: C, group: 'helm.sh', resource: 'releases', namespace: 'apps', name: 'shop' }, role: 'parent', class: 'helm' },
    ]);
  });

  it('pod → mounted Secrets/ConfigMaps/PVCs are its children (class uses), kube-root-ca.crt excluded', () => {
    const pod = fx('pod-create-generatename').responseObject;
    pod.spec.volumes.push({ name: 'd', persistentVolumeClaim: { claimName: 'data' } });
    pod.spec.containers[0].envFrom = [{ configMapRef: { name: 'env-cm' } }];
    const uses = findLinks(pod, ref('pods', pod.metadata.name))
      .filter((l) => l.class === 'uses')
      .map((l) => `${l.target.resource}/${l.target.name}:${l.role}`);
    expect(uses.sort()).toEqual([
      'configmaps/env-cm:child',
      'configmaps/web-config:child',
      'persistentvolumeclaims/data:child',
      'secrets/db-credentials:child',
    ]);
  });

  it('a throwing linker does not stop the others', () => {
    const boom = () => {
      throw new Error('x');
    };
    const pod = fx('pod-status-patch-kwok').responseObject;
    expect(findLinks(pod, ref('pods', pod.metadata.name), [boom, ...linkers]).length).toBeGreaterThan(0);
  });
});

describe('link spans', () => {
  it("a pod's trace has a link span to its node and the node's trace a mirrored one", () => {
    const p = new Pipeline();
    p.auditEvent(fx('pod-create-generatename'), C);
    const raw = fx('pod-binding-scheduler');
    const spans = p.auditEvent(raw, C).spans;
    const podKey = 'kwok//pods/default/web-7d9f8b6c5d-x2k9p';
    const nodeKey = 'kwok//nodes//kwok-node-0';
    const t = Date.parse(raw.requestReceivedTimestamp) * 1000;
    const ws = windowStartSec(t, 1800);
    const [podLink] = linkSpans(spans, podKey).filter((s) => s.attributes[Attr.linkClass] === 'node');
    expect(podLink).toMatchObject({
      traceId: rawTraceId(podKey, ws),
      spanId: linkSpanId(podKey, nodeKey, 'node', ws),
      parentSpanId: objectSpanId(podKey, ws),
      name: 'link node',
      startUs: t,
      endUs: (ws + 1800) * 1e6,
    });
    expect(podLink!.attributes).toMatchObject({ [Attr.linkRole]: 'parent', [Attr.linkKey]: nodeKey, [Attr.nestLevel]: 'link' });
    const [nodeLink] = linkSpans(spans, nodeKey);
    expect(nodeLink).toMatchObject({
      traceId: rawTraceId(nodeKey, ws),
      spanId: linkSpanId(nodeKey, podKey, 'node', ws),
      parentSpanId: objectSpanId(nodeKey, ws),
    });
    expect(nodeLink!.attributes).toMatchObject({ [Attr.linkRole]: 'child', [Attr.linkKey]: podKey, [Attr.linkClass]: 'node' });
    // The node had no event in this window: its object span is emitted so its trace exists.
    expect(spans.find((s) => s.kind === 'object' && objectKey(s.object) === nodeKey)).toMatchObject({ spanId: objectSpanId(nodeKey, ws), name: 'nodes' });
  });

  it('link spans are emitted once per (pair, class, window) and again in a new window', () => {
    const p = new Pipeline({ windowSec: 60 });
    const a = p.auditEvent(fx('pod-status-patch-kwok'), C).spans;
    expect(a.filter((s) => s.kind === 'link' && s.attributes[Attr.linkClass] === 'node')).toHaveLength(2);
    const again = fx('pod-status-patch-kwok');
    again.auditID = 'x-2';
    expect(p.auditEvent(again, C).spans.filter((s) => s.kind === 'link')).toHaveLength(0);
    const later = fx('pod-status-patch-kwok');
    later.auditID = 'x-3';
    later.requestReceivedTimestamp = later.stageTimestamp = '2025-06-01T10:05:00.000000Z';
    const l = p.auditEvent(later, C).spans;
    expect(l.filter((s) => s.kind === 'link' && s.attributes[Attr.linkClass] === 'node')).toHaveLength(2);
    expect(l.filter((s) => s.kind === 'object')).toHaveLength(l.filter((s) => s.kind === 'link').length / 2 + 1);
  });

  it('a change of node inside a window adds the new link', () => {
    const p = new Pipeline();
    p.auditEvent(fx('pod-status-patch-kwok'), C);
    const moved = fx('pod-status-patch-kwok');
    moved.auditID = 'moved';
    moved.responseObject.spec.nodeName = 'kwok-node-9';
    moved.responseObject.metadata.resourceVersion = '1050';
    const spans = p.auditEvent(moved, C).spans;
    expect(spans.filter((s) => s.kind === 'link').map((s) => s.attributes[Attr.linkKey])).toContain('kwok//nodes//kwok-node-9');
  });
});
