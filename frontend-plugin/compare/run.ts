// One side of a comparison read from a store: the driving actions (export's walk, the same actor
// rule), the controllers' reactions to each (until the next driving action), the pod startup
// phases (the pod startup report's definitions) per top-level owner, and the diagnosis' findings.
// A namespace prefix (a re-enactment with --namespace-prefix) narrows the side to the namespaces
// that carry it; names are compared without it (align.ts).
import type { ObjectRef, SpanRecord } from '../../src/core/model.ts';
import type { TraceBackend } from '../backend/backend.ts';
import { loadSpans } from '../diagnose/loader.ts';
import { podPhases, podStartupReport, type PhaseStats, type PodPhases, type PodStartupReport } from '../diagnose/pod-startup.ts';
import { buildReport } from '../diagnose/report.ts';
import { isCreate, isoOf, isRoutine, refText, SpanIndex } from '../diagnose/span-index.ts';
import { isFailed, isWrite } from '../../src/core/failed.ts';
import type { Finding } from '../diagnose/types.ts';
import { UsageError } from '../diagnose/params.ts';
import { exportReenact } from '../reenact/export.ts';
import { normalName, unprefixed } from './names.ts';

export interface SideSpec {
  /** How the side is named in the output (the store's path, with its prefix). */
  name: string;
  backend: TraceBackend;
  cluster?: string;
  startUs?: number;
  endUs?: number;
  /** Only namespaces starting with this, compared without it. */
  prefix: string;
}

/** What the controllers did after one driving action, until the next one. */
export interface Reaction {
  /** The action to the first write of a built-in controller in its namespace. */
  firstReactionMs?: number;
  /** Objects the built-in controllers created, by kind. */
  created: Record<string, number>;
  /** Pods created in the window and how long they took (the slowest). */
  pods: number;
  schedulingMs?: number;
  /** The action to the last of those pods Running. */
  runningMs?: number;
  notRunning: number;
  /** Requests the API server refused in the window (any actor). */
  failures: number;
}

export interface RunAction {
  seq: number;
  us: number;
  verb: string;
  subresource?: string;
  /** As recorded in this run (with its prefix). */
  ref: ObjectRef;
  reaction: Reaction;
}

export interface PodGroup {
  stats: PhaseStats;
  pods: number;
  /** The slowest pod (create → Running), to open its trace. */
  slowest?: { ref: ObjectRef; us: number };
}

export interface RunData {
  name: string;
  cluster: string;
  start: string;
  end: string;
  prefix: string;
  actions: RunAction[];
  podStartup: PodStartupReport;
  /** By top-level owner, prefix-free (`Deployment shop/web`), and `pods without an owner`. */
  groups: Record<string, PodGroup>;
  findings: Finding[];
}

async function clusterOf(side: SideSpec): Promise<string> {
  if (side.cluster !== undefined) return side.cluster;
  const clusters = await side.backend.clusters();
  if (clusters.length === 1) return clusters[0]!;
  throw new UsageError(`${side.name}: give a cluster: the store holds ${clusters.length === 0 ? 'none' : clusters.join(', ')}`);
}

/** Reads one side: spans of its range and prefix, the report, the actions with their reactions. */
export async function loadRun(side: SideSpec): Promise<RunData> {
  const cluster = await clusterOf(side);
  const all = await loadSpans(side.backend, { cluster, startUs: side.startUs ?? 0, endUs: side.endUs ?? Number.MAX_SAFE_INTEGER });
  const p = side.prefix;
  const spans = p
    ? all.filter((s) => (s.object.namespace ? s.object.namespace.startsWith(p) : s.object.resource !== 'namespaces' || s.object.name.startsWith(p)))
    : all;
  spans.sort((x, y) => x.startUs - y.startUs);
  const report = buildReport(spans, { startUs: side.startUs, endUs: side.endUs, cluster, podStartup: true, unique: true });
  const namespaces = [...new Set(spans.map((s) => s.object.namespace).filter((n) => n !== ''))];
  const file =
    p && namespaces.length === 0
      ? undefined
      : await exportReenact(side.backend, {
          cluster,
          namespaces: p ? namespaces : [],
          startUs: side.startUs,
          endUs: side.endUs,
          includeActors: [],
          excludeActors: [],
        });
  const index = new SpanIndex(spans);
  const events = spans.filter((s) => s.kind === 'event');
  const pods = podPhases(index);
  const recorded = (file?.actions ?? []).map((a) => ({ ...a, us: usOf(a.time) }));
  const actions = recorded.map((a, i): RunAction => {
    const ref: ObjectRef = { cluster, group: a.ref.group, resource: a.ref.resource, namespace: a.ref.namespace, name: a.ref.name };
    const scope = a.ref.namespace || (a.ref.group === '' && a.ref.resource === 'namespaces' ? a.ref.name : '');
    const until = recorded[i + 1]?.us ?? Number.POSITIVE_INFINITY;
    return {
      seq: a.seq,
      us: a.us,
      verb: a.verb,
      ...(a.subresource ? { subresource: a.subresource } : {}),
      ref,
      reaction: reactionOf(events, pods, a.us, until, scope),
    };
  });
  return {
    name: side.name,
    cluster,
    start: report.start,
    end: report.end,
    prefix: p,
    actions,
    podStartup: report.podStartup!,
    groups: podGroups(index, pods, p),
    findings: report.findings,
  };
}

