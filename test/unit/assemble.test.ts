import { describe, expect, it } from 'vitest';
import { assemble, ObjectNotFoundError, type AssembledTrace, type ObjectNode } from '../../frontend-plugin/assemble.ts';
import { MemoryBackend } from '../helpers/memory-backend.ts';
import { ref, SyntheticTraces } from '../helpers/synthetic-backend.ts';
import type { Scope } from '../../frontend-plugin/trace-id.ts';
import { objectKey } from '../../src/core/model.ts';
import { at, backendWithHistory, keys, WINDOW_SEC, WS0, WS1 } from './read-path-fixture.ts';

const run = (key: string, scope: Scope, backend = backendWithHistory(), windows = [WS0, WS1]) =>
  assemble({ backend, key, windows, windowSec: WINDOW_SEC, scope });

const names = (ns: ObjectNode[]) => ns.map((n) => n.object.name).sort();
const find = (t: AssembledTrace, key: string) => t.nodes.find((n) => n.key === key)!;

function expectEachOnce(t: AssembledTrace): void {
  const all = t.nodes.map((n) => n.key);
  expect(new Set(all).size).toBe(all.length);
  // every node except the roots hangs under exactly one parent that is itself in the tree
  expect(t.roots[0]).toBe(t.root);
  for (const n of t.nodes) {
    if (t.roots.includes(n)) expect(n.parent).toBeUndefined();
    else expect(all).toContain(n.parent!.key);
  }
}

