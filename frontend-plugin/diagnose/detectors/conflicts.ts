// Conflict and throttling storms: 409 / 429 / 5xx answers per actor (and the objects they hit),
// and whether the actor's retry of the same request succeeded.
import { objectKey, type SpanRecord } from '../../../src/core/model.ts';
import type { Detector, Finding } from '../types.ts';
import { isRoutine, redirectUrl, refText, sampleEvidence } from '../span-index.ts';
import { codeOf, subresourceOf, actorOf, verbOf } from '../../../src/core/span-view.ts';
import { isFailed, isWrite } from '../../../src/core/failed.ts';

const kindOfCode = (c: number): string | undefined => (c === 409 ? 'conflict' : c === 429 ? 'throttled' : c >= 500 ? 'server error' : undefined);

export const conflicts: Detector = {
  name: 'conflicts',
  description: '409 conflict, 429 throttling and 5xx storms per actor, with what it retried',
  detect({ index, thresholds: t }) {
    const failed = [...index.objects.values()].flatMap((h) => h.events.filter((e) => isFailed(e) && kindOfCode(codeOf(e))));
    const byActor = Map.groupBy(failed, actorOf);
    const out: Finding[] = [];
    for (const [actor, failures] of byActor) {
      if (failures.length < t.conflictMin) continue;
      failures.sort((a, b) => a.startUs - b.startUs);
      const byCode: Record<string, number> = {};
      const perObject = new Map<string, SpanRecord[]>();
      let retriedOk = 0;
      for (const f of failures) {
        byCode[String(codeOf(f))] = (byCode[String(codeOf(f))] ?? 0) + 1;
        const k = objectKey(f.object);
        let l = perObject.get(k);
        if (!l) perObject.set(k, (l = []));
        l.push(f);
        // the retry: the same actor's next accepted write of the same verb/subresource on the object
        const next = index
          .history(k)
          ?.events.find((e) => e.startUs > f.startUs && actorOf(e) === actor && verbOf(e) === verbOf(f) && subresourceOf(e) === subresourceOf(f));
        if (next && isWrite(next)) retriedOk++;
        // a built-in controller's create answered 409 (AlreadyExists): create-if-missing found it
        // there (the API server ensuring kube-system at start) — done, nothing to retry
        else if (codeOf(f) === 409 && verbOf(f) === 'create' && subresourceOf(f) === '' && isRoutine(f)) retriedOk++;
      }
      const objects = [...perObject.entries()].sort((a, b) => b[1].length - a[1].length);
      // how many of the actor's requests on those objects failed: controllers retry an occasional
      // 409 as designed; a storm is when most of them fail (or very many do)
      let accepted = 0;
      for (const k of perObject.keys()) for (const e of index.history(k)?.events ?? []) if (isWrite(e) && actorOf(e) === actor) accepted++;
      const ratio = failures.length / (failures.length + accepted);
      // anyone else: a storm when most of its requests there failed, or very many did. A built-in
      // controller retrying its 409s is optimistic concurrency at work, and how many it gets grows
      // with the objects it handles and the machine's load: a storm only when most of its requests
      // there failed and, besides, most of its retries failed too or very many failed
      const most = ratio >= t.conflictMinRatio;
      const many = failures.length >= 10 * t.conflictMin;
      const storm = failures.every(isRoutine) ? most && (retriedOk * 2 < failures.length || many) : most || many;
      const serverErrors = failures.filter((f) => codeOf(f) >= 500).length;
      const kinds = [...new Set(failures.map((f) => kindOfCode(codeOf(f))!))];
      const top = objects[0]!;
      out.push({
        detector: 'conflicts',
        severity: serverErrors >= t.conflictMin ? 'error' : storm ? 'warning' : 'info',
        title: `${actor} got ${failures.length} ${kinds.join('/')} answers (${Object.entries(byCode)
          .map(([c, n]) => `${n}× ${c}`)
          .join(', ')}), most on ${refText(top[1][0]!.object)} (${top[1].length}); ${Math.round(ratio * 100)}% of its requests there failed`,
        objects: objects.slice(0, 10).map(([, l]) => l[0]!.object),
        actors: [actor],
        evidence: sampleEvidence(failures),
        traceId: failures[0]!.traceId,
        redirect: redirectUrl(top[1][0]!.object, top[1][0]!.startUs),
        data: {
          failures: failures.length,
          accepted,
          failedRatio: Math.round(ratio * 100) / 100,
          byCode,
          objects: objects.length,
          perObject: Object.fromEntries(objects.slice(0, 10).map(([k, l]) => [k, l.length])),
          retried: { succeeded: retriedOk, notSucceeded: failures.length - retriedOk },
        },
      });
    }
    return out;
  },
};
