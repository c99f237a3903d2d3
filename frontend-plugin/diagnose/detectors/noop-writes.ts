// No-op writes: accepted updates/patches whose diff is empty, per actor and resource (API server
// writes that changed nothing, a classic controller bug at scale). A write is a no-op when the write
// path found an empty diff (`noop`), or when the API server answered with the resourceVersion the
// object already had (it does not bump it for a write that changes nothing, e.g. a server-side
// apply of an unchanged manifest). The write removing the last finalizer of a deleted object is
// answered the same way (the API server returns the version it removed): not a no-op.
import type { SpanRecord } from '../../../src/core/model.ts';
import { Attr, objectKey } from '../../../src/core/model.ts';
import type { Detector, Finding } from '../types.ts';
import { isRoutine, redirectUrl, sampleEvidence } from '../span-index.ts';
import { actorOf, verbOf } from '../../../src/core/span-view.ts';
import { isWrite } from '../../../src/core/failed.ts';
import { finalizingWrites } from './stuck-deletions.ts';

export const noopWrites: Detector = {
  name: 'noop-writes',
  description: 'accepted updates and patches that changed nothing, per actor and resource',
  detect({ index, thresholds: t }) {
    const noops: SpanRecord[] = [];
    const finalizing = finalizingWrites(index);
    for (const h of index.objects.values()) {
      let lastRv: unknown;
      for (const e of h.events) {
        if (!isWrite(e)) continue;
        const rv = e.attributes[Attr.newResourceVersion];
        const sameRv = rv !== undefined && rv !== '' && rv === lastRv;
        if (rv !== undefined && rv !== '') lastRv = rv;
        if (!['update', 'patch', 'apply'].includes(verbOf(e)) || (e.attributes[Attr.noop] !== true && !sameRv) || finalizing.has(e)) continue;
        noops.push(e);
      }
    }
    const groups = Map.groupBy(noops, (e) => `${actorOf(e)}\u0000${e.object.group}/${e.object.resource}`);
    const out: Finding[] = [];
    for (const [k, spans] of groups) {
      if (spans.length < t.noopMin) continue;
      const [actor, gr] = k.split('\u0000') as [string, string];
      spans.sort((a, b) => a.startUs - b.startUs);
      const perObject = new Map<string, number>();
      for (const s of spans) perObject.set(objectKey(s.object), (perObject.get(objectKey(s.object)) ?? 0) + 1);
      const objs = [...perObject.entries()].sort((a, b) => b[1] - a[1]);
      const first = spans.find((s) => objectKey(s.object) === objs[0]![0])!;
      out.push({
        detector: 'noop-writes',
        // a built-in controller's occasional no-op (a status write racing an informer) is routine;
        // a hot loop on one object (10 × the threshold) is not
        severity: spans.every(isRoutine) && objs[0]![1] < 10 * t.noopMin ? 'info' : 'warning',
        title: `${actor} wrote ${spans.length} ${gr.replace(/^\//, '')} updates that changed nothing (${objs.length} object${objs.length === 1 ? '' : 's'})`,
        objects: objs.slice(0, 10).map(([key]) => spans.find((s) => objectKey(s.object) === key)!.object),
        actors: [actor],
        evidence: sampleEvidence(spans),
        traceId: first.traceId,
        redirect: redirectUrl(first.object, first.startUs),
        data: { writes: spans.length, resource: gr, objects: objs.length, perObject: Object.fromEntries(objs.slice(0, 10)) },
      });
    }
    return out;
  },
};