describe('assemble', () => {
  it('default scope: the object with its direct parents and children, rooted at the searched object', async () => {
    const t = await run(keys.rsA, 'default');
    expect(t.root.key).toBe(keys.rsA);
    expect(names(t.root.children)).toEqual(['demo', 'demo-aaa-1', 'demo-aaa-2']);
    expect(find(t, keys.deploy).relation).toEqual({ class: 'children', role: 'child' }); // RS is the Deployment's child
    expect(find(t, keys.podA1).relation).toEqual({ class: 'children', role: 'parent' });
    expect(t.nodes.map((n) => n.key)).not.toContain(keys.rsB);
    expect(t.nodes.map((n) => n.key)).not.toContain(keys.node1);
    expectEachOnce(t);
  });

  it('full tree: up to the top ancestor, then down to every descendant, each object once', async () => {
    const t = await run(keys.podA1, 'full');
    expect(t.root.key).toBe(keys.deploy);
    expect(names(t.nodes)).toEqual(['demo', 'demo-aaa', 'demo-aaa-1', 'demo-aaa-2', 'demo-bbb', 'demo-bbb-1', 'node-1', 'other-1']);
    // a pod reachable from its ReplicaSet and its node stays under the ReplicaSet (first path from the root)
    expect(find(t, keys.podB1).parent!.key).toBe(keys.rsB);
    // the pod's node is a parent too: a root of its own with its other pods, named as the pod's other parent
    expect(t.roots.map((r) => r.key)).toEqual([keys.deploy, keys.node1]);
    expect(names(find(t, keys.node1).children)).toEqual(['other-1']);
    expect(find(t, keys.podA1).otherParents.map((p) => p.node.key)).toEqual([keys.node1]);
    expect(find(t, keys.podB1).otherParents.map((p) => p.node.key)).toEqual([keys.node1]);
    expect(t.searched.key).toBe(keys.podA1);
    expect(t.warnings).toEqual([]);
    expectEachOnce(t);
  });

  it('ancestors: the chain up only, without siblings', async () => {
    const t = await run(keys.rsA, 'ancestors');
    expect(t.root.key).toBe(keys.deploy);
    expect(t.root.children.map((c) => c.key)).toEqual([keys.rsA]);
    expect(t.nodes).toHaveLength(2);

    // a pod has two parents, its ReplicaSet and its node: both drawn above it, none as its child
    const fromPod = await run(keys.podA1, 'ancestors');
    expect(fromPod.nodes.map((n) => n.object.name)).toEqual(['demo', 'demo-aaa', 'demo-aaa-1', 'node-1']);
    expect(fromPod.roots.map((r) => r.key)).toEqual([keys.deploy, keys.node1]);
    expect(find(fromPod, keys.rsA).children.map((c) => c.key)).toEqual([keys.podA1]);
    expect(find(fromPod, keys.podA1).children).toEqual([]);
    expect(find(fromPod, keys.podA1).otherParents.map((p) => p.node.key)).toEqual([keys.node1]);
    expectEachOnce(fromPod);
  });

  it('owned objects: a node lists the pods bound to it', async () => {
    const t = await run(keys.node1, 'owned');
    expect(t.root.key).toBe(keys.node1);
    expect(names(t.root.children)).toEqual(['demo-aaa-1', 'demo-bbb-1', 'other-1']);
    expect(t.nodes).toHaveLength(4);
    for (const c of t.root.children) expect(c.relation).toEqual({ class: 'node', role: 'parent' });
  });

  it('merges windows without duplicates even when every span was delivered twice', async () => {
    const t = await run(keys.deploy, 'owned');
    const d = find(t, keys.deploy);
    expect(d.objectSpans).toHaveLength(2);
    expect(d.events.map((e) => e.name)).toEqual(['create', 'update status', 'patch']);
    expect(names(d.children)).toEqual(['demo-aaa', 'demo-bbb']);
    expect(find(t, keys.rsA).events.map((e) => e.name)).toEqual(['create', 'update']);
    expectEachOnce(t);
  });

  it('shows only the windows asked for', async () => {
    const t = await run(keys.deploy, 'owned', backendWithHistory(), [WS0]);
    expect(names(t.nodes)).toEqual(['demo', 'demo-aaa', 'demo-aaa-1', 'demo-aaa-2']);
    expect(find(t, keys.deploy).events).toHaveLength(2);
  });

  it('is safe with cycles (an annotation link pointing back up)', async () => {
    const s = new SyntheticTraces(WINDOW_SEC);
    const a = ref('configmaps', 'default', 'a');
    const b = ref('configmaps', 'default', 'b');
    const c = ref('configmaps', 'default', 'c');
    s.link(a, b, 'annotation', at(WS0, 1));
    s.link(b, c, 'annotation', at(WS0, 2));
    s.link(c, a, 'annotation', at(WS0, 3));
    const backend = new MemoryBackend();
    backend.add(s.spans);
    for (const scope of ['default', 'full', 'ancestors', 'owned'] as Scope[]) {
      const t = await run(objectKey(b), scope, backend, [WS0]);
      expectEachOnce(t);
      expect(t.nodes.length).toBeLessThanOrEqual(3);
    }
    const full = await run(objectKey(b), 'full', backend, [WS0]);
    expect(names(full.nodes)).toEqual(['a', 'b', 'c']);
  });

  it('bounds the traversal and says so', async () => {
    const s = new SyntheticTraces(WINDOW_SEC);
    const rs = ref('replicasets', 'default', 'big', 'apps');
    for (let i = 0; i < 30; i++) s.link(rs, ref('pods', 'default', `big-${i}`), 'children', at(WS0, i));
    const backend = new MemoryBackend();
    backend.add(s.spans);
    const t = await assemble({ backend, key: objectKey(rs), windows: [WS0], windowSec: WINDOW_SEC, scope: 'owned', maxObjects: 10 });
    expect(t.nodes).toHaveLength(10);
    expect(t.warnings.join()).toMatch(/first 10/);
  });

  it('keeps an object whose own half of a link is missing', async () => {
    const s = new SyntheticTraces(WINDOW_SEC);
    const rs = ref('replicasets', 'default', 'x', 'apps');
    s.link(rs, ref('pods', 'default', 'x-1'), 'children', at(WS0, 1));
    const backend = new MemoryBackend();
    backend.add(s.spans.filter((sp) => sp.object.resource !== 'pods'));
    const t = await run(objectKey(rs), 'owned', backend, [WS0]);
    expect(names(t.nodes)).toEqual(['x', 'x-1']);
    expect(find(t, 'kwok//pods/default/x-1').objectSpans).toEqual([]);
  });

  it('fails clearly for an object without spans', async () => {
    await expect(run('kwok//pods/default/nope', 'default')).rejects.toBeInstanceOf(ObjectNotFoundError);
  });
});
