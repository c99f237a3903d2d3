// Completeness: where the record cannot tell the whole story, say so (one info finding, never a
// warning: a partial story is a caveat, not a misbehaviour). (a) Objects whose history starts
// mid-life — first seen updated, patched or deleted, not created — when the range starts at the
// beginning of the record (created before the recording began, or their create was never
// recorded); (b) changes that came from the watch alone (list-watch-only clusters: no audit event
// explains them; their actor is read from managedFields, `guessed` or `unknown` where it is not sure);
// (c) in audit mode, changes the informers saw that no audit event explained within the grace period
// (`attribution: unexplained`, src/pipeline/unexplained.ts: the API server dropped or never sent
// them), naming the objects, so nobody trusts their story as complete.
import { Attr, type SpanRecord } from '../../../src/core/model.ts';
import type { Detector, Finding } from '../types.ts';
import { evidenceOf, isCreate, redirectUrl, refText } from '../span-index.ts';
import type { ObjectHistory, SpanIndex } from '../span-index.ts';
import { isWrite } from '../../../src/core/failed.ts';

const LISTED = 10;

interface MidLife {
  h: ObjectHistory;
  first: SpanRecord;
}

/** Objects whose first accepted write in the range is not their create. */
function midLife(index: SpanIndex): MidLife[] {
  const out: MidLife[] = [];
  for (const h of index.objects.values()) {
    const first = h.events.find(isWrite);
    if (first && !isCreate(first)) out.push({ h, first });
  }
  return out.sort((a, b) => a.first.startUs - b.first.startUs);
}

/** Audit mode: the watch changes no audit event explained, by object (first change first). */
function unexplained(index: SpanIndex): { h: ObjectHistory; changes: SpanRecord[] }[] {
  const out: { h: ObjectHistory; changes: SpanRecord[] }[] = [];
  for (const h of index.objects.values()) {
    const changes = h.events.filter((e) => e.attributes[Attr.source] === 'watch' && e.attributes[Attr.attribution] === 'unexplained');
    if (changes.length) out.push({ h, changes });
  }
  return out.sort((a, b) => a.changes[0]!.startUs - b.changes[0]!.startUs);
}

/** Per cluster: spans from the watch alone (list-watch-only), and how many of them name no sure actor. */
function watchOnly(spans: readonly SpanRecord[]): Map<string, { changes: number; guessed: number; unknown: number }> {
  const m = new Map<string, { changes: number; guessed: number; unknown: number }>();
  for (const s of spans) {
    if (s.kind !== 'event' || s.attributes[Attr.source] !== 'watch' || s.attributes[Attr.attribution] === 'unexplained') continue;
    let c = m.get(s.object.cluster);
    if (!c) m.set(s.object.cluster, (c = { changes: 0, guessed: 0, unknown: 0 }));
    c.changes++;
    const a = s.attributes[Attr.attribution];
    if (a === 'guessed') c.guessed++;
    else if (a === 'unknown') c.unknown++;
  }
  return m;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

export const completeness: Detector = {
  name: 'completeness',
  description: 'where the record is partial: histories that start mid-life, changes only the watch saw (no audit event explains them)',
  detect({ spans, index, rangeFromRecordStart }) {
    const lost = unexplained(index);
    const lostKeys = new Set(lost.map((l) => l.h.key));
    // an object whose create no audit event explained starts "mid-life" too: named once, as unexplained
    const mid = rangeFromRecordStart ? midLife(index).filter((m) => !lostKeys.has(m.h.key)) : [];
    const watch = watchOnly(spans);
    if (!mid.length && !watch.size && !lost.length) return [];
    const parts: string[] = [];
    if (lost.length) {
      const n = lost.reduce((a, l) => a + l.changes.length, 0);
      const names = lost.slice(0, LISTED).map((l) => refText(l.h.ref));
      const more = lost.length > LISTED ? ` and ${lost.length - LISTED} more` : '';
      parts.push(
        `${plural(n, 'change')} of ${plural(lost.length, 'object')} the informers saw no audit event explains (the API server dropped or never sent it): ${names.join(', ')}${more}`,
      );
    }
    if (mid.length) {
      const names = mid.slice(0, LISTED).map((m) => refText(m.h.ref));
      const more = mid.length > LISTED ? ` and ${mid.length - LISTED} more` : '';
      parts.push(`the history of ${plural(mid.length, 'object')} starts mid-life, created before the record began (${names.join(', ')}${more})`);
    }
    for (const [cluster, c] of watch) {
      parts.push(
        `cluster ${cluster}: ${plural(c.changes, 'change')} only the watch saw, no audit event explains them (actor guessed for ${c.guessed}, unknown for ${c.unknown})`,
      );
    }
    const anchor = lost[0]?.changes[0] ?? mid[0]?.first ?? spans.find((s) => s.kind === 'event' && s.attributes[Attr.source] === 'watch')!;
    const f: Finding = {
      detector: 'completeness',
      severity: 'info',
      title: `The record is partial: ${parts.join('; ')}`,
      objects: [...lost.slice(0, LISTED).map((l) => l.h.ref), ...mid.slice(0, LISTED).map((m) => m.h.ref)],
      evidence: [...lost.slice(0, 5).map((l) => evidenceOf(l.changes[0]!)), ...mid.slice(0, 5).map((m) => evidenceOf(m.first))],
      traceId: anchor.traceId,
      redirect: redirectUrl(anchor.object, anchor.startUs),
      data: {
        midLife: mid.length,
        midLifeObjects: mid.slice(0, LISTED).map((m) => refText(m.h.ref)),
        watchOnly: Object.fromEntries(watch),
        unexplained: lost.reduce((a, l) => a + l.changes.length, 0),
        unexplainedObjects: lost.slice(0, LISTED).map((l) => refText(l.h.ref)),
      },
    };
    return [f];
  },
};
