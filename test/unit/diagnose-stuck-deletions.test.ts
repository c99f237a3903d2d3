// stuck-deletions over hand-built histories: objects held Terminating by a finalizer nobody removes
// (named, with who added it), a namespace held by such an object, a foreground deletion waiting on
// a dependent — and beside them the normal cases it must leave alone (a finalizer removed in time,
// an ordinary delete).
import { describe, expect, it } from 'vitest';
import { Attr, type ObjectRef, type SpanRecord } from '../../src/core/model.ts';
import { buildReport } from '../../frontend-plugin/diagnose/report.ts';
import { compactSpan } from '../../src/core/facts.ts';
import type { Finding } from '../../frontend-plugin/diagnose/types.ts';
import { at, DC, GC, History, ref, conditionLine } from './diagnose-fixture.ts';

const NSC = 'system:serviceaccount:kube-system:namespace-controller';
const HOLD = 'example.com/hold';
const iso = (sec: number): string => new Date(at(sec) / 1000).toISOString();

const stuck = (h: History, endSec: number, deletionTimeout?: number): Finding[] =>
  buildReport(h.spans, {
    startUs: at(0),
    endUs: at(endSec),
    ...(deletionTimeout ? { thresholds: { deletionTimeoutSec: deletionTimeout } } : {}),
  }).findings.filter((f) => f.detector === 'stuck-deletions');

/**
 * A delete answered with the object still there: deletionTimestamp set, its finalizers left. A
 * deletecollection answers with the items as listed before: no deletionTimestamp on the first one.
 */
function heldDelete(h: History, o: ObjectRef, sec: number, user: string, finalizers: string[], o2: { spec?: string[]; verb?: string } = {}): SpanRecord {
  const deleting = o2.verb === 'deletecollection' ? {} : { deletionTimestamp: iso(sec) };
  const snap = { metadata: { name: o.name, ...deleting, ...(finalizers.length ? { finalizers } : {}) }, ...(o2.spec ? { spec: { finalizers: o2.spec } } : {}) };
  return h.write(o, sec, user, o2.verb ?? 'delete', { [Attr.code]: 200, [Attr.snapshot]: JSON.stringify(snap) });
}

