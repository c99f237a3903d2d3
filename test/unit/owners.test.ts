// Several owner references (issue 19): a ConfigMap owned by two Deployments, neither of them its
// controller, traced by the write path (pipeline → link spans) and read back (assemble → modes):
// it belongs to both Deployments' trees, and its ancestors show both Deployments as parents.
import { describe, expect, it } from 'vitest';
import { toResourceSpans } from '../../frontend-plugin/api-v3.ts';
import { assemble, type AssembledTrace } from '../../frontend-plugin/assemble.ts';
import { transforms } from '../../frontend-plugin/modes/index.ts';
import { toJaegerTrace, type JaegerTrace } from '../../frontend-plugin/modes/jaeger-json.ts';
import type { Scope } from '../../frontend-plugin/trace-id.ts';
import { rawTraceId, windowStartSec } from '../../src/core/ids.ts';
import { Attr, objectKey, type ObjectRef } from '../../src/core/model.ts';
import { Pipeline } from '../../src/pipeline/pipeline.ts';
import { MemoryBackend } from '../helpers/memory-backend.ts';
import { auditEvent, BASE_MS } from './webhook.fixtures.ts';
import { uiConfig } from '../../frontend-plugin/server.ts';
import { uiTree } from '../../frontend-plugin/ui-tree/wire.ts';

const C = 'kwok';
const WINDOW = 1800;
const ref = (resource: string, name: string, group = ''): ObjectRef => ({ cluster: C, group, resource, namespace: 'shop', name });
const dep = (name: string) => ref('deployments', name, 'apps');
const KEY = { a: objectKey(dep('a')), b: objectKey(dep('b')), cm: objectKey(ref('configmaps', 'shared')) };

/** Deployments a and b, then ConfigMap shared owned by both (`controller` names the controlling one, if any). */
function traced(controller?: 'a' | 'b'): MemoryBackend {
  const p = new Pipeline();
  const backend = new MemoryBackend();
  const write = (e: Record<string, unknown>) => backend.add(p.auditEvent(e, C).spans);
  for (const [i, name] of ['a', 'b'].entries()) {
    write(
      auditEvent({
        verb: 'create',
        group: 'apps',
        resource: 'deployments',
        kind: 'Deployment',
        namespace: 'shop',
        name,
        at: i,
        object: { spec: { replicas: 1 } },
      }),
    );
  }
  const owner = (name: string) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    name,
    uid: `uid-${name}`,
    ...(controller === name ? { controller: true } : {}),
  });
  const metadata = { name: 'shared', namespace: 'shop', uid: 'uid-shared', ownerReferences: [owner('a'), owner('b')] };
  write(
    auditEvent({ verb: 'create', resource: 'configmaps', kind: 'ConfigMap', namespace: 'shop', name: 'shared', at: 2, object: { metadata, data: { k: '1' } } }),
  );
  write(
    auditEvent({ verb: 'update', resource: 'configmaps', kind: 'ConfigMap', namespace: 'shop', name: 'shared', at: 3, object: { metadata, data: { k: '2' } } }),
  );
  return backend;
}

// The built-in UI's model (a browser module without type declarations, imported by URL).
const { applyConfig, linkTree, objectRows } = await import(new URL('../../frontend-plugin/ui/model.js', import.meta.url).href);
// the kind table comes from the server, as in the browser (GET /api/ui-config)
applyConfig(uiConfig());

const run = (backend: MemoryBackend, key: string, scope: Scope): Promise<AssembledTrace> =>
  assemble({ backend, key, windows: [windowStartSec(BASE_MS * 1000, WINDOW)], windowSec: WINDOW, scope });
const keysOf = (t: AssembledTrace) => t.nodes.map((n) => n.key);
const rootSpans = (j: JaegerTrace) => j.spans.filter((s) => s.references.length === 0);
const spanOf = (j: JaegerTrace, op: string) => j.spans.find((s) => s.operationName === op)!;

