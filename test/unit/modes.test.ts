import { describe, expect, it } from 'vitest';
import { assemble } from '../../frontend-plugin/assemble.ts';
import { objectTags, toJaegerTrace, type JaegerSpan, type JaegerTrace } from '../../frontend-plugin/modes/jaeger-json.ts';
import type { ObjectNode } from '../../frontend-plugin/assemble.ts';
import type { SpanRecord } from '../../src/core/model.ts';
import { transforms } from '../../frontend-plugin/modes/index.ts';
import type { DisplayMode, Scope } from '../../frontend-plugin/trace-id.ts';
import { backendWithHistory, DC, keys, RSC, WINDOW_SEC, WS0, WS1 } from './read-path-fixture.ts';

const ID = 'ff21000000' + '0'.repeat(22);

async function show(display: DisplayMode, key: string, scope: Scope = 'full'): Promise<JaegerTrace> {
  const t = await assemble({ backend: backendWithHistory(), key, windows: [WS0, WS1], windowSec: WINDOW_SEC, scope });
  return toJaegerTrace(transforms[display](t, ID));
}

const byOp = (t: JaegerTrace, op: string): JaegerSpan => {
  const s = t.spans.find((x) => x.operationName === op);
  if (!s) throw new Error(`no span ${op} in ${t.spans.map((x) => x.operationName).join(', ')}`);
  return s;
};
const tag = (s: JaegerSpan, key: string) => s.tags.find((t) => t.key === key)?.value;
const roots = (t: JaegerTrace) => t.spans.filter((s) => s.references.length === 0);
const field = (fields: { key: string; value: unknown }[], key: string) => fields.find((f) => f.key === key)?.value;

function expectWellFormed(t: JaegerTrace): void {
  expect(t.traceID).toBe(ID);
  const ids = t.spans.map((s) => s.spanID);
  expect(new Set(ids).size).toBe(ids.length);
  expect(roots(t).length).toBeGreaterThanOrEqual(1);
  // every reference, not only the first, points up: following them never comes back
  const byId = new Map(t.spans.map((s) => [s.spanID, s]));
  const climb = (s: JaegerSpan, seen: Set<string>): void => {
    expect(seen.has(s.spanID)).toBe(false);
    for (const r of s.references) if (byId.has(r.spanID)) climb(byId.get(r.spanID)!, new Set([...seen, s.spanID]));
  };
  for (const s of t.spans) climb(s, new Set());
  for (const s of t.spans) {
    expect(s.traceID).toBe(ID);
    expect(s.spanID).toMatch(/^[0-9a-f]{16}$/);
    expect(t.processes[s.processID]).toBeDefined();
    for (const r of s.references) {
      expect(r).toMatchObject({ refType: 'CHILD_OF', traceID: ID });
      expect(ids).toContain(r.spanID);
    }
  }
  expect(JSON.stringify(t)).not.toContain('managedFields');
}

