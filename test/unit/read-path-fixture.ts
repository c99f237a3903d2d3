// A small cluster history for the read-path tests: Deployment demo → ReplicaSets demo-aaa (2 pods)
// and demo-bbb (1 pod), nodes node-1 (demo-aaa-1, demo-bbb-1, other-1) and node-2 (demo-aaa-2),
// across two 30-minute windows, with every span written twice (at-least-once delivery).
import { MemoryBackend } from '../helpers/memory-backend.ts';
import { ref, SyntheticTraces } from '../helpers/synthetic-backend.ts';
import { Attr, objectKey } from '../../src/core/model.ts';

export const WINDOW_SEC = 1800;
export const WS0 = 944_444 * WINDOW_SEC; // 2023-11-14T21:00:00Z
export const WS1 = WS0 + WINDOW_SEC;
export const at = (ws: number, sec: number): number => (ws + sec) * 1e6;

export const deploy = ref('deployments', 'default', 'demo', 'apps');
export const rsA = ref('replicasets', 'default', 'demo-aaa', 'apps');
export const rsB = ref('replicasets', 'default', 'demo-bbb', 'apps');
export const podA1 = ref('pods', 'default', 'demo-aaa-1');
export const podA2 = ref('pods', 'default', 'demo-aaa-2');
export const podB1 = ref('pods', 'default', 'demo-bbb-1');
export const other1 = ref('pods', 'default', 'other-1');
export const node1 = ref('nodes', '', 'node-1');
export const node2 = ref('nodes', '', 'node-2');

export const DC = 'system:serviceaccount:kube-system:deployment-controller';
export const RSC = 'system:serviceaccount:kube-system:replicaset-controller';

export const keys = {
  deploy: objectKey(deploy),
  rsA: objectKey(rsA),
  rsB: objectKey(rsB),
  podA1: objectKey(podA1),
  podA2: objectKey(podA2),
  podB1: objectKey(podB1),
  other1: objectKey(other1),
  node1: objectKey(node1),
  node2: objectKey(node2),
};

export function history(): SyntheticTraces {
  const t = new SyntheticTraces(WINDOW_SEC);
  t.objectSpan(node1, WS0);
  t.objectSpan(node2, WS0);
  t.audit(deploy, at(WS0, 10), 'admin', 'create', { [Attr.snapshot]: '{"kind":"Deployment","spec":{"replicas":2}}' });
  t.audit(rsA, at(WS0, 11), DC, 'create');
  t.link(deploy, rsA, 'children', at(WS0, 11));
  t.audit(deploy, at(WS0, 12), DC, 'update', {
    [Attr.subresource]: 'status',
    [Attr.diff]: 'status.replicas 0 -> 2\nmetadata.managedFields.0.time 10:00 -> 10:01',
    [Attr.diffVerbose]: 'metadata.resourceVersion 100 -> 101',
  });
  for (const [i, pod] of [podA1, podA2].entries()) {
    t.audit(pod, at(WS0, 13 + i), RSC, 'create');
    t.link(rsA, pod, 'children', at(WS0, 13 + i));
  }
  t.audit(podA1, at(WS0, 20), 'system:kube-scheduler', 'create', { [Attr.subresource]: 'binding' });
  t.link(node1, podA1, 'node', at(WS0, 20));
  t.link(node2, podA2, 'node', at(WS0, 21));
  t.event(podA1, at(WS0, 20), 'ev-1/1', 'event Scheduled', {
    [Attr.source]: 'event',
    [Attr.eventReason]: 'Scheduled',
    [Attr.eventMessage]: 'Successfully assigned default/demo-aaa-1 to node-1',
    [Attr.eventComponent]: 'default-scheduler',
    [Attr.eventType]: 'Normal',
  });
  t.audit(other1, at(WS0, 30), 'admin', 'create');
  t.link(node1, other1, 'node', at(WS0, 31));
  // second window: a rollout to demo-bbb, and a conflict
  t.audit(deploy, at(WS1, 5), 'admin', 'patch', { [Attr.diff]: 'spec.template.spec.containers[app].image nginx:1 -> nginx:2' });
  t.audit(rsB, at(WS1, 6), DC, 'create');
  t.link(deploy, rsB, 'children', at(WS1, 6));
  t.link(deploy, rsA, 'children', at(WS1, 6)); // still owned: the link is mirrored in every window
  t.audit(podB1, at(WS1, 7), RSC, 'create');
  t.link(rsB, podB1, 'children', at(WS1, 7));
  t.link(node1, podB1, 'node', at(WS1, 8));
  t.event(
    rsA,
    at(WS1, 9),
    'audit-conflict',
    'update',
    {
      [Attr.source]: 'audit',
      [Attr.user]: DC,
      [Attr.verb]: 'update',
      [Attr.code]: 409,
    },
    'Conflict: the object has been modified; please apply your changes to the latest version',
  );
  return t;
}

export function backendWithHistory(): MemoryBackend {
  const b = new MemoryBackend();
  const spans = history().spans;
  b.add(spans);
  b.add(spans.map((s) => ({ ...s }))); // redelivered
  return b;
}
