// The node a pod runs on is the pod's parent: from spec.nodeName, or from the Binding the
// scheduler creates (`pods/binding`, whose response is only a Status).
import type { Linker } from './types.ts';

export const podNodeLinker: Linker = (obj, ref) => {
  if (ref.group !== '' || ref.resource !== 'pods') return [];
  let node: unknown;
  if (obj.kind === 'Binding') {
    const target = obj.target as { kind?: string; name?: string } | undefined;
    if (target && (target.kind === undefined || target.kind === 'Node')) node = target.name;
  } else {
    node = (obj.spec as { nodeName?: unknown } | undefined)?.nodeName;
  }
  if (typeof node !== 'string' || node === '') return [];
  return [{ target: { cluster: ref.cluster, group: '', resource: 'nodes', namespace: '', name: node }, role: 'parent', class: 'node' }];
};
