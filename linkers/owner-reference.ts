// Owner references: every owner is a parent (class children) — a ReplicaSet of its Pods, a
// Deployment of its ReplicaSets, each of two Deployments of a ConfigMap they both own. The
// controlling owner (`controller: true`) is marked, so the read path climbs its chain first.
import { isClusterScoped, kindToResource } from '../src/core/kinds.ts';
import type { Link } from '../src/core/model.ts';
import type { Linker } from './types.ts';

export const ownerReferenceLinker: Linker = (obj, ref) => {
  const owners = obj.metadata?.ownerReferences;
  if (!Array.isArray(owners)) return [];
  const links: Link[] = [];
  for (const owner of owners) {
    if (!owner || typeof owner.name !== 'string' || !owner.name) continue;
    const { group, resource } = kindToResource(owner.apiVersion, owner.kind);
    if (!resource) continue;
    // Owners are in the same namespace or cluster-scoped; a namespaced object owned by a
    // cluster-scoped kind is rare (Node-owned pods): the built-in cluster-scoped kinds have none
    // (the pipeline also drops the namespace of any other resource discovery knows to be cluster-scoped).
    const namespace = isClusterScoped(group, resource) ? '' : ref.namespace;
    const link: Link = { target: { cluster: ref.cluster, group, resource, namespace, name: owner.name }, role: 'parent', class: 'children' };
    if (owner.controller === true) link.controller = true;
    links.push(link);
  }
  return links;
};
