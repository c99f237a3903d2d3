// Each step of an audit event's change (src/pipeline/steps/) on its own, over a context built from a fixture
// and a real version history; the whole list is covered by audit/pipeline/diff tests.
import { describe, expect, it } from 'vitest';
import { Attr } from '../../src/core/model.ts';
import type { KubeObject } from '../../src/core/audit-event.ts';
import { normalizeAudit, type NormalizedAudit } from '../../src/normalize/audit-event.ts';
import { Redactor } from '../../src/decorate/redact.ts';
import { diffObjects } from '../../src/decorate/diff.ts';
import { stripManagedFields } from '../../src/decorate/snapshot.ts';
import { VersionCache, Versions } from '../../src/pipeline/version-cache.ts';
import type { ChangeContext, ChangeStep } from '../../src/pipeline/steps/index.ts';
import { changeSteps } from '../../src/pipeline/steps/index.ts';
import { changeContext } from '../../src/pipeline/steps/context.ts';
import { auditObjectChange } from '../../src/pipeline/change.ts';
import { responseObject } from '../../src/pipeline/steps/response-object.ts';
import { requestBody } from '../../src/pipeline/steps/request-body.ts';
import { failedCreate } from '../../src/pipeline/steps/failed-create.ts';
import { auditAttributes } from '../../src/pipeline/steps/audit-attributes.ts';
import { describe as describeStep, describeChange } from '../../src/pipeline/steps/describe.ts';
import { binding } from '../../src/pipeline/steps/binding.ts';
import { createSnapshot } from '../../src/pipeline/steps/create-snapshot.ts';
import { deleteSnapshot } from '../../src/pipeline/steps/delete-snapshot.ts';
import { updateDiff } from '../../src/pipeline/steps/update-diff.ts';
import { scale } from '../../src/pipeline/steps/scale.ts';
import { metadataClaim } from '../../src/pipeline/steps/metadata-claim.ts';
import { resourceVersions } from '../../src/pipeline/steps/resource-versions.ts';
import { links } from '../../src/pipeline/steps/links.ts';
import { rememberVersion } from '../../src/pipeline/steps/remember-version.ts';
import { findLinks } from '../../linkers/index.ts';
import { fx } from './audit-fixtures.ts';

/** A context for `raw` (an audit fixture), with `known` versions of its object in the history. */
function context(raw: any, known: { obj: KubeObject; fromWatch?: boolean }[] = []): ChangeContext {
  const n = normalizeAudit(raw);
  if (!('event' in n)) throw new Error('fixture is not a traceable audit event');
  const a: NormalizedAudit = n.event;
  const redactor = new Redactor();
  const cache = new VersionCache({ maxEntries: 100, maxBytes: 1 << 20, digests: redactor });
  const versions = new Versions(cache, cache);
  const name = a.name || raw.responseObject?.metadata?.name;
  const change = auditObjectChange(a, 'kwok', (ref) => ref, name, a.responseObject);
  for (const k of known) versions.set(change.key, k.obj, k.fromWatch ?? false);
  return changeContext(change, {
    versions,
    excluded: false,
    findLinks,
    clean: (b) => redactor.redact(stripManagedFields(b), a.group, a.resource),
    diff: (p, c, attributes) => {
      const d = diffObjects(p, c);
      if (d.lines.length) attributes[Attr.diff] = d.lines.join('\n');
    },
  });
}

const run = (ctx: ChangeContext, ...steps: ChangeStep[]) => {
  for (const s of steps) s(ctx);
  return ctx;
};
const version = (base: any, rv: string, patch: (o: any) => void = () => {}) => {
  const o = structuredClone(base);
  o.metadata.resourceVersion = rv;
  patch(o);
  return o as KubeObject;
};

