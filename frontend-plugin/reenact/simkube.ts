// `kubetrail export --format simkube`: the driving writes of a stored range (the selection of the
// re-enactment file: export.ts drivingRule) as SimKube's trace file (msgpack, version 2;
// docs/reenact.md, the format in docs/import.md), which SimKube's driver replays into a simulated
// cluster. Each kept write becomes the object's whole state after it (rebuilt like kwok.ts does),
// sanitized as SimKube's tracer sanitizes (no uid, resourceVersion, creationTimestamp,
// managedFields, generation; a Pod without nodeName) and without status, in the event of its
// second; a delete becomes the object's name. Like SimKube's tracer, an object is written again
// only when its spec changed, and the index holds each object's spec hash as SimKube computes it.
// What cannot be produced: pod_lifecycles (written empty), cluster-scoped objects (SimKube's
// driver applies every object into a namespace), the order of writes within one second.
import { encode } from '@msgpack/msgpack';
import { isRecord } from '../../src/core/audit-event.ts';
import { objectKey, type SpanRecord } from '../../src/core/model.ts';
import { rustJsonHash } from '../../src/core/rust-json-hash.ts';
import { SIMKUBE_TRACE_VERSION } from '../../src/sources/simkube-trace.ts';
import type { TraceBackend } from '../backend/backend.ts';
import { codeOf, verbOf } from '../../src/core/span-view.ts';
import { drivingRule, type ExportOptions, nextState, pickCluster, writesOf } from './export.ts';
import { asStored } from './kwok.ts';

/** The owners of pods SimKube knows the pod template path of (sk-core KNOWN_GVKS_METADATA): tracked with the default config. */
const POD_OWNERS = new Set([
  'batch/v1.CronJob',
  'apps/v1.DaemonSet',
  'apps/v1.Deployment',
  'batch/v1.Job',
  'apps/v1.ReplicaSet',
  'apps/v1.StatefulSet',
  'v1.Pod',
]);
/** Annotations SimKube's tracer drops (sk-core sanitize_obj). */
const DROPPED_ANNOTATIONS = ['kubectl.kubernetes.io/last-applied-configuration', 'deployment.kubernetes.io/revision'];
const DROPPED_METADATA = ['creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation', 'managedFields', 'resourceVersion', 'uid'];

interface TraceEvent {
  ts: number;
  applied_objs: Record<string, unknown>[];
  deleted_objs: Record<string, unknown>[];
}

export interface SimkubeExport {
  bytes: Uint8Array;
  events: number;
  applied: number;
  deleted: number;
  tracked: string[];
  /** Kept writes not in the trace, counted by reason. */
  skipped: Record<string, number>;
}

/** group/version.kind as SimKube writes it (`apps/v1.Deployment`, `v1.Pod`). */
const gvkOf = (o: Record<string, unknown>): string => `${String(o.apiVersion)}.${String(o.kind)}`;

/** The object as SimKube's tracer keeps it. */
function sanitize(obj: Record<string, unknown>, isSecret: boolean): Record<string, unknown> {
  const out = asStored(obj, isSecret);
  delete out.status;
  const md = isRecord(out.metadata) ? out.metadata : {};
  for (const k of DROPPED_METADATA) delete md[k];
  if (isRecord(md.annotations)) for (const k of DROPPED_ANNOTATIONS) delete md.annotations[k];
  if (out.kind === 'Pod' && out.apiVersion === 'v1' && isRecord(out.spec)) delete out.spec.nodeName;
  return out;
}

class TraceBuilder {
  readonly events: TraceEvent[] = [];
  readonly index: Record<string, Record<string, bigint>> = {};
  readonly skipped: Record<string, number> = {};
  applied = 0;
  deleted = 0;
  /** The spec hash last written per object key. */
  readonly #hashes = new Map<string, bigint>();

  skip(why: string): void {
    this.skipped[why] = (this.skipped[why] ?? 0) + 1;
  }