describe('stuck-deletions', () => {
  it('names the finalizer that holds a deleted ConfigMap and who added it; a finalizer removed in time and an ordinary delete are fine', () => {
    const h = new History();
    const cm = ref('configmaps', 'demo', 'cm');
    h.create(cm, 0, 'alice', { metadata: { name: 'cm', finalizers: [HOLD] } });
    heldDelete(h, cm, 10, 'bob', [HOLD]);
    // normal: the controller that owns the finalizer removes it 2 s after the delete
    const ok = ref('configmaps', 'demo', 'ok');
    h.create(ok, 0, 'alice', { metadata: { name: 'ok', finalizers: [HOLD] } });
    heldDelete(h, ok, 10, 'bob', [HOLD]);
    h.update(ok, 12, 'hold-controller', `metadata.finalizers ["${HOLD}"] -> <none>`, { [Attr.verb]: 'patch' });
    // normal: an ordinary delete (no finalizers, answered with a Status)
    const plain = ref('configmaps', 'demo', 'plain');
    h.create(plain, 0, 'alice', { metadata: { name: 'plain' } });
    h.del(plain, 10, 'bob');
    // a finalizer added by a patch: that patch is the cause
    const patched = ref('configmaps', 'demo', 'patched');
    h.create(patched, 0, 'alice', { metadata: { name: 'patched' } });
    h.update(patched, 5, 'carol', `metadata.finalizers <none> -> ["${HOLD}"]`, { [Attr.verb]: 'patch' });
    h.del(patched, 10, 'bob'); // no snapshot read back: the finalizers known so far decide

    const fs = stuck(h, 100);
    expect(fs.map((f) => f.objects[0]!.name).sort()).toEqual(['cm', 'patched']);
    const f = fs.find((x) => x.objects[0]!.name === 'cm')!;
    expect(f).toMatchObject({
      severity: 'warning',
      objects: [cm],
      actors: ['alice', 'bob'],
      cause: { actor: 'alice', verb: 'create', object: cm, time: iso(0) },
      data: { finalizers: [HOLD], deletedBy: 'bob', stillThere: true, terminatingSec: 90, graceSec: 60 },
    });
    expect(f.title).toBe(`ConfigMap demo/cm is stuck Terminating for 90 s: finalizer ${HOLD} (added by alice at ${iso(0)}) was never removed`);
    expect(f.chain).toEqual([
      'ConfigMap demo/cm still Terminating 90 s after its delete',
      `bob asked for its deletion at ${iso(10)}; finalizer ${HOLD} held it`,
      `alice added finalizer ${HOLD} at ${iso(0)}`,
    ]);
    expect(f.evidence.map((e) => `${e.user} ${e.verb}`)).toEqual(['alice create', 'bob delete']);
    const p = fs.find((x) => x.objects[0]!.name === 'patched')!;
    expect(p.cause).toMatchObject({ actor: 'carol', verb: 'patch' });
    expect(p.evidence[0]!.diff).toBe(`metadata.finalizers <none> -> ["${HOLD}"]`);
  });

  it('is an error when still Terminating after 5 × the grace; a deletion that completed late is info', () => {
    const h = new History();
    const cm = ref('configmaps', 'demo', 'cm');
    h.create(cm, 0, 'alice', { metadata: { finalizers: [HOLD] } });
    heldDelete(h, cm, 10, 'bob', [HOLD]);
    const late = ref('configmaps', 'demo', 'late');
    h.create(late, 0, 'alice', { metadata: { finalizers: [HOLD] } });
    heldDelete(h, late, 10, 'bob', [HOLD]);
    h.update(late, 40, 'dave', `metadata.finalizers ["${HOLD}"] -> <none>`, { [Attr.verb]: 'patch' });
    const fs = stuck(h, 70, 10);
    expect(fs.find((f) => f.objects[0]!.name === 'cm')).toMatchObject({ severity: 'error', data: { terminatingSec: 60 } });
    const l = fs.find((f) => f.objects[0]!.name === 'late')!;
    expect(l).toMatchObject({ severity: 'info', data: { stillThere: false, terminatingSec: 30 } });
    expect(l.title).toBe(`ConfigMap demo/late took 30 s to delete: finalizer ${HOLD} (added by alice at ${iso(0)}) was removed by dave only at ${iso(40)}`);
  });

  it('names what holds a namespace stuck Terminating, with the holder’s cause; a namespace deleted in time is fine', () => {
    const h = new History();
    const ns = ref('namespaces', '', 'held');
    const cm = ref('configmaps', 'held', 'cm');
    h.create(ns, 0, 'admin', { metadata: { name: 'held' }, spec: { finalizers: ['kubernetes'] } });
    h.create(cm, 1, 'alice', { metadata: { name: 'cm', finalizers: [HOLD] } });
    heldDelete(h, ns, 10, 'bob', [], { spec: ['kubernetes'] });
    // the controller deletes the content later: the ConfigMap is not Terminating past the grace itself
    heldDelete(h, cm, 50, NSC, [HOLD], { verb: 'deletecollection' });
    const msg = `Some content in the namespace has finalizers remaining: ${HOLD} in 1 resource instances`;
    h.status(
      ns,
      15,
      NSC,
      [
        conditionLine('NamespaceDeletionDiscoveryFailure', 'False', 'All resources successfully discovered'),
        conditionLine('NamespaceFinalizersRemaining', 'True', msg),
      ].join('\n'),
    );
    // normal: a namespace whose content goes at once; the controller finalizes and deletes it
    const gone = ref('namespaces', '', 'gone');
    const cm2 = ref('configmaps', 'gone', 'cm');
    h.create(gone, 0, 'admin', { spec: { finalizers: ['kubernetes'] } });
    h.create(cm2, 1, 'alice', {});
    heldDelete(h, gone, 10, 'bob', [], { spec: ['kubernetes'] });
    h.write(cm2, 10.1, NSC, 'deletecollection', { [Attr.code]: 200 });
    h.update(gone, 15, NSC, 'spec.finalizers ["kubernetes"] -> <none>', { [Attr.subresource]: 'finalize' });
    h.del(gone, 15.1, NSC);

    const fs = stuck(h, 100);
    expect(fs.map((f) => f.objects[0]!.name)).toEqual(['held']);
    const f = fs[0]!;
    expect(f).toMatchObject({
      severity: 'warning',
      objects: [ns, cm],
      cause: { actor: 'alice', verb: 'create', object: cm },
      data: { holders: ['ConfigMap held/cm'], conditions: { NamespaceFinalizersRemaining: msg }, deletedBy: 'bob' },
    });
    expect(f.evidence.map((e) => `${e.user} ${e.verb} ${e.object.name}`)).toEqual(['alice create cm', 'bob delete held', `${NSC} deletecollection cm`]);
    expect(f.actors).toEqual(['alice', 'bob', NSC]);
    expect(f.title).toBe(`Namespace held is stuck Terminating for 90 s: ConfigMap held/cm holds it (finalizer ${HOLD}, added by alice at ${iso(1)})`);
    expect(f.chain).toEqual([
      'Namespace held still Terminating 90 s after its delete',
      `bob asked for its deletion at ${iso(10)}; the namespace controller waits for ConfigMap held/cm`,
      `ConfigMap held/cm held by finalizer ${HOLD} (${msg})`,
      `alice added finalizer ${HOLD} at ${iso(1)}`,
    ]);
    const [c] = stuck(h, 200).filter((x) => x.objects[0]!.resource === 'configmaps');
    expect(c).toMatchObject({ cause: { actor: 'alice' }, data: { deletedBy: NSC, terminatingSec: 150 } });
  });

  it('names the dependents a foreground deletion waits on; one whose dependents went is fine', () => {
    const h = new History();
    const d = ref('deployments', 'demo', 'web', 'apps');
    const rs = ref('replicasets', 'demo', 'web-1', 'apps');
    h.create(d, 0, 'admin', { spec: { replicas: 1 } });
    h.create(rs, 1, DC, { spec: { replicas: 1 } });
    h.own(d, rs, 1);
    heldDelete(h, d, 10, 'erin', ['foregroundDeletion']);
    const d2 = ref('deployments', 'demo', 'api', 'apps');
    const rs2 = ref('replicasets', 'demo', 'api-1', 'apps');
    h.create(d2, 0, 'admin', {});
    h.create(rs2, 1, DC, {});
    h.own(d2, rs2, 1);
    heldDelete(h, d2, 10, 'erin', ['foregroundDeletion']);
    h.del(rs2, 11, GC);
    h.update(d2, 12, GC, 'metadata.finalizers ["foregroundDeletion"] -> <none>', { [Attr.verb]: 'patch' });

    const fs = stuck(h, 100);
    expect(fs).toHaveLength(1);
    expect(fs[0]).toMatchObject({ objects: [d, rs], cause: { actor: 'erin', verb: 'delete' }, data: { dependents: ['ReplicaSet demo/web-1'] } });
    expect(fs[0]!.title).toBe(
      'Deployment demo/web is stuck Terminating for 90 s: foreground deletion waits on 1 dependent still there (ReplicaSet demo/web-1)',
    );
  });

  it('takes the write answered with the version it removed (no diff, same resourceVersion) for the end of the deletion, not for a no-op', () => {
    const h = new History();
    const rv = (v: string) => ({ [Attr.newResourceVersion]: v });
    // the garbage collector completes six foreground deletions: each patch is answered with the deleted version
    for (let i = 0; i < 6; i++) {
      const cm = ref('configmaps', 'demo', `fg-${i}`);
      h.write(cm, i, 'alice', 'create', { [Attr.code]: 201, [Attr.snapshot]: '{}', ...rv(`${100 + i}`) });
      const d = heldDelete(h, cm, 10 + i, 'bob', ['foregroundDeletion']);
      d.attributes[Attr.newResourceVersion] = `${200 + i}`;
      h.write(cm, 10.01 + i, GC, 'patch', rv(`${200 + i}`));
    }
    // a patch that changed nothing while the object is held, then another change: it was still there
    const held = ref('configmaps', 'demo', 'held');
    h.write(held, 0, 'alice', 'create', { [Attr.code]: 201, [Attr.snapshot]: JSON.stringify({ metadata: { finalizers: [HOLD] } }), ...rv('300') });
    const d = heldDelete(h, held, 10, 'bob', [HOLD]);
    d.attributes[Attr.newResourceVersion] = '301';
    h.write(held, 11, 'carol', 'patch', rv('301'));
    h.update(held, 12, 'carol', 'metadata.labels.x <none> -> "y"', { [Attr.verb]: 'patch', ...rv('302') });

    const r = buildReport(h.spans, { startUs: at(0), endUs: at(100) });
    expect(r.findings.filter((f) => f.detector === 'noop-writes')).toEqual([]);
    const fs = r.findings.filter((f) => f.detector === 'stuck-deletions');
    expect(fs.map((f) => f.objects[0]!.name)).toEqual(['held']);
    expect(fs[0]).toMatchObject({ severity: 'warning', cause: { actor: 'alice' }, data: { stillThere: true, finalizers: [HOLD] } });
  });

  it('the loader keeps what held a deleted object (finalizers, deletionTimestamp) and nothing else of a delete snapshot', () => {
    const h = new History();
    const cm = ref('configmaps', 'demo', 'cm');
    const d = heldDelete(h, cm, 10, 'bob', [HOLD]);
    d.attributes[Attr.snapshot] = JSON.stringify({ ...JSON.parse(String(d.attributes[Attr.snapshot])), data: { big: 'x'.repeat(1000) } });
    const p = h.del(ref('configmaps', 'demo', 'plain'), 11, 'bob');
    p.attributes[Attr.snapshot] = JSON.stringify({ metadata: { name: 'plain' }, data: { a: 'b' } });
    // the namespace controller's long condition lines stay whole (other long lines keep only their path)
    const message = `Some content in the namespace has finalizers remaining: ${'example.com/a-rather-long-finalizer-name, '.repeat(5)}in 7 resource instances`;
    const cond = `status.conditions[type=NamespaceFinalizersRemaining] <none> -> ${JSON.stringify({ type: 'NamespaceFinalizersRemaining', status: 'True', message })}`;
    const st = h.status(ref('namespaces', '', 'held'), 12, NSC, `${cond}\nspec.x <none> -> "${'y'.repeat(400)}"`);
    expect(compactSpan(st).attributes[Attr.diff]).toBe(`${cond}\nspec.x "…" -> "…"`);
    const [held, plain] = [d, p].map((s) => compactSpan(s));
    expect(JSON.parse(String(held!.attributes[Attr.snapshot]))).toEqual({ metadata: { finalizers: [HOLD], deletionTimestamp: iso(10) } });
    expect(plain!.attributes[Attr.snapshot]).toBeUndefined();
  });
});
