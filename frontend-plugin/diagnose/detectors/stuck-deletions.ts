// Stuck deletions: objects deleted (deletionTimestamp set) whose finalizers stay past a grace —
// naming the finalizer and who added it; namespaces stuck Terminating, naming what holds them (the
// stuck objects inside, the namespace controller's conditions); foreground deletions waiting on
// dependents that are still there.
import { Attr, type ObjectRef, type SpanRecord } from '../../../src/core/model.ts';
import type { Cause, Detector, Evidence, Finding } from '../types.ts';
import { diffValue, evidenceOf, field, formatSec, isCreate, isDelete, isoOf, redirectUrl, refText } from '../span-index.ts';
import type { ObjectHistory, SpanIndex } from '../span-index.ts';
import { actorOf, verbOf } from '../../../src/core/span-view.ts';
import { isWrite } from '../../../src/core/failed.ts';

/** Diff paths holding finalizers: every object's, and a namespace's own (`kubernetes`). */
const FINALIZER_PATHS = ['metadata.finalizers', 'spec.finalizers'] as const;
/** Still Terminating at the range end for this many × the grace: an error. */
const ERROR_FACTOR = 5;
const NS_CONDITIONS = ['NamespaceFinalizersRemaining', 'NamespaceContentRemaining', 'NamespaceDeletionContentFailure', 'NamespaceDeletionDiscoveryFailure'];

/** One deletion of one incarnation: from the delete that left it Terminating until it was gone. */
export interface Deletion {
  h: ObjectHistory;
  del: SpanRecord;
  /** the write that removed the last finalizer (or the delete that found none left) */
  done?: SpanRecord;
  /** `done` is a write answered with the last version (no diff, same resourceVersion): the object was removed. */
  finalizing?: boolean;
  /** finalizer → the write that added it (undefined: not seen), still there at the end (when done: the last ones removed) */
  remaining: Map<string, SpanRecord | undefined>;
}

const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** Finalizers the API server adds on a delete request (propagation policy): the deleter asked for them. */
const DELETE_FINALIZERS = new Set(['foregroundDeletion', 'orphan']);

/** `[path, finalizer]` of a snapshot: metadata's and a namespace's spec. */
const finalizersIn = (snap: Record<string, unknown> | undefined): [string, string][] =>
  FINALIZER_PATHS.flatMap((p) => list(field(snap, ...p.split('.'))).map((f): [string, string] => [p, f]));

/** Finalizer → the write that added it (undefined: not seen), and the path it lives in. */
interface Held {
  by: Map<string, SpanRecord | undefined>;
  path: Map<string, string>;
}

/** After a write: the finalizers with their adders, given the diff lines of the finalizer paths. */
function applyDiff(index: SpanIndex, e: SpanRecord, cur: Held): boolean {
  const text = e.attributes[Attr.diff];
  if (typeof text !== 'string' || !text.includes('finalizers')) return false; // most writes: no parsing
  let touched = false;
  for (const l of index.diff(e)) {
    if (!(FINALIZER_PATHS as readonly string[]).includes(l.path)) continue;
    touched = true;
    const next = new Set(list(diffValue(l.new)));
    for (const f of [...cur.by.keys()]) if (cur.path.get(f) === l.path && !next.has(f)) cur.by.delete(f);
    for (const f of next) {
      if (!cur.by.has(f)) cur.by.set(f, e);
      cur.path.set(f, l.path);
    }
  }
  return touched;
}

/**
 * What a delete's answer says holds the object; adders kept from `cur`. A delete answers with the
 * object left (deletionTimestamp set, its finalizers), or with a Status (the snapshot is then the
 * last known version, without deletionTimestamp: gone). A deletecollection answers with the items
 * as listed before it deleted them: their finalizers hold them whatever their deletionTimestamp.
 */
function heldAfterDelete(snap: Record<string, unknown>, e: SpanRecord, cur: Held): Held {
  const held: Held = { by: new Map(), path: new Map() };
  if (verbOf(e) === 'delete' && !field(snap, 'metadata', 'deletionTimestamp')) return held;
  for (const [p, f] of finalizersIn(snap)) {
    held.by.set(f, cur.by.has(f) ? cur.by.get(f) : DELETE_FINALIZERS.has(f) ? e : undefined);
    held.path.set(f, p);
  }
  return held;
}

const UPDATES = new Set(['update', 'patch', 'apply']);

/**
 * The deletions of an object, in time order (one per incarnation that was deleted). The write that
 * removes the last finalizer deletes the object, and the API server answers it with the object as
 * it was stored (same resourceVersion, finalizers still listed): the write path finds no change, so
 * an update without a diff answered with the resourceVersion it already had, while the object is
 * held, is taken for that write (`finalizing`) — unless a later write changes the object again.
 */