/** Unix µs of an RFC 3339 time with up to microseconds. */
export function usOf(time: string): number {
  const m = /\.(\d+)Z$/.exec(time);
  const frac = m ? m[1]!.padEnd(6, '0').slice(0, 6) : '000000';
  return Math.floor(Date.parse(time.replace(/\.\d+Z$/, 'Z')) / 1000) * 1e6 + Number(frac);
}

/** First index of `events` (sorted by start) at or after `us`. */
function firstAt(events: readonly SpanRecord[], us: number): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (events[mid]!.startUs < us) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const kindOf = (r: ObjectRef): string => refText(r).split(' ')[0]!;

function reactionOf(events: readonly SpanRecord[], pods: readonly PodPhases[], fromUs: number, untilUs: number, scope: string): Reaction {
  const r: Reaction = { created: {}, pods: 0, notRunning: 0, failures: 0 };
  const inScope = (ns: string): boolean => scope === '' || ns === scope;
  for (let i = firstAt(events, fromUs); i < events.length && events[i]!.startUs < untilUs; i++) {
    const s = events[i]!;
    if (!inScope(s.object.namespace)) continue;
    if (isFailed(s)) r.failures++;
    if (!isWrite(s) || !isRoutine(s) || s.startUs <= fromUs) continue;
    r.firstReactionMs ??= (s.startUs - fromUs) / 1000;
    if (isCreate(s)) r.created[kindOf(s.object)] = (r.created[kindOf(s.object)] ?? 0) + 1;
  }
  for (const p of pods) {
    if (p.create.startUs < fromUs || p.create.startUs >= untilUs || !inScope(p.ref.namespace)) continue;
    r.pods++;
    if (p.bind) r.schedulingMs = Math.max(r.schedulingMs ?? 0, (p.bind.startUs - p.create.startUs) / 1000);
    if (p.run) r.runningMs = Math.max(r.runningMs ?? 0, (p.run.startUs - fromUs) / 1000);
    else r.notRunning++;
  }
  return r;
}

/** The owner at the top of a pod's owner chain (ReplicaSet → Deployment), as prefix-free words. */
function groupOf(index: SpanIndex, p: PodPhases, prefix: string): string {
  if (!p.owner) return 'pods without an owner';
  let key = p.owner;
  for (let depth = 0; depth < 5; depth++) {
    const up = index.ownerOf(key);
    if (!up) break;
    key = up;
  }
  const ref = index.refOf(key);
  return refText({ ...ref, namespace: unprefixed(ref.namespace, prefix), name: normalName(ref.name) });
}

function podGroups(index: SpanIndex, pods: readonly PodPhases[], prefix: string): Record<string, PodGroup> {
  const by = new Map<string, PodPhases[]>();
  for (const p of pods) {
    const g = groupOf(index, p, prefix);
    by.set(g, [...(by.get(g) ?? []), p]);
  }
  const out: Record<string, PodGroup> = {};
  for (const [g, list] of [...by.entries()].sort((x, y) => (x[0] < y[0] ? -1 : 1))) {
    const { scheduled, running, startup } = podStartupReport(list);
    const slowest = list.filter((p) => p.run).sort((x, y) => y.run!.startUs - y.create.startUs - (x.run!.startUs - x.create.startUs))[0];
    out[g] = { stats: { scheduled, running, startup }, pods: list.length, ...(slowest ? { slowest: { ref: slowest.ref, us: slowest.create.startUs } } : {}) };
  }
  return out;
}

export { isoOf };
