// Failures of workloads as the record shows them (kwok Stages simulate them the same way): Jobs
// that end Failed (past their backoffLimit), containers restarting over and over, claims left
// Pending with pods waiting on them, and nodes going NotReady whose pods are then evicted. Each
// finding names the workload (or node) and, as its cause, who created or last changed it.
import { Attr, type ObjectRef, type SpanRecord } from '../../../src/core/model.ts';
import type { Cause, Detector, Evidence, Finding, Thresholds } from '../types.ts';
import { podPhases } from '../pod-startup.ts';
import { diffValue, evidenceOf, field, formatSec, isCreate, isDelete, isRoutine, isoOf, redirectUrl, refText } from '../span-index.ts';
import type { DiffLine, ObjectHistory, SpanIndex } from '../span-index.ts';
import { isKubeEvent, subresourceOf, actorOf, verbOf } from '../../../src/core/span-view.ts';
import { isWrite } from '../../../src/core/failed.ts';

const NAME = 'workload-failures';
const plural = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`;
const reasonOf = (e: SpanRecord): string => String(e.attributes[Attr.eventReason] ?? '');
const messageOf = (e: SpanRecord): string => String(e.attributes[Attr.eventMessage] ?? '');

/** The owner chain of an object, itself first, its top owner (Deployment, CronJob…) last. */
export function ownerChain(index: SpanIndex, key: string): string[] {
  const out = [key];
  for (let o = index.ownerOf(key); o && !out.includes(o) && out.length < 6; o = index.ownerOf(o)) out.push(o);
  return out;
}

/** A spec write (create, update, patch; not status) of someone other than a built-in controller. */
const isSpecWrite = (e: SpanRecord): boolean => isWrite(e) && subresourceOf(e) === '' && !isDelete(e) && !isRoutine(e);

/** A cause from a write: who did what to which object, and when. */
function causeFrom(e: SpanRecord, summary: string): Cause {
  return { actor: actorOf(e), verb: verbOf(e), object: e.object, time: isoOf(e.startUs), summary, redirect: redirectUrl(e.object, e.startUs) };
}

/**
 * The cause of a workload's failure: the last create or spec change of its top owner (else of the
 * owners below it) before `beforeUs` by someone other than a built-in controller.
 */
function workloadCause(index: SpanIndex, key: string, beforeUs: number, what: string): { cause?: Cause; write?: SpanRecord } {
  for (const k of ownerChain(index, key).reverse()) {
    const w = index
      .history(k)
      ?.events.filter((e) => e.startUs <= beforeUs && isSpecWrite(e))
      .at(-1);
    if (!w) continue;
    const did = verbOf(w) === 'create' ? 'created' : `changed (${verbOf(w)})`;
    return { write: w, cause: causeFrom(w, `${actorOf(w)} ${did} ${refText(w.object)}, whose ${what}`) };
  }
  return {};
}

function finding(p: Omit<Finding, 'detector' | 'redirect' | 'traceId'> & { at: SpanRecord }): Finding {
  const { at, cause, ...rest } = p;
  const f: Finding = { detector: NAME, ...rest, traceId: at.traceId, redirect: redirectUrl(at.object, at.startUs) };
  if (cause) f.cause = cause;
  return f;
}

// ---- Jobs that failed ------------------------------------------------------------------------

interface JobFailure {
  h: ObjectHistory;
  at: SpanRecord;
  reason: string;
  message: string;
  failed: number;
}

/** A diff line that adds the Job's Failed condition (True): its reason and message, if the line holds them. */
function failedCondition(l: DiffLine): { reason?: string; message?: string } | undefined {
  if (l.path === 'status.conditions[type=Failed].status') return diffValue(l.new) === 'True' ? {} : undefined;
  if (l.path !== 'status.conditions[type=Failed]') return undefined;
  const v = diffValue(l.new);
  if (v === '…') return {}; // compacted: the condition is only ever added True
  if (!v || typeof v !== 'object' || field(v, 'status') !== 'True') return undefined;
  return { reason: String(field(v, 'reason') ?? ''), message: String(field(v, 'message') ?? '') };
}

/** The write that marked a Job Failed (condition Failed, or status.failed past spec.backoffLimit). */
function jobFailure(index: SpanIndex, h: ObjectHistory): JobFailure | undefined {
  let failed = 0;
  let backoffLimit = 6; // the API's default
  let complete = false;
  for (const e of h.events) {
    if (!isWrite(e)) continue;
    const snap = verbOf(e) === 'create' ? index.snapshot(e) : undefined;
    const limit = field(snap, 'spec', 'backoffLimit');
    if (typeof limit === 'number') backoffLimit = limit;
    let cond: { reason?: string; message?: string } | undefined;
    for (const l of index.diff(e)) {
      if (l.path === 'status.failed') failed = Number(diffValue(l.new) ?? 0) || 0;
      if (l.path.startsWith('status.conditions[type=Complete]')) complete = true;
      cond ??= failedCondition(l);
    }
    if (cond || (!complete && failed > backoffLimit)) {
      const ev = h.events.find((x) => isKubeEvent(x) && x.startUs >= e.startUs - 1e6 && reasonOf(x) !== '' && reasonOf(x) !== 'SuccessfulCreate');
      const reason = cond?.reason || (ev ? reasonOf(ev) : 'BackoffLimitExceeded');
      const message = cond?.message || (ev ? messageOf(ev) : `${failed} failed pods, backoffLimit ${backoffLimit}`);
      for (const l of index.diff(e)) if (l.path === 'status.failed') failed = Number(diffValue(l.new) ?? 0) || failed;
      return { h, at: e, reason, message, failed };
    }
  }
  return undefined;
}

function jobFindings(index: SpanIndex): Finding[] {
  const out: Finding[] = [];
  for (const h of index.ofResource('batch', 'jobs')) {
    const j = jobFailure(index, h);
    if (!j) continue;
    const pods = index.childrenOf(h.key, 'children').map((k) => index.refOf(k));
    const { cause, write } = workloadCause(index, h.key, j.at.startUs, `pods failed until the Job gave up (${j.reason})`);
    const failedText = j.failed ? `after ${plural(j.failed, 'failed pod')}` : `(${plural(pods.length, 'pod')})`;
    const events = h.events.filter((e) => isKubeEvent(e) && e.attributes[Attr.eventType] === 'Warning').slice(0, 2);
    out.push(
      finding({
        severity: 'warning',
        title: `${refText(h.ref)} failed (${j.reason}) ${failedText}: ${j.message}`,
        objects: [h.ref, ...pods.slice(0, 9)],
        actors: [...new Set([cause?.actor ?? '', actorOf(j.at)].filter(Boolean))],
        evidence: [
          ...(write ? [evidenceOf(write)] : []),
          evidenceOf(j.at, (l) => l.path.startsWith('status.conditions[type=Failed]') || l.path === 'status.failed'),
          ...events.map((e) => evidenceOf(e)),
        ],
        at: j.at,
        data: { reason: j.reason, message: j.message, failedPods: j.failed, pods: pods.map((p) => p.name) },
        cause,
        chain: [
          `${refText(h.ref)} marked Failed (${j.reason}) at ${isoOf(j.at.startUs)}`,
          `${plural(j.failed || pods.length, 'pod')} of it failed; ${actorOf(j.at)} gave up retrying`,
          ...(cause ? [`${cause.actor} ${cause.verb === 'create' ? 'created' : 'changed'} ${refText(cause.object)} at ${cause.time}`] : []),
        ],
      }),
    );
  }
  return out;
}

// ---- pods: containers restarting, Ready flapping, pods Failed ---------------------------------

/** What one pod did: the writes that showed it (a restartCount rise, Ready going False, phase Failed), how often in all. */
interface PodSymptom {
  key: string;
  ref: ObjectRef;
  writes: SpanRecord[];
  count: number;
  /** why: `CrashLoopBackOff`, `Error (exit code 1)`, `Evicted` */
  reasons: Set<string>;
}

const CONTAINER = /^status\.(?:initC|c)ontainerStatuses\[name=([^\]]+)\](.*)$/;

/** Container reasons a diff line names (a waiting or terminated reason, a non-zero exit code). */
function containerReason(rest: string, v: unknown, reasons: Set<string>): void {
  if (rest.endsWith('.waiting.reason') || rest.endsWith('.terminated.reason')) {
    if (typeof v === 'string' && v !== '…' && v !== 'Completed') reasons.add(v);
  }
  if (rest.endsWith('terminated.exitCode') && typeof v === 'number' && v !== 0) reasons.add(`exit code ${v}`);
}

/** The parsed diff of a span (one pod's, parsed once for its three symptoms). */
type DiffOf = (e: SpanRecord) => DiffLine[];

/** A pod's restarts, Ready flips and failure, each diff of it parsed once. */
function podSymptoms(index: SpanIndex, h: ObjectHistory): { restarts: PodSymptom; flaps: PodSymptom; failure: PodSymptom } {
  const parsed = new Map<SpanRecord, DiffLine[]>();
  const diff: DiffOf = (e) => {
    let lines = parsed.get(e);
    if (!lines) parsed.set(e, (lines = index.diff(e)));
    return lines;
  };
  return { restarts: podRestarts(diff, h), flaps: readyFlaps(index, diff, h), failure: podFailure(diff, h) };
}

/** The restarts of one pod: restartCount rises seen in its status writes (not the count it came with). */
function podRestarts(diff: DiffOf, h: ObjectHistory): PodSymptom {
  const r: PodSymptom = { key: h.key, ref: h.ref, writes: [], count: 0, reasons: new Set() };
  const known = new Map<string, number>();
  for (const e of h.events) {
    if (!isWrite(e)) continue;
    let rose = 0;
    for (const l of diff(e)) {
      const m = CONTAINER.exec(l.path);
      if (!m) continue;
      const [, name, rest] = m as unknown as [string, string, string];
      const v = diffValue(l.new);
      const n = rest === '.restartCount' ? Number(v) : rest === '' ? Number(field(v, 'restartCount')) : NaN;
      if (Number.isFinite(n)) {
        const before = rest === '.restartCount' ? Number(diffValue(l.old) ?? known.get(name) ?? n) : (known.get(name) ?? n);
        if (n > before) rose += n - before;
        known.set(name, n);
      }
      containerReason(rest, v, r.reasons);
    }
    if (rose > 0) {
      r.writes.push(e);
      r.count += rose;
    }
  }
  return r;
}

/** The node lifecycle controller marks a NotReady node's pods not Ready: the node's story (nodeFindings), not the pod's. */
const NODE_CONTROLLER = 'system:serviceaccount:kube-system:node-controller';

/** The Ready status of a create snapshot's conditions, if it has one. */
function readyAtCreate(index: SpanIndex, e: SpanRecord): string | undefined {
  const conds = field(index.snapshot(e), 'status', 'conditions');
  const c = Array.isArray(conds) ? conds.find((x) => field(x, 'type') === 'Ready') : undefined;
  const s = field(c, 'status');
  return typeof s === 'string' ? s : undefined;
}

/** Ready going True → False in a pod's status writes, not after its delete (a pod goes NotReady as it terminates; a re-created name counts again). */
function readyFlaps(index: SpanIndex, diff: DiffOf, h: ObjectHistory): PodSymptom {
  const r: PodSymptom = { key: h.key, ref: h.ref, writes: [], count: 0, reasons: new Set() };
  let ready: string | undefined;
  let deleted = false;
  for (const e of h.events) {
    if (isCreate(e)) [ready, deleted] = [readyAtCreate(index, e), false];
    if (isDelete(e)) deleted = true;
    if (deleted || !isWrite(e)) continue;
    for (const l of diff(e)) {
      const s = readyStatus(l);
      if (s === undefined) continue;
      if (ready === 'True' && s !== 'True' && actorOf(e) !== NODE_CONTROLLER) {
        r.writes.push(e);
        r.count++;
      }
      ready = s;
    }
  }
  return r;
}

/** The write that set a pod's phase Failed (before any delete of it, not by a kube-system controller: pod GC), with its reasons. */
function podFailure(diff: DiffOf, h: ObjectHistory): PodSymptom {
  const r: PodSymptom = { key: h.key, ref: h.ref, writes: [], count: 0, reasons: new Set() };
  for (const e of h.events) {
    if (isDelete(e)) break;
    if (!isWrite(e) || actorOf(e).startsWith('system:serviceaccount:kube-system:')) continue;
    const lines = diff(e);
    if (!lines.some((l) => l.path === 'status.phase' && diffValue(l.new) === 'Failed')) continue;
    for (const l of lines) {
      const m = CONTAINER.exec(l.path);
      if (l.path === 'status.reason' && typeof diffValue(l.new) === 'string') r.reasons.add(String(diffValue(l.new)));
      else if (m) containerReason(m[2]!, diffValue(l.new), r.reasons);
    }
    r.writes.push(e);
    r.count = 1;
    break;
  }
  return r;
}

/** How a kind of pod symptom reads in a finding. */
interface PodRule {
  /** `containers restarted 5 times`, from the total */
  headline: (total: number) => string;
  /** whether the title gives the period and the rate (a symptom that repeats) */
  repeats: boolean;
  /** what the workload's author's change led to (the cause's summary) */
  led: string;
  /** data keys for the count, the first and the last write */
  keys: [count: string, first: string, last: string];
  /** the chain's first line, `$` the subject: `containers of $ restarted` */
  did: string;
  evidence: (l: DiffLine) => boolean;
}

const RESTARTS: PodRule = {
  headline: (n) => `containers restarted ${n} times`,
  repeats: true,
  led: 'containers then kept restarting',
  keys: ['restarts', 'firstRestart', 'lastRestart'],
  did: 'containers of $ restarted',
  evidence: (l) => CONTAINER.test(l.path) && /restartCount|reason|exitCode/.test(l.path),
};

const FLAPS: PodRule = {
  headline: (n) => `Ready went True → False ${n} times`,
  repeats: true,
  led: 'pods then kept flipping Ready',
  keys: ['readyFlips', 'firstFlip', 'lastFlip'],
  did: 'Ready of $ went False',
  evidence: (l) => readyStatus(l) !== undefined,
};

const FAILED: PodRule = {
  headline: () => 'Failed',
  repeats: false,
  led: 'pods then failed',
  keys: ['failedPods', 'firstFailed', 'lastFailed'],
  did: '$ Failed',
  evidence: (l) => l.path === 'status.phase' || l.path === 'status.reason' || (CONTAINER.test(l.path) && /reason|exitCode/.test(l.path)),
};

/** One finding per top owner (pod → ReplicaSet → Deployment) of the pods showing a symptom at least `min` times. */
function podFindings(index: SpanIndex, pods: PodSymptom[], min: number, rule: PodRule): Finding[] {
  const groups = new Map<string, PodSymptom[]>();
  for (const r of pods) {
    if (r.count < Math.max(1, min)) continue;
    const top = ownerChain(index, r.key).at(-1)!;
    groups.set(top, [...(groups.get(top) ?? []), r]);
  }
  return [...groups].map(([top, group]) => podFinding(index, top, group, rule));
}

function podFinding(index: SpanIndex, top: string, pods: PodSymptom[], rule: PodRule): Finding {
  pods.sort((a, b) => b.count - a.count);
  const writes = pods.flatMap((p) => p.writes).sort((a, b) => a.startUs - b.startUs);
  const first = writes[0]!;
  const last = writes.at(-1)!;
  const total = pods.reduce((n, p) => n + p.count, 0);
  const reasons = [...new Set(pods.flatMap((p) => [...p.reasons]))];
  const topRef = index.refOf(top);
  const isPod = pods.length === 1 && pods[0]!.key === top;
  const owners = isPod ? [] : ownerChain(index, pods[0]!.key).slice(1);
  const period = (last.startUs - first.startUs) / 1e6;
  const every = total > 1 && rule.repeats ? ` in ${formatSec(period)} (every ~${formatSec(period / (total - 1))})` : '';
  const because = reasons.length ? ` (${reasons.join(', ')})` : '';
  const { cause, write } = workloadCause(index, top, first.startUs, `${rule.led}${because}`);
  const subject = isPod ? refText(topRef) : `${plural(pods.length, 'pod')} of ${refText(topRef)}`;
  const [countKey, firstKey, lastKey] = rule.keys;
  return finding({
    severity: 'warning',
    title: `${subject}: ${rule.headline(total)}${every}${reasons.length ? `: ${reasons.join(', ')}` : ''}`,
    objects: [...owners.map((k) => index.refOf(k)), ...pods.slice(0, 9).map((p) => p.ref)],
    actors: [...new Set([cause?.actor ?? '', actorOf(first)].filter(Boolean))],
    evidence: [...(write ? [evidenceOf(write)] : []), ...[...new Set([first, last])].map((e) => evidenceOf(e, rule.evidence))],
    at: first,
    data: {
      [countKey]: total,
      pods: Object.fromEntries(pods.map((p) => [p.ref.name, p.count])),
      reasons,
      [firstKey]: isoOf(first.startUs),
      [lastKey]: isoOf(last.startUs),
    },
    cause,
    chain: [
      `${rule.did.replace('$', subject)} ${total === 1 ? 'at' : `${total} times from`} ${isoOf(first.startUs)}${total === 1 ? '' : ` to ${isoOf(last.startUs)}`} (reported by ${actorOf(first)})`,
      ...(cause ? [`${cause.actor} ${cause.verb === 'create' ? 'created' : 'changed'} ${refText(cause.object)} at ${cause.time}`] : []),
    ],
  });
}

/** Restarts, Ready flips (of pods not restarting: a crash makes a pod NotReady too) and Failed pods (not of a Job: jobFindings). */
function podSymptomFindings(index: SpanIndex, t: Thresholds): Finding[] {
  const pods = index.ofResource('', 'pods');
  const symptoms = pods.map((h) => podSymptoms(index, h));
  const restarts = symptoms.map((p) => p.restarts);
  const restarting = new Set(restarts.filter((r) => r.count > 0).map((r) => r.key));
  const ofJob = (key: string) => ownerChain(index, key).some((k) => index.refOf(k).resource === 'jobs');
  return [
    ...podFindings(index, restarts, t.restartMin, RESTARTS),
    ...podFindings(
      index,
      symptoms.filter((p) => !restarting.has(p.flaps.key)).map((p) => p.flaps),
      t.readyFlapMin,
      FLAPS,
    ),
    ...podFindings(
      index,
      symptoms.filter((p) => !ofJob(p.failure.key)).map((p) => p.failure),
      1,
      FAILED,
    ),
  ];
}

// ---- claims left Pending ---------------------------------------------------------------------

/** When a claim got Bound (status.phase), if it did. */
function boundAt(index: SpanIndex, h: ObjectHistory): SpanRecord | undefined {
  return h.events.find(
    (e) =>
      isWrite(e) &&
      (field(index.snapshot(e), 'status', 'phase') === 'Bound' || index.diff(e).some((l) => l.path === 'status.phase' && diffValue(l.new) === 'Bound')),
  );
}

/** The latest Warning Event message on the claim (ProvisioningFailed…), else on the pods (FailedScheduling). */
function pendingMessage(index: SpanIndex, keys: string[]): SpanRecord | undefined {
  for (const k of keys) {
    const e = index
      .history(k)
      ?.events.filter((x) => isKubeEvent(x) && x.attributes[Attr.eventType] === 'Warning')
      .at(-1);
    if (e) return e;
  }
  return undefined;
}

function pvcFindings(index: SpanIndex, endUs: number, t: Thresholds): Finding[] {
  const out: Finding[] = [];
  const phases = new Map(podPhases(index).map((p) => [p.key, p]));
  for (const h of index.ofResource('', 'persistentvolumeclaims')) {
    const create = h.events.find((e) => isWrite(e) && verbOf(e) === 'create');
    if (!create) continue;
    const bound = boundAt(index, h);
    const until = bound?.startUs ?? index.deletedAt(h.key, create.startUs)?.startUs ?? endUs;
    const sec = (until - create.startUs) / 1e6;
    if (sec <= t.pvcPendingTimeoutSec) continue;
    // pods that mount it and were not scheduled while it was Pending
    const waiting = index
      .parentsOf(h.key, 'uses')
      .map((k) => phases.get(k))
      .filter((p) => p !== undefined && p.ref.resource === 'pods' && (!p.bind || p.bind.startUs >= until));
    if (!waiting.length) continue; // a claim nobody waits on (WaitForFirstConsumer) may stay Pending
    out.push(pvcFinding(index, h, create, bound, sec, waiting as NonNullable<(typeof waiting)[number]>[]));
  }
  return out;
}

function pvcFinding(
  index: SpanIndex,
  h: ObjectHistory,
  create: SpanRecord,
  bound: SpanRecord | undefined,
  sec: number,
  waiting: { key: string; ref: ObjectRef; create: SpanRecord }[],
): Finding {
  const sc = field(index.snapshot(create), 'spec', 'storageClassName');
  const msg = pendingMessage(index, [h.key, ...waiting.map((p) => p.key)]);
  const tops = [...new Set(waiting.map((p) => ownerChain(index, p.key).at(-1)!))].filter((k) => !waiting.some((p) => p.key === k));
  // a claim of a StatefulSet's template is created by its controller: the workload's author is the cause
  const own = isRoutine(create)
    ? undefined
    : causeFrom(create, `${actorOf(create)} created ${refText(h.ref)}${sc ? ` of storage class ${sc}` : ''}, which no volume was bound to`);
  const cause = own ?? workloadCause(index, waiting[0]!.key, create.startUs + 1e6 * sec, `pods wait on ${refText(h.ref)}`).cause;
  const names = waiting.slice(0, 3).map((p) => p.ref.name);
  const state = bound ? `was Pending for ${formatSec(sec)} (Bound at ${isoOf(bound.startUs)})` : `still Pending after ${formatSec(sec)}`;
  return finding({
    severity: bound ? 'info' : 'warning',
    title: `${refText(h.ref)}${sc ? ` (storage class ${sc})` : ''} ${state}; ${plural(waiting.length, 'pod')} wait${waiting.length === 1 ? 's' : ''} on it: ${names.join(', ')}${waiting.length > 3 ? ', …' : ''}${msg ? ` — ${messageOf(msg)}` : ''}`,
    objects: [h.ref, ...waiting.slice(0, 8).map((p) => p.ref), ...tops.map((k) => index.refOf(k))],
    actors: [...new Set([cause?.actor ?? '', actorOf(create)].filter(Boolean))],
    evidence: [evidenceOf(create), ...(msg ? [evidenceOf(msg)] : []), ...waiting.slice(0, 3).map((p) => evidenceOf(p.create))],
    at: create,
    data: {
      pendingSec: Math.round(sec * 1000) / 1000,
      storageClass: sc ?? null,
      waitingPods: waiting.map((p) => p.ref.name),
      message: msg ? messageOf(msg) : null,
    },
    cause,
    chain: [
      `${plural(waiting.length, 'pod')} not scheduled: ${refText(h.ref)} ${state}`,
      ...(msg ? [`${reasonOf(msg)}: ${messageOf(msg)}`] : []),
      ...(cause ? [`${cause.actor} ${cause.verb === 'create' ? 'created' : 'changed'} ${refText(cause.object)} at ${cause.time}`] : []),
    ],
  });
}

// ---- nodes NotReady and the pods evicted from them -------------------------------------------

/** The Ready status a diff line sets, if it sets one. */
function readyStatus(l: DiffLine): string | undefined {
  if (l.path === 'status.conditions[type=Ready].status') return String(diffValue(l.new));
  if (l.path !== 'status.conditions[type=Ready]') return undefined;
  const s = field(diffValue(l.new), 'status');
  return typeof s === 'string' ? s : undefined;
}

/** Stretches in which a node was NotReady: the write that made it so, and the one that ended it. */
function notReadyStretches(index: SpanIndex, h: ObjectHistory): { from: SpanRecord; to?: SpanRecord }[] {
  const out: { from: SpanRecord; to?: SpanRecord }[] = [];
  for (const e of h.events) {
    if (!isWrite(e)) continue;
    for (const l of index.diff(e)) {
      const s = readyStatus(l);
      if (s === undefined) continue;
      const open = out.at(-1) && !out.at(-1)!.to;
      if (s !== 'True' && !open) out.push({ from: e });
      else if (s === 'True' && open) out.at(-1)!.to = e;
    }
  }
  return out;
}

/** How long before a node goes NotReady another actor's write of it counts as what made it so. */
const NODE_CAUSE_WINDOW_US = 120e6;

function nodeFindings(index: SpanIndex, endUs: number): Finding[] {
  const out: Finding[] = [];
  const phases = podPhases(index);
  for (const h of index.ofResource('', 'nodes')) {
    for (const st of notReadyStretches(index, h)) {
      const until = st.to?.startUs ?? endUs;
      // deleted by the controllers (taint eviction, pod GC), not by a user's rollout or cleanup
      const evicted = phases.filter((p) => p.node === h.ref.name && p.del && isRoutine(p.del) && p.del.startUs >= st.from.startUs && p.del.startUs <= until);
      if (!evicted.length) continue;
      // the reporter of the status (kubelet, kwok) is not the cause: another actor's write just before is
      const reporter = actorOf(st.from);
      const w = h.events
        .filter(
          (e) => isWrite(e) && !isRoutine(e) && actorOf(e) !== reporter && e.startUs <= st.from.startUs && e.startUs >= st.from.startUs - NODE_CAUSE_WINDOW_US,
        )
        .at(-1);
      const by = w ?? st.from;
      const cause = causeFrom(
        by,
        `${actorOf(by)} ${w ? `${verbOf(by)}ed ${refText(h.ref)} just before it went NotReady` : `reported ${refText(h.ref)} NotReady`}`,
      );
      const tops = [...new Set(evicted.map((p) => ownerChain(index, p.key).at(-1)!))].filter((k) => !evicted.some((p) => p.key === k));
      const deleters = [...new Set(evicted.map((p) => actorOf(p.del!)))];
      out.push(
        finding({
          severity: 'warning',
          title: `${refText(h.ref)} went NotReady at ${isoOf(st.from.startUs)}${st.to ? ` (Ready again at ${isoOf(st.to.startUs)})` : ''}; ${plural(evicted.length, 'pod')} evicted from it: ${evicted
            .slice(0, 3)
            .map((p) => p.ref.name)
            .join(', ')}${evicted.length > 3 ? ', …' : ''}`,
          objects: [h.ref, ...evicted.slice(0, 8).map((p) => p.ref), ...tops.map((k) => index.refOf(k))],
          actors: [...new Set([cause.actor, actorOf(st.from), ...deleters])],
          evidence: [
            ...(w ? [evidenceOf(w)] : []),
            evidenceOf(st.from, (l) => readyStatus(l) !== undefined),
            ...evicted.slice(0, 4).map((p) => evidenceOf(p.del!)),
          ] as Evidence[],
          at: st.from,
          data: {
            notReadyAt: isoOf(st.from.startUs),
            readyAgainAt: st.to ? isoOf(st.to.startUs) : null,
            evictedPods: evicted.map((p) => p.ref.name),
            deletedBy: deleters,
          },
          cause,
          chain: [
            `${plural(evicted.length, 'pod')} deleted from ${refText(h.ref)} by ${deleters.join(', ')}`,
            `${refText(h.ref)} NotReady (${actorOf(st.from)} at ${isoOf(st.from.startUs)})`,
            ...(w ? [`${cause.actor} ${verbOf(w)}ed ${refText(h.ref)} at ${cause.time}`] : []),
          ],
        }),
      );
    }
  }
  return out;
}

export const workloadFailures: Detector = {
  name: NAME,
  description: 'Jobs that failed, containers restarting, claims left Pending with pods waiting, nodes NotReady whose pods were evicted',
  detect({ index, endUs, thresholds: t }) {
    return [...jobFindings(index), ...podSymptomFindings(index, t), ...pvcFindings(index, endUs, t), ...nodeFindings(index, endUs)];
  },
};
