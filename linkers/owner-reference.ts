// The controller owner reference: a ReplicaSet is the parent of its Pods, a Deployment of its ReplicaSets.
import { isClusterScoped, kindToResource } from '../src/core/kinds.ts';
import type { Linker } from './types.ts';

export const ownerReferenceLinker: Linker = (obj, ref) => {
  const owners = obj.metadata?.ownerReferences;
  if (!Array.isArray(owners)) return [];
  const owner = owners.find((o) => o && o.controller === true);
  if (!owner || typeof owner.name !== 'string' || !owner.name) return [];
  const { group, resource } = kindToResource(owner.apiVersion, owner.kind);
  if (!resource) return [];
  // Owners are in the same namespace or cluster-scoped; a namespaced object owned by a
  // cluster-scoped kind is rare (Node-owned pods): the built-in cluster-scoped kinds have none
  // (the pipeline also drops the namespace of any other resource discovery knows to be cluster-scoped).
  const namespace = isClusterScoped(group, resource) ? '' : ref.namespace;
  return [{ target: { cluster: ref.cluster, group, resource, namespace, name: owner.name }, role: 'parent', class: 'children' }];
};