describe('display modes', () => {
  it('tracing: one span per object, the relation tree as references, events as logs', async () => {
    const t = await show('tracing', keys.podA1);
    expectWellFormed(t);
    expect(t.spans).toHaveLength(8);
    const d = byOp(t, 'deployments default/demo');
    expect(roots(t)[0]).toBe(d);
    expect(tag(d, 'cluster')).toBe('kwok');
    expect(tag(d, 'group')).toBe('apps');
    expect(tag(d, 'resource')).toBe('deployments');
    expect(tag(d, 'namespace')).toBe('default');
    expect(tag(d, 'name')).toBe('demo');
    expect(t.processes[d.processID]!.serviceName).toBe('kwok');

    const rs = byOp(t, 'replicasets default/demo-aaa');
    expect(rs.references[0]!.spanID).toBe(d.spanID);
    expect(tag(rs, 'link.class')).toBe('children');
    // the pod's node is its other parent: a root span of its own, and the pod's second reference
    const node = byOp(t, 'nodes node-1');
    expect(roots(t)).toEqual([d, node]);
    expect(byOp(t, 'pods default/demo-aaa-1').references.map((r) => r.spanID)).toEqual([rs.spanID, node.spanID]);

    // events in time order, audit field as Kelemetry writes it
    expect(d.logs.map((l) => field(l.fields, 'audit'))).toEqual(['admin create', `${DC} update status`, 'admin patch']);
    const ts = d.logs.map((l) => l.timestamp);
    expect([...ts].sort((a, b) => a - b)).toEqual(ts);
    expect(field(d.logs[0]!.fields, 'snapshot')).toContain('"kind":"Deployment"');
    expect(field(d.logs[1]!.fields, 'diff')).toBe('status.replicas 0 -> 2'); // managedFields line filtered
    expect(field(d.logs[1]!.fields, 'diff.verbose')).toBe('metadata.resourceVersion 100 -> 101');
    expect(d.startTime).toBe((WS0 + 10) * 1e6); // first event
    // issue 10: a parent covers its children — the last event in its subtree is the 409 on demo-aaa
    expect(d.startTime + d.duration).toBe((WS1 + 9) * 1e6 + 1000);

    const pod = byOp(t, 'pods default/demo-aaa-1');
    const scheduled = pod.logs.find((l) => field(l.fields, 'event') === 'Scheduled')!;
    expect(field(scheduled.fields, 'message')).toBe('Successfully assigned default/demo-aaa-1 to node-1');
    expect(pod.logs.map((l) => field(l.fields, 'audit')).filter(Boolean)).toEqual([`${RSC} create`, 'system:kube-scheduler create binding']);

    const conflict = rs.logs.find((l) => field(l.fields, 'error'))!;
    expect(field(conflict.fields, 'error')).toMatch(/^Conflict/);
    expect(field(conflict.fields, 'code')).toBe(409);
    expect(tag(rs, 'error')).toBe(true);
  });

  it('tree: the same object spans, events as child spans with all their tags', async () => {
    const t = await show('tree', keys.deploy, 'default');
    expectWellFormed(t);
    const d = roots(t)[0]!;
    expect(d.operationName).toBe('deployments default/demo');
    const children = t.spans.filter((s) => s.references[0]?.spanID === d.spanID);
    expect(children.map((s) => s.operationName).sort()).toEqual(
      ['create', 'patch', 'replicasets default/demo-aaa', 'replicasets default/demo-bbb', 'update status'].sort(),
    );
    const upd = byOp(t, 'update status');
    expect(tag(upd, 'user')).toBe(DC);
    expect(tag(upd, 'diff')).toBe('status.replicas 0 -> 2');
    expect(tag(upd, 'verb')).toBe('update');
    expect(byOp(t, 'update').tags).toEqual(expect.arrayContaining([expect.objectContaining({ key: 'error', value: true })]));
  });

  it('timeline: every event in scope directly under the searched object', async () => {
    const t = await show('timeline', keys.rsA, 'owned');
    expectWellFormed(t);
    const root = roots(t)[0]!;
    expect(root.operationName).toBe('replicasets default/demo-aaa');
    const events = t.spans.filter((s) => s !== root);
    expect(events.every((s) => s.references[0]!.spanID === root.spanID)).toBe(true);
    // RS: create + conflict; pods: 2 creates + binding + Scheduled event
    expect(events).toHaveLength(6);
    expect(events.map((e) => e.operationName)).toContain('create binding (pods default/demo-aaa-1)');
    const starts = events.map((e) => e.startTime);
    expect([...starts].sort((a, b) => a - b)).toEqual(starts);
  });

  it('grouped: one pseudo span per actor under each object', async () => {
    const t = await show('grouped', keys.deploy, 'default');
    expectWellFormed(t);
    const d = roots(t)[0]!;
    const groups = t.spans.filter((s) => s.references[0]?.spanID === d.spanID && tag(s, 'nestLevel') === 'group');
    expect(groups.map((g) => g.operationName).sort()).toEqual(['admin', DC].sort());
    const admin = groups.find((g) => g.operationName === 'admin')!;
    expect(t.spans.filter((s) => s.references[0]?.spanID === admin.spanID).map((s) => s.operationName)).toEqual(['create', 'patch']);
    expect(tag(admin, 'events')).toBe(2);
  });

  it('keeps span IDs unique in every mode and scope', async () => {
    for (const display of ['tracing', 'tree', 'timeline', 'grouped'] as DisplayMode[]) {
      for (const scope of ['default', 'full', 'ancestors', 'owned'] as Scope[]) {
        expectWellFormed(await show(display, keys.podA1, scope));
      }
    }
  });
});

describe("an object's uid and version in the display", () => {
  const object = { cluster: 'kwok', group: '', resource: 'pods', namespace: 'default', name: 'web' };
  const span = (kind: 'object' | 'event', startUs: number, attributes: Record<string, string>): SpanRecord => ({
    traceId: 't',
    spanId: `${kind}${startUs}`,
    kind,
    name: kind,
    startUs,
    endUs: startUs + 1,
    object,
    attributes: { nestLevel: kind, ...attributes },
  });
  const node = (objectSpans: SpanRecord[], events: SpanRecord[]): ObjectNode => ({
    key: 'k',
    object,
    objectSpans,
    events,
    links: [],
    children: [],
    otherParents: [],
  });
  const tags = (n: ObjectNode) => Object.fromEntries(objectTags(n).map((t) => [t.key, t.value]));

  it('come from its newest event (the object span holds neither), so a re-created object shows its new uid', () => {
    const n = node([span('object', 0, {})], [span('event', 1, { uid: 'old', version: 'v1' }), span('event', 2, { uid: 'new', version: 'v1' })]);
    expect(tags(n)).toMatchObject({ uid: 'new', version: 'v1' });
  });

  it('come from the object span when written before they moved to event spans', () => {
    const n = node([span('object', 0, { uid: 'u', version: 'v1' })], [span('event', 1, {})]);
    expect(tags(n)).toMatchObject({ uid: 'u', version: 'v1' });
  });
});
