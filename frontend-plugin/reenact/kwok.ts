// `kubetrail export --format kwok`: a stored range as kwok's recording (docs/reenact.md), which
// `kwokctl snapshot replay` (kwok 0.7; `kectl snapshot replay` later) plays back: a YAML stream of
// the objects as they were at the start (the snapshot), then one `ResourcePatch`
// (action.kwok.x-k8s.io/v1alpha1) per write with its offset in nanoseconds. kwok's replay writes
// to etcd directly with the controllers stopped, so the recording is the whole history — every
// actor's writes, objects as stored (uids kept) — not the driving writes a re-enactment applies.
// Each write is a `create` (kwok puts the whole object) with the state after it, rebuilt like
// export.ts does; kwok's own recorder writes strategic merge patches, which need the API's patch
// metadata kubetrail does not have.
import { isRecord } from '../../src/core/audit-event.ts';
import { Attr, objectKey, type SpanRecord } from '../../src/core/model.ts';
import type { TraceBackend } from '../backend/backend.ts';
import { verbOf } from '../../src/core/span-view.ts';
import { isFailed } from '../../src/core/failed.ts';
import { findPlaceholders, parseDiffPath, setPath } from './clean.ts';
import { drivingRule, type ExportOptions, nextState, pickCluster, writesOf } from './export.ts';

export const KWOK_API_VERSION = 'action.kwok.x-k8s.io/v1alpha1';

interface Tracked {
  obj: Record<string, unknown>;
  gvr: { group?: string; version: string; resource: string };
}

/** The object as kwok puts it: no resourceVersion; redacted values replaced by stand-ins of their length (etcd must decode them). */
export function asStored(obj: Record<string, unknown>, isSecret: boolean): Record<string, unknown> {
  const out = structuredClone(obj);
  if (isRecord(out.metadata)) delete out.metadata.resourceVersion;
  for (const p of findPlaceholders(out, isSecret)) {
    const plain = 'x'.repeat(p.bytes);
    setPath(out, parseDiffPath(p.path), p.base64 ? Buffer.from(plain).toString('base64') : plain);
  }
  return out;
}

function gvrOf(s: SpanRecord, obj: Record<string, unknown> | undefined): Tracked['gvr'] {
  const apiVersion = typeof obj?.apiVersion === 'string' ? obj.apiVersion : String(s.attributes[Attr.version] ?? 'v1');
  const version = apiVersion.includes('/') ? apiVersion.slice(apiVersion.indexOf('/') + 1) : apiVersion;
  return { ...(s.object.group ? { group: s.object.group } : {}), version, resource: s.object.resource };
}

const target = (s: SpanRecord) => ({ name: s.object.name, ...(s.object.namespace ? { namespace: s.object.namespace } : {}) });

/** kwok's recording of the range: YAML documents (each one JSON line), snapshot first. */
export async function exportKwok(backend: TraceBackend, o: ExportOptions): Promise<{ text: string; patches: number; snapshot: number; unknown: number }> {
  const cluster = await pickCluster(backend, o.cluster);
  // every actor (kwok's replay stops the controllers); --exclude-actor still leaves users out
  const keep = drivingRule(['*', ...o.includeActors], o.excludeActors);
  const writes = await writesOf(backend, o, cluster);
  const startUs = o.startUs ?? writes[0]?.startUs ?? 0;
  const state = new Map<string, Tracked | undefined>();
  const docs: string[] = [];
  let snapshot = -1;
  let unknown = 0;
  const secret = (s: SpanRecord) => s.object.group === '' && s.object.resource === 'secrets';
  for (const s of writes) {
    if (snapshot < 0 && s.startUs >= startUs) {
      for (const t of state.values()) if (t) docs.push(JSON.stringify(t.obj));
      snapshot = docs.length;
    }
    const key = objectKey(s.object);
    const before = state.get(key);
    const failed = isFailed(s);
    const after = failed ? before?.obj : nextState(before?.obj, s);
    const verb = verbOf(s);
    const gone = verb === 'delete' || verb === 'deletecollection';
    const tracked = gone || !after ? undefined : { obj: asStored(after, secret(s)), gvr: before?.gvr ?? gvrOf(s, after) };
    state.set(key, tracked);
    if (failed || s.startUs < startUs || !keep(s)) continue;
    if (!gone && !tracked) {
      unknown++;
      continue;
    }
    const patch: Record<string, unknown> = {
      apiVersion: KWOK_API_VERSION,
      kind: 'ResourcePatch',
      resource: tracked?.gvr ?? before?.gvr ?? gvrOf(s, undefined),
      target: target(s),
      durationNanosecond: Math.round((s.startUs - startUs) * 1000),
      method: gone ? 'delete' : 'create',
      ...(tracked ? { template: tracked.obj } : {}),
    };
    docs.push(JSON.stringify(patch));
  }
  if (snapshot < 0) snapshot = docs.length;
  return { text: docs.map((d) => `---\n${d}\n`).join(''), patches: docs.length - snapshot, snapshot, unknown };
}