export function deletionsOf(index: SpanIndex, h: ObjectHistory): Deletion[] {
  const out: Deletion[] = [];
  let cur: Held = { by: new Map(), path: new Map() };
  let open: Deletion | undefined;
  let lastRv: unknown;
  let heldBefore = cur; // the finalizers when a finalizing write closed the last deletion
  const close = (e: SpanRecord): void => {
    if (open) open.done = e;
    open = undefined;
  };
  for (const e of h.events) {
    if (!isWrite(e)) continue;
    const rv = e.attributes[Attr.newResourceVersion];
    const sameRv = rv !== undefined && rv !== '' && rv === lastRv;
    if (rv !== undefined && rv !== '') lastRv = rv;
    const last = out.at(-1);
    if (last?.finalizing && !isCreate(e) && !sameRv && rv !== undefined && rv !== '') {
      // changed again: it was not gone
      last.finalizing = false;
      last.done = undefined;
      open = last;
      cur = heldBefore;
    }
    if (isCreate(e)) {
      close(e); // re-created: the old one was gone
      cur = { by: new Map(), path: new Map() };
      for (const [p, f] of finalizersIn(index.snapshot(e))) {
        cur.by.set(f, e);
        cur.path.set(f, p);
      }
    } else if (isDelete(e)) {
      const snap = index.snapshot(e);
      // without an answer (or its snapshot) the finalizers known so far decide
      if (snap) cur = heldAfterDelete(snap, e, cur);
      if (cur.by.size === 0) close(e);
      else if (!open) out.push((open = { h, del: e, remaining: new Map(cur.by) }));
    } else if (applyDiff(index, e, cur)) {
      if (open && cur.by.size === 0) close(e);
    } else if (open && sameRv && !e.attributes[Attr.diff] && UPDATES.has(verbOf(e))) {
      open.finalizing = true;
      close(e);
      heldBefore = cur;
      cur = { by: new Map(), path: new Map() };
    }
    if (open) open.remaining = new Map(cur.by);
  }
  return out;
}

/** Every object's deletions, worked out once per report (noop-writes asks for the finalizing writes). */
export const allDeletions = (index: SpanIndex): Map<string, Deletion[]> =>
  index.memo('stuck-deletions', () => {
    const m = new Map<string, Deletion[]>();
    for (const h of index.objects.values()) {
      const d = deletionsOf(index, h);
      if (d.length) m.set(h.key, d);
    }
    return m;
  });

/** Writes that removed the last finalizer of a deleted object (answered with its last version: no diff, same resourceVersion). */
export const finalizingWrites = (index: SpanIndex): Set<SpanRecord> =>
  index.memo('finalizing-writes', () => new Set([...allDeletions(index).values()].flat().flatMap((d) => (d.finalizing && d.done ? [d.done] : []))));

/** The cause of a deletion held by finalizers: who added the first one still holding it. */
function causeOf(d: Deletion): { cause?: Cause; finalizer: string; adder?: SpanRecord } {
  const [finalizer, adder] = [...d.remaining.entries()].find(([, s]) => s) ?? [...d.remaining.entries()][0] ?? ['?', undefined];
  if (!adder) return { finalizer };
  const asked = adder === d.del;
  const cause: Cause = {
    actor: actorOf(adder),
    verb: verbOf(adder),
    object: adder.object,
    time: isoOf(adder.startUs),
    summary: asked
      ? `${actorOf(adder)} asked for the deletion of ${refText(adder.object)} with finalizer ${finalizer} (${finalizer === 'foregroundDeletion' ? 'foreground' : 'orphan'} propagation)`
      : `${actorOf(adder)} ${verbOf(adder) === 'create' ? 'created' : `${verbOf(adder)}ed`} ${refText(adder.object)} with finalizer ${finalizer}, which nobody removed`,
    redirect: redirectUrl(adder.object, adder.startUs),
  };
  return { cause, finalizer, adder };
}

/** Dependents (owner-reference children) still there at the end: for a foreground deletion. */
function dependentsLeft(index: SpanIndex, d: Deletion, stuck: Map<string, Deletion>): ObjectRef[] {
  return index
    .childrenOf(d.h.key, 'children')
    .filter((k) => {
      const h = index.history(k);
      const last = h?.events.filter(isWrite).at(-1);
      return !!h && (stuck.has(k) || (last !== undefined && !isDelete(last)));
    })
    .map((k) => index.refOf(k));
}

