// An explicit parent set by whoever creates the object, possibly in another cluster:
//   kubetrail.io/parent: 'cluster/group/resource/namespace/name' or 'group/resource/namespace/name'
//   kelemetry.kubewharf.io/parent-link: {"cluster","group","version","resource","namespace","name","uid"}
import type { ObjectRef } from '../src/core/model.ts';
import type { Linker } from './types.ts';

export const PARENT_ANNOTATION = 'kubetrail.io/parent';
export const KELEMETRY_PARENT_ANNOTATION = 'kelemetry.kubewharf.io/parent-link';

export const parentAnnotationLinker: Linker = (obj, ref) => {
  const ann = obj.metadata?.annotations;
  if (!ann) return [];
  const target = fromPath(ann[PARENT_ANNOTATION], ref.cluster) ?? fromKelemetry(ann[KELEMETRY_PARENT_ANNOTATION], ref.cluster);
  return target ? [{ target, role: 'parent', class: 'annotation' }] : [];
};

function fromPath(v: unknown, cluster: string): ObjectRef | undefined {
  if (typeof v !== 'string') return undefined;
  const p = v.split('/');
  if (p.length === 5 && p[0] && p[2] && p[4]) return { cluster: p[0], group: p[1]!, resource: p[2], namespace: p[3]!, name: p[4] };
  if (p.length === 4 && p[1] && p[3]) return { cluster, group: p[0]!, resource: p[1], namespace: p[2]!, name: p[3] };
  return undefined;
}

function fromKelemetry(v: unknown, cluster: string): ObjectRef | undefined {
  if (typeof v !== 'string' || v === '') return undefined;
  let j: unknown;
  try {
    j = JSON.parse(v);
  } catch {
    return undefined;
  }
  if (typeof j !== 'object' || j === null) return undefined;
  const o = j as Record<string, unknown>;
  const str = (x: unknown) => (typeof x === 'string' ? x : '');
  if (!str(o.resource) || !str(o.name)) return undefined;
  return { cluster: str(o.cluster) || cluster, group: str(o.group), resource: str(o.resource), namespace: str(o.namespace), name: str(o.name) };
}