describe('an object with several owner references', () => {
  it("is in every owner's full tree, under that owner, not only in the controller's", async () => {
    const backend = traced();
    for (const owner of [KEY.a, KEY.b]) {
      const t = await run(backend, owner, 'full');
      expect(keysOf(t)).toContain(KEY.cm);
      const cm = t.nodes.find((n) => n.key === KEY.cm)!;
      expect(cm.parent?.key).toBe(owner);
      expect(cm.relation).toEqual({ class: 'children', role: 'parent' });
      expect(cm.events.map((e) => e.name)).toEqual(['create', 'update']);
    }
  });

  it('ancestors: both owners are drawn as parents, each a root, never as a child of the ConfigMap', async () => {
    const backend = traced();
    for (const scope of ['ancestors', 'full'] as Scope[]) {
      const t = await run(backend, KEY.cm, scope);
      expect(t.roots.map((r) => r.key)).toEqual([KEY.a, KEY.b]);
      const cm = t.nodes.find((n) => n.key === KEY.cm)!;
      expect(cm.parent?.key).toBe(KEY.a);
      expect(cm.otherParents.map((p) => p.node.key)).toEqual([KEY.b]);
      expect(cm.children).toEqual([]);

      // Jaeger JSON: two root spans; the ConfigMap nests under a and references b as a parent too
      for (const mode of ['tracing', 'tree', 'grouped'] as const) {
        const shown = transforms[mode](t, `ff22000000${'0'.repeat(22)}`);
        const j = toJaegerTrace(shown);
        expect(rootSpans(j).map((s) => s.operationName)).toEqual(['deployments shop/a', 'deployments shop/b']);
        const refs = spanOf(j, 'configmaps shop/shared').references;
        expect(refs.map((r) => [r.refType, r.spanID])).toEqual([
          ['CHILD_OF', spanOf(j, 'deployments shop/a').spanID],
          ['CHILD_OF', spanOf(j, 'deployments shop/b').spanID],
        ]);
        // API v3 (OTLP JSON): the parent as parentSpanId, the other owner as a link, as Jaeger translates references
        const otlp = toResourceSpans(shown).flatMap((r) => r.scopeSpans.flatMap((x) => x.spans));
        const cm = otlp.find((x) => x.name === 'configmaps shop/shared')!;
        expect(cm.parentSpanId).toBe(spanOf(j, 'deployments shop/a').spanID);
        expect(cm.links).toEqual([
          {
            traceId: j.traceID,
            spanId: spanOf(j, 'deployments shop/b').spanID,
            attributes: [{ key: 'opentracing.ref_type', value: { stringValue: 'child_of' } }],
          },
        ]);
      }
    }
  });

  it('the controlling owner is marked on the link and its chain is climbed first', async () => {
    const backend = traced('b');
    const ws = windowStartSec(BASE_MS * 1000, WINDOW);
    const links = (await backend.getRawTrace(rawTraceId(KEY.cm, ws)))
      .filter((s) => s.kind === 'link')
      .map((s) => [s.attributes[Attr.linkKey], s.attributes[Attr.linkController] ?? false]);
    expect(links.sort()).toEqual([
      [KEY.a, false],
      [KEY.b, true],
    ]);
    const t = await run(backend, KEY.cm, 'ancestors');
    expect(t.roots.map((r) => r.key)).toEqual([KEY.b, KEY.a]);
    expect(t.nodes.find((n) => n.key === KEY.cm)!.parent?.key).toBe(KEY.b);
  });

  it('the built-in UI: the controlling owner names the trace, the other owner is a top row holding a row for the ConfigMap', async () => {
    // b controls it; a was created first, so a time order alone would put a on top
    const t = await run(traced('b'), KEY.cm, 'ancestors');
    const tree = linkTree(JSON.parse(JSON.stringify(uiTree(transforms.tracing(t, `ff22000000${'0'.repeat(22)}`)))));
    type Row = { kind: string; label: string; depth: number; synthetic?: boolean; relation: { key: string }; events: unknown[]; alsoOf?: Row };
    expect(tree.flat.map((n: Row) => `${'  '.repeat(n.depth)}${n.kind} ${n.label}${n.synthetic ? ' (also)' : ''}`)).toEqual([
      'Deployment shop/b',
      '  ConfigMap shop/shared',
      'Deployment shop/a',
      '  ConfigMap shop/shared (also)',
    ]);
    const [, full, , also] = tree.flat as Row[];
    expect(full!.events).toHaveLength(2);
    expect(also!.relation.key).toBe('also');
    expect(tree.flat.map((n: Row) => n.relation.key)).toEqual(['root', 'children', 'top', 'also']);
    expect(also!.alsoOf).toBe(full);
    expect(objectRows(tree)).toHaveLength(3);
  });
});