describe('audit event steps', () => {
  it('are listed in one place, bodies first and the history last', () => {
    expect(changeSteps[0]).toBe(responseObject);
    expect(changeSteps.at(-1)).toBe(rememberVersion);
    expect(new Set(changeSteps).size).toBe(changeSteps.length);
  });

  describe('responseObject', () => {
    it('takes the cleaned response as the new version, without managedFields', () => {
      const ctx = run(context(fx('deployment-create-kubectl')), responseObject);
      expect(ctx.obj?.metadata?.name).toBe('web');
      expect(ctx.obj?.metadata?.managedFields).toBeUndefined();
    });
    it('ignores the body of a failed request and a Status', () => {
      expect(run(context(fx('deployment-update-conflict')), responseObject).obj).toBeUndefined();
      expect(run(context(fx('pod-binding-scheduler')), responseObject).obj).toBeUndefined();
    });
  });

  describe('requestBody', () => {
    it('uses a create request body (Request level) as the new object, without its resourceVersion', () => {
      const raw = fx('deployment-create-kubectl');
      delete raw.responseObject;
      const ctx = run(context(raw), responseObject, requestBody);
      expect(ctx.fromRequest).toBe(true);
      expect(ctx.obj?.metadata?.resourceVersion).toBeUndefined();
    });
    it('keeps a Binding request for the binding step, but never takes a patch body as the object', () => {
      expect(run(context(fx('pod-binding-scheduler')), responseObject, requestBody).request).toMatchObject({ kind: 'Binding' });
      const patch = fx('pod-status-patch-kwok');
      delete patch.responseObject;
      expect(run(context(patch), responseObject, requestBody).obj).toBeUndefined();
    });
  });

  describe('failedCreate', () => {
    it('keeps the request body of a refused generateName create for its links, tagged with the prefix', () => {
      const raw = fx('pod-create-generatename');
      const pod = structuredClone(raw.responseObject);
      delete pod.metadata.name;
      pod.metadata.generateName = 'web-7d9f8b6c5d-';
      Object.assign(raw, {
        requestObject: pod,
        responseStatus: { code: 403, reason: 'Forbidden' },
        responseObject: { kind: 'Status', apiVersion: 'v1', code: 403 },
      });
      const ctx = context(raw);
      (ctx.ref as { name: string }).name = 'web-7d9f8b6c5d-'; // the pipeline names the object by the prefix
      run(ctx, responseObject, requestBody, failedCreate, links);
      expect(ctx.attributes[Attr.generateName]).toBe('web-7d9f8b6c5d-');
      expect(ctx.links.map((l) => l.target.name)).toContain('web-7d9f8b6c5d');
      // a successful create is not its business
      expect(run(context(fx('pod-create-generatename')), failedCreate).request).toBeUndefined();
    });
  });

  describe('auditAttributes', () => {
    it('tags who, what, from where and the outcome', () => {
      const ctx = run(context(fx('configmap-create-impersonated')), auditAttributes);
      expect(ctx.attributes).toMatchObject({
        [Attr.source]: 'audit',
        [Attr.user]: 'jane@example.com',
        [Attr.impersonatedBy]: 'kubernetes-admin',
        [Attr.verb]: 'create',
        [Attr.code]: 201,
      });
      expect(run(context(fx('deployment-update-conflict')), auditAttributes).attributes[Attr.error]).toMatch(/^Conflict/);
    });
  });

  describe('unchanged', () => {
    it('a failed request describes nothing further', () => {
      const ctx = run(context(fx('deployment-update-conflict')), responseObject, describeStep);
      expect(describeChange(ctx)).toBe('unchanged');
      expect(ctx.attributes[Attr.diff]).toBeUndefined();
    });
  });

  describe('describe', () => {
    it('describes each change exactly one way, chosen by one rule', () => {
      const of = (raw: any) => describeChange(run(context(raw), responseObject, requestBody));
      expect(of(fx('deployment-create-kubectl'))).toBe('create');
      expect(of(fx('pod-binding-scheduler'))).toBe('binding');
      expect(of(fx('deployment-scale-kubectl'))).toBe('scale');
      expect(of(fx('pod-status-patch-kwok'))).toBe('update');
      expect(of(fx('deployment-update-conflict'))).toBe('unchanged');
      const metadata = { ...fx('deployment-create-kubectl'), level: 'Metadata', verb: 'update', auditID: 'm' };
      delete metadata.responseObject;
      delete metadata.requestObject;
      expect(of(metadata)).toBe('claim');
    });
  });

  describe('binding', () => {
    it('diffs spec.nodeName and gives the cached pod its node', () => {
      const pod = fx('pod-create-generatename').responseObject;
      const ctx = run(context(fx('pod-binding-scheduler'), [{ obj: pod }]), responseObject, requestBody, binding);
      expect(ctx.attributes[Attr.diff]).toBe('spec.nodeName <none> -> "kwok-node-0"');
      expect((ctx.versions.last(ctx.key)?.spec as any)?.nodeName).toBe('kwok-node-0');
    });
  });

  describe('createSnapshot', () => {
    it('snapshots the created object', () => {
      const ctx = run(context(fx('deployment-create-kubectl')), responseObject, createSnapshot);
      expect(JSON.parse(String(ctx.attributes[Attr.snapshot])).spec.replicas).toBe(2);
      expect(ctx.objJson).toBe(ctx.attributes[Attr.snapshot]);
    });
  });

  describe('deleteSnapshot', () => {
    it('snapshots the last known version when the delete answered with a Status', () => {
      const cm = fx('configmap-create-impersonated');
      const del = { ...structuredClone(cm), verb: 'delete', auditID: 'd', responseObject: { kind: 'Status', apiVersion: 'v1', status: 'Success' } };
      const ctx = run(context(del, [{ obj: cm.responseObject }]), responseObject, deleteSnapshot);
      expect(JSON.parse(String(ctx.attributes[Attr.snapshot])).metadata.name).toBe('web-config');
    });
  });

  describe('updateDiff', () => {
    it('diffs from the newest version older than the new one', () => {
      const created = fx('deployment-create-kubectl').responseObject;
      const raw = { ...fx('deployment-create-kubectl'), verb: 'update', auditID: 'u', responseObject: version(created, '2000', (o) => (o.spec.replicas = 4)) };
      const ctx = run(context(raw, [{ obj: created }]), responseObject, updateDiff);
      expect(String(ctx.attributes[Attr.diff]).split('\n')).toContain('spec.replicas 2 -> 4');
      expect(ctx.prev?.metadata?.resourceVersion).toBe(created.metadata.resourceVersion);
    });
    it('a first-seen patch whose response is the whole object gets a snapshot, marked firstSeen', () => {
      const ctx = run(context(fx('pod-status-patch-kwok')), responseObject, updateDiff);
      expect(ctx.attributes[Attr.firstSeen]).toBe(true);
      expect(JSON.parse(String(ctx.attributes[Attr.snapshot])).metadata.name).toBe('web-7d9f8b6c5d-x2k9p');
    });
  });

  describe('scale', () => {
    it('diffs spec.replicas of a Scale against the cached object and caches the scaled version', () => {
      const created = fx('deployment-create-kubectl').responseObject;
      const ctx = run(context(fx('deployment-scale-kubectl'), [{ obj: created }]), responseObject, requestBody, scale);
      expect(String(ctx.attributes[Attr.diff]).split('\n')).toContain('spec.replicas 2 -> 4');
      expect((ctx.versions.last(ctx.key)?.spec as any)?.replicas).toBe(4);
    });
  });

  describe('metadataClaim', () => {
    it('claims the watch change a Metadata-level event explains, once', () => {
      const created = fx('deployment-create-kubectl').responseObject;
      const raw = { ...fx('deployment-create-kubectl'), level: 'Metadata', verb: 'update', auditID: 'm' };
      delete raw.responseObject;
      delete raw.requestObject;
      const known = [{ obj: created }, { obj: version(created, '3000', (o) => (o.spec.replicas = 7)), fromWatch: true }];
      const ctx = context(raw, known);
      run(ctx, responseObject, requestBody, metadataClaim);
      expect(ctx.attributes[Attr.diff]).toBe('spec.replicas 2 -> 7');
      expect(ctx.versions.claim(ctx.key)).toBeUndefined();
    });
  });

  describe('resourceVersions', () => {
    it('tags the old and the new resourceVersion', () => {
      const ctx = context(fx('deployment-create-kubectl'));
      ctx.prev = version(fx('deployment-create-kubectl').responseObject, '900');
      run(ctx, responseObject, resourceVersions);
      expect(ctx.attributes).toMatchObject({ [Attr.oldResourceVersion]: '900', [Attr.newResourceVersion]: ctx.obj!.metadata!.resourceVersion });
    });
  });

  describe('links', () => {
    it('links a pod to its controller owner, and a binding to its node', () => {
      const pod = fx('pod-create-generatename').responseObject;
      const ctx = run(context(fx('pod-binding-scheduler'), [{ obj: pod }]), responseObject, requestBody, links);
      expect(ctx.links.map((l) => `${l.class}:${l.target.resource}/${l.target.name}`)).toEqual(
        expect.arrayContaining(['children:replicasets/web-7d9f8b6c5d', 'node:nodes/kwok-node-0']),
      );
      expect(ctx.uid).toBe(pod.metadata.uid);
    });
  });

  describe('rememberVersion', () => {
    it('puts the new version into the history, reusing the snapshot text', () => {
      const ctx = run(context(fx('deployment-create-kubectl')), responseObject, createSnapshot, rememberVersion);
      expect(ctx.versions.lastRv(ctx.key)).toBe(ctx.obj!.metadata!.resourceVersion);
    });
  });
});