const finalizerFilter = (l: { path: string }): boolean => (FINALIZER_PATHS as readonly string[]).includes(l.path) || l.path === 'metadata.deletionTimestamp';

interface Judged {
  d: Deletion;
  sec: number;
  severity: Finding['severity'];
}

function judge(d: Deletion, endUs: number, graceSec: number): Judged | undefined {
  const sec = ((d.done?.startUs ?? endUs) - d.del.startUs) / 1e6;
  if (sec <= graceSec) return undefined;
  const severity = d.done ? 'info' : sec >= ERROR_FACTOR * graceSec ? 'error' : 'warning';
  return { d, sec, severity };
}

/** The first chain line: how long it stayed (or stays) Terminating. */
const symptom = (d: Deletion, sec: number): string =>
  `${refText(d.h.ref)} ${d.done ? `stayed Terminating for ${formatSec(sec)}` : `still Terminating ${formatSec(sec)} after its delete`}`;

interface Parts {
  title: string;
  objects: ObjectRef[];
  /** who added the finalizer, who deleted, ... (empty ones dropped) */
  actors: string[];
  evidence: Evidence[];
  chain: string[];
  data: Record<string, unknown>;
  cause?: Cause | undefined;
}

/** A finding of a deletion: the parts plus what every one carries (times, link, timeout). */
function deletionFinding(j: Judged, graceSec: number, p: Parts): Finding {
  const { d, sec } = j;
  const f: Finding = {
    detector: 'stuck-deletions',
    severity: j.severity,
    title: p.title,
    objects: p.objects,
    actors: [...new Set(p.actors.filter(Boolean))],
    evidence: p.evidence,
    traceId: d.del.traceId,
    redirect: redirectUrl(d.h.ref, d.del.startUs),
    chain: p.chain,
    data: {
      deletionRequested: isoOf(d.del.startUs),
      deletedBy: actorOf(d.del),
      terminatingSec: Math.round(sec * 1000) / 1000,
      stillThere: !d.done,
      graceSec,
      ...(d.done ? { completed: isoOf(d.done.startUs) } : {}),
      ...p.data,
    },
  };
  if (p.cause) f.cause = p.cause;
  return f;
}

/** The finding of one object's stuck (or slow) deletion. */
function objectFinding(index: SpanIndex, j: Judged, stuck: Map<string, Deletion>, graceSec: number): Finding {
  const { d, sec } = j;
  const ref = d.h.ref;
  const { cause, finalizer, adder } = causeOf(d);
  const deps = finalizer === 'foregroundDeletion' ? dependentsLeft(index, d, stuck) : [];
  const by =
    adder && adder !== d.del
      ? ` (added by ${actorOf(adder)} at ${isoOf(adder.startUs)})`
      : adder
        ? ` (asked for by ${actorOf(adder)})`
        : ' (added before the range)';
  const what = d.done
    ? `took ${formatSec(sec)} to delete: finalizer ${finalizer}${by} was removed by ${actorOf(d.done)} only at ${isoOf(d.done.startUs)}`
    : deps.length
      ? `is stuck Terminating for ${formatSec(sec)}: foreground deletion waits on ${deps.length} dependent${deps.length === 1 ? '' : 's'} still there (${deps.slice(0, 3).map(refText).join(', ')}${deps.length > 3 ? ', …' : ''})`
      : `is stuck Terminating for ${formatSec(sec)}: finalizer ${finalizer}${by} was never removed`;
  const evidence: Evidence[] = [];
  if (adder && adder !== d.del) evidence.push(evidenceOf(adder, finalizerFilter));
  evidence.push(evidenceOf(d.del));
  if (d.done) evidence.push(evidenceOf(d.done, finalizerFilter));
  const chain = [
    symptom(d, sec),
    `${actorOf(d.del)} asked for its deletion at ${isoOf(d.del.startUs)}; finalizer ${[...d.remaining.keys()].join(', ')} held it`,
  ];
  if (cause && adder !== d.del) chain.push(`${cause.actor} added finalizer ${finalizer} at ${cause.time}`);
  return deletionFinding(j, graceSec, {
    title: `${refText(ref)} ${what}`,
    objects: [ref, ...deps.slice(0, 9)],
    actors: [adder ? actorOf(adder) : '', actorOf(d.del), d.done ? actorOf(d.done) : ''],
    evidence,
    chain,
    data: { finalizers: [...d.remaining.keys()], ...(deps.length ? { dependents: deps.map(refText) } : {}) },
    cause,
  });
}

