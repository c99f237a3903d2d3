// Secrets, ConfigMaps and PVCs a pod uses (volumes, projected sources, envFrom, env valueFrom)
// are the pod's children (class 'uses'): the trace of a pod lists what it depends on, and the
// trace of a ConfigMap lists the pods that use it.
// kube-root-ca.crt is skipped: it is projected into every pod, and linking it would put every
// pod of a namespace into one trace.
import type { Link, ObjectRef } from '../src/core/model.ts';
import type { Linker } from './types.ts';

const SKIP_CONFIGMAPS = new Set(['kube-root-ca.crt']);

type Any = Record<string, any>;

export const podVolumesLinker: Linker = (obj, ref) => {
  if (ref.group !== '' || ref.resource !== 'pods') return [];
  const spec = obj.spec as Any | undefined;
  if (!spec || typeof spec !== 'object') return [];
  const found = new Map<string, ObjectRef>();
  const add = (resource: string, name: unknown) => {
    if (typeof name !== 'string' || name === '') return;
    if (resource === 'configmaps' && SKIP_CONFIGMAPS.has(name)) return;
    found.set(`${resource}/${name}`, { cluster: ref.cluster, group: '', resource, namespace: ref.namespace, name });
  };
  for (const v of arr(spec.volumes)) {
    add('secrets', v?.secret?.secretName);
    add('configmaps', v?.configMap?.name);
    add('persistentvolumeclaims', v?.persistentVolumeClaim?.claimName);
    for (const s of arr(v?.projected?.sources)) {
      add('secrets', s?.secret?.name);
      add('configmaps', s?.configMap?.name);
    }
  }
  for (const c of [...arr(spec.initContainers), ...arr(spec.containers), ...arr(spec.ephemeralContainers)]) {
    for (const e of arr(c?.envFrom)) {
      add('secrets', e?.secretRef?.name);
      add('configmaps', e?.configMapRef?.name);
    }
    for (const e of arr(c?.env)) {
      add('secrets', e?.valueFrom?.secretKeyRef?.name);
      add('configmaps', e?.valueFrom?.configMapKeyRef?.name);
    }
  }
  const links: Link[] = [];
  for (const target of found.values()) links.push({ target, role: 'child', class: 'uses' });
  return links;
};

function arr(v: unknown): Any[] {
  return Array.isArray(v) ? v : [];
}