  #event(ts: number): TraceEvent {
    const last = this.events.at(-1);
    if (last && last.ts === ts && this.events.length > 1) return last;
    const e = { ts, applied_objs: [], deleted_objs: [] };
    this.events.push(e);
    return e;
  }

  /** Adds an object's state at `ts` when its spec changed since it was last written. */
  apply(key: string, ts: number, obj: Record<string, unknown>, first = false): void {
    const hash = rustJsonHash(obj.spec);
    if (this.#hashes.get(key) === hash) {
      this.skip("spec unchanged (SimKube's tracer writes an object again only when its spec changes)");
      return;
    }
    this.#hashes.set(key, hash);
    const md = obj.metadata as Record<string, unknown>;
    (this.index[gvkOf(obj)] ??= {})[`${String(md.namespace)}/${String(md.name)}`] = hash;
    (first ? this.events[0]! : this.#event(ts)).applied_objs.push(obj);
    this.applied++;
  }

  delete(key: string, ts: number, obj: Record<string, unknown>): void {
    const md = obj.metadata as Record<string, unknown>;
    this.#hashes.delete(key);
    this.#event(ts).deleted_objs.push({ apiVersion: obj.apiVersion, kind: obj.kind, metadata: { name: md.name, namespace: md.namespace } });
    this.deleted++;
  }
}

/** SimKube's trace of the range's driving writes. */
export async function exportSimkube(backend: TraceBackend, o: ExportOptions): Promise<SimkubeExport> {
  const cluster = await pickCluster(backend, o.cluster);
  const keep = drivingRule(o.includeActors, o.excludeActors);
  const writes = await writesOf(backend, o, cluster);
  const startUs = o.startUs ?? writes.find(keep)?.startUs ?? 0;
  const b = new TraceBuilder();
  b.events.push({ ts: Math.floor(startUs / 1e6), applied_objs: [], deleted_objs: [] });
  const state = new Map<string, Record<string, unknown> | undefined>();
  /** Objects a kept write touched before the range: their state at its start opens the trace, as SimKube's export does. */
  const before = new Set<string>();
  let started = false;
  const secret = (s: SpanRecord) => s.object.group === '' && s.object.resource === 'secrets';
  const known = (x: Record<string, unknown> | undefined) => typeof x?.apiVersion === 'string' && typeof x.kind === 'string';
  for (const s of writes) {
    if (!started && s.startUs >= startUs) {
      started = true;
      for (const k of before) if (state.get(k)) b.apply(k, 0, state.get(k)!, true);
    }
    const key = objectKey(s.object);
    const prior = state.get(key);
    const failed = codeOf(s) >= 300;
    const gone = verbOf(s) === 'delete' || verbOf(s) === 'deletecollection';
    const after = failed ? prior : nextState(prior, s);
    state.set(key, gone || !after ? undefined : sanitize(after, secret(s)));
    if (!keep(s)) continue;
    if (failed) b.skip('failed request (the API server refused it when recorded)');
    else if (!s.object.namespace) b.skip("cluster-scoped object (SimKube's driver applies every object into a namespace)");
    else if (s.startUs < startUs) before.add(key);
    else if (gone && known(prior ?? after)) b.delete(key, Math.floor(s.startUs / 1e6), (prior ?? after)!);
    else if (!gone && known(state.get(key))) b.apply(key, Math.floor(s.startUs / 1e6), state.get(key)!);
    else b.skip('write of an object whose state was never recorded whole');
  }
  if (!started) for (const k of before) if (state.get(k)) b.apply(k, 0, state.get(k)!, true);
  const tracked = Object.keys(b.index).filter((g) => POD_OWNERS.has(g));
  const trace = {
    version: SIMKUBE_TRACE_VERSION,
    config: { trackedObjects: Object.fromEntries(tracked.map((g) => [g, {}])) },
    events: b.events,
    index: b.index,
    pod_lifecycles: {},
  };
  return { bytes: encode(trace, { useBigInt64: true }), events: b.events.length, applied: b.applied, deleted: b.deleted, tracked, skipped: b.skipped };
}
