// Which resources to list-watch: everything the API server can list and watch (preferred version
// of each group), minus subresources, Events (they have their own informer) and the exclusions.
import type { KubeConfig } from '@kubernetes/client-node';
import { kubeGet } from './kube-client.ts';

export interface WatchedResource {
  group: string;
  version: string;
  resource: string;
  kind: string;
  namespaced: boolean;
  /** Collection path across all namespaces, e.g. /apis/apps/v1/deployments. */
  path: string;
}

interface APIResourceList {
  resources: { name: string; kind: string; namespaced: boolean; verbs: string[] }[];
}

/** 'group/resource' with '' for core, e.g. '/pods', 'apps/deployments'. */
export function resourceId(group: string, resource: string): string {
  return `${group}/${resource}`;
}

export interface DiscoveryFilter {
  /** When non-empty, only these 'group/resource' ids. */
  include?: string[];
  exclude?: string[];
}

const EVENTS = new Set(['/events', 'events.k8s.io/events']);

export async function discoverResources(kc: KubeConfig, filter: DiscoveryFilter = {}): Promise<WatchedResource[]> {
  const groupVersions: { group: string; version: string; base: string }[] = [];
  const core = await kubeGet<{ versions: string[] }>(kc, '/api');
  for (const v of core.versions) groupVersions.push({ group: '', version: v, base: `/api/${v}` });
  const groups = await kubeGet<{ groups: { name: string; preferredVersion: { version: string } }[] }>(kc, '/apis');
  for (const g of groups.groups) {
    groupVersions.push({ group: g.name, version: g.preferredVersion.version, base: `/apis/${g.name}/${g.preferredVersion.version}` });
  }
  const include = new Set(filter.include ?? []);
  const exclude = new Set(filter.exclude ?? []);
  const out: WatchedResource[] = [];
  const lists = await Promise.allSettled(groupVersions.map((gv) => kubeGet<APIResourceList>(kc, gv.base)));
  lists.forEach((res, i) => {
    const gv = groupVersions[i]!;
    if (res.status === 'rejected') return; // an aggregated API that is down: skip it, watch the rest
    for (const r of res.value.resources) {
      if (r.name.includes('/')) continue; // subresource
      if (!r.verbs.includes('list') || !r.verbs.includes('watch')) continue;
      const id = resourceId(gv.group, r.name);
      if (EVENTS.has(id) || exclude.has(id)) continue;
      if (include.size > 0 && !include.has(id)) continue;
      out.push({ group: gv.group, version: gv.version, resource: r.name, kind: r.kind, namespaced: r.namespaced, path: `${gv.base}/${r.name}` });
    }
  });
  return out;
}
