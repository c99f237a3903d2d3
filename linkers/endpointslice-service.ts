// An EndpointSlice belongs to the Service named by its kubernetes.io/service-name label.
import type { Linker } from './types.ts';

export const endpointSliceServiceLinker: Linker = (obj, ref) => {
  if (ref.group !== 'discovery.k8s.io' || ref.resource !== 'endpointslices') return [];
  const svc = obj.metadata?.labels?.['kubernetes.io/service-name'];
  if (typeof svc !== 'string' || svc === '') return [];
  return [{ target: { cluster: ref.cluster, group: '', resource: 'services', namespace: ref.namespace, name: svc }, role: 'parent', class: 'service' }];
};
