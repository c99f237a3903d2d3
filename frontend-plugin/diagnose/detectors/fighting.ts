// Controllers fighting: two or more actors (users, field managers) alternately changing the same
// field of one object, e.g. spec.replicas flipped by an autoscaler and a kubectl loop.
import type { SpanRecord } from '../../../src/core/model.ts';
import type { Detector, Finding } from '../types.ts';
import type { ObjectHistory, SpanIndex } from '../span-index.ts';
import { isRoutine, redirectUrl, refText, sampleEvidence } from '../span-index.ts';
import { actorOf } from '../../../src/core/span-view.ts';
import { isWrite } from '../../../src/core/failed.ts';

interface Change {
  span: SpanRecord;
  actor: string;
  value: string;
}

/** Per changed path of an object: who changed it last and how often the changer switched (no list of changes kept). */
function flipsByPath(index: SpanIndex, h: ObjectHistory): Map<string, { actor: string; flips: number }> {
  const byPath = new Map<string, { actor: string; flips: number }>();
  for (const e of h.events) {
    if (!isWrite(e)) continue;
    const actor = actorOf(e);
    for (const l of index.diff(e)) {
      const p = byPath.get(l.path);
      if (!p) byPath.set(l.path, { actor, flips: 0 });
      else if (p.actor !== actor) [p.actor, p.flips] = [actor, p.flips + 1];
    }
  }
  return byPath;
}

/** The changes of one path of an object, in time order. */
function changesOf(index: SpanIndex, h: ObjectHistory, path: string): Change[] {
  const out: Change[] = [];
  for (const e of h.events) {
    if (!isWrite(e)) continue;
    for (const l of index.diff(e)) if (l.path === path) out.push({ span: e, actor: actorOf(e), value: l.new });
  }
  return out;
}

export const fighting: Detector = {
  name: 'fighting',
  description: 'two actors alternately changing the same field of one object',
  detect({ index, thresholds: t }) {
    const out: Finding[] = [];
    for (const h of index.objects.values()) {
      // one finding per object: the most fought-over field (others are listed in data); a flip
      // means two actors at least
      let top: { path: string; flips: number } | undefined;
      const fields: Record<string, number> = {};
      for (const [path, { flips }] of flipsByPath(index, h)) {
        if (flips < 1 || flips < t.fightingMinFlips) continue;
        fields[path] = flips;
        if (!top || flips > top.flips) top = { path, flips };
      }
      if (!top) continue;
      const best = { ...top, changes: changesOf(index, h, top.path) };
      const actors = [...new Set(best.changes.map((c) => c.actor))];
      const values = best.changes.map((c) => c.value);
      out.push({
        detector: 'fighting',
        // built-in controllers handing a field back and forth (scheduler and kubelet on pod status) is
        // routine unless it goes on and on (10 × the threshold); any other actor in it is a fight
        severity:
          best.changes.every((c) => isRoutine(c.span)) && best.flips < 10 * t.fightingMinFlips
            ? 'info'
            : best.flips >= 2 * t.fightingMinFlips
              ? 'error'
              : 'warning',
        title: `${actors.join(' and ')} keep changing ${best.path} of ${refText(h.ref)} (${best.flips} flips)`,
        objects: [h.ref],
        actors,
        evidence: sampleEvidence(
          best.changes.map((c) => c.span),
          10,
          (l) => l.path === best!.path,
        ),
        traceId: best.changes[0]!.span.traceId,
        redirect: redirectUrl(h.ref, best.changes[0]!.span.startUs),
        data: {
          field: best.path,
          flips: best.flips,
          changes: best.changes.length,
          values: [...new Set(values)].slice(0, 10),
          changesByActor: Object.fromEntries(actors.map((a) => [a, best!.changes.filter((c) => c.actor === a).length])),
          fields,
        },
      });
    }
    return out;
  },
};