/** The namespace controller's conditions that are True now (type → message), from its status writes since `fromUs`. */
function nsConditions(index: SpanIndex, h: ObjectHistory, fromUs: number): Record<string, string> {
  const conds: Record<string, Record<string, unknown>> = {};
  for (const e of h.events) {
    if (e.startUs < fromUs || !isWrite(e)) continue;
    for (const l of index.diff(e)) {
      const m = /^status\.conditions\[type=(\w+)\](?:\.(status|message))?$/.exec(l.path);
      if (!m || !NS_CONDITIONS.includes(m[1]!)) continue;
      const v = diffValue(l.new);
      if (m[2]) (conds[m[1]!] ??= {})[m[2]] = v;
      else if (v && typeof v === 'object') conds[m[1]!] = { ...(v as Record<string, unknown>) };
      else delete conds[m[1]!];
    }
  }
  const out: Record<string, string> = {};
  for (const [type, c] of Object.entries(conds)) if (c.status === 'True' && typeof c.message === 'string' && c.message !== '…') out[type] = c.message;
  return out;
}

/**
 * A namespace stuck Terminating: what holds it (the objects inside still Terminating, the namespace
 * controller's conditions). Its own finalizer (`kubernetes`) is the controller's: the cause is the
 * holder's (who added the finalizer holding it).
 */
function namespaceFinding(index: SpanIndex, j: Judged, stuck: Map<string, Deletion>, graceSec: number): Finding {
  const { d, sec } = j;
  const ref = d.h.ref;
  const holders = [...stuck.values()].filter((x) => x.h.ref.namespace === ref.name && x.h.ref.cluster === ref.cluster);
  const conditions = nsConditions(index, d.h, d.del.startUs);
  const condText = Object.values(conditions);
  const held = holders[0];
  const hc = held ? causeOf(held) : undefined;
  const added = hc?.adder && hc.adder !== held!.del ? hc.adder : undefined;
  const holdText = held
    ? `${refText(held.h.ref)} holds it (finalizer ${hc!.finalizer}${added ? `, added by ${actorOf(added)} at ${isoOf(added.startUs)}` : ''})${holders.length > 1 ? ` and ${holders.length - 1} more` : ''}`
    : (conditions.NamespaceFinalizersRemaining ?? conditions.NamespaceContentRemaining ?? 'the namespace controller has not finalized it');
  const evidence = [...(added ? [evidenceOf(added, finalizerFilter)] : []), evidenceOf(d.del), ...(held ? [evidenceOf(held.del)] : [])];
  if (d.done) evidence.push(evidenceOf(d.done, finalizerFilter));
  const chain = [
    symptom(d, sec),
    `${actorOf(d.del)} asked for its deletion at ${isoOf(d.del.startUs)}; the namespace controller waits for ${held ? refText(held.h.ref) : 'its content'}`,
  ];
  if (held) chain.push(`${refText(held.h.ref)} held by finalizer ${hc!.finalizer}${condText.length ? ` (${condText.join('; ')})` : ''}`);
  else chain.push(...condText);
  if (hc?.cause && added) chain.push(`${hc.cause.actor} added finalizer ${hc.finalizer} at ${hc.cause.time}`);
  return deletionFinding(j, graceSec, {
    title: `${refText(ref)} ${d.done ? `took ${formatSec(sec)} to delete (Terminating until ${isoOf(d.done.startUs)})` : `is stuck Terminating for ${formatSec(sec)}`}: ${holdText}`,
    objects: [ref, ...holders.slice(0, 9).map((x) => x.h.ref)],
    actors: [added ? actorOf(added) : '', actorOf(d.del), held ? actorOf(held.del) : ''],
    evidence,
    chain,
    data: { holders: holders.map((x) => refText(x.h.ref)), conditions },
    cause: hc?.cause,
  });
}

export const stuckDeletions: Detector = {
  name: 'stuck-deletions',
  description: 'objects and namespaces stuck Terminating past a grace: the finalizer, who added it, what holds a namespace',
  detect({ index, endUs, thresholds: t }) {
    const grace = t.deletionTimeoutSec;
    const judged: Judged[] = [];
    // object key → its deletion still open at the end (past the grace or not: a namespace's content
    // is deleted only after the namespace, so what holds it may be Terminating for less time)
    const stuck = new Map<string, Deletion>();
    for (const [key, ds] of allDeletions(index)) {
      for (const d of ds) {
        if (!d.done) stuck.set(key, d);
        const j = judge(d, endUs, grace);
        if (j) judged.push(j);
      }
    }
    return judged.map((j) =>
      j.d.h.ref.resource === 'namespaces' && j.d.h.ref.group === '' ? namespaceFinding(index, j, stuck, grace) : objectFinding(index, j, stuck, grace),
    );
  },
};
