// Objects installed by Helm: their parent is the release, a virtual object
// {group 'helm.sh', resource 'releases', namespace, name} (stable across upgrades, unlike the
// release's versioned Secret sh.helm.release.v1.<name>.v<N>).
import type { Linker } from './types.ts';

export const helmReleaseLinker: Linker = (obj, ref) => {
  const md = obj.metadata;
  if (md?.labels?.['app.kubernetes.io/managed-by'] !== 'Helm') return [];
  const name = md.annotations?.['meta.helm.sh/release-name'];
  if (typeof name !== 'string' || name === '') return [];
  const ns = md.annotations?.['meta.helm.sh/release-namespace'];
  const namespace = typeof ns === 'string' && ns !== '' ? ns : ref.namespace;
  return [{ target: { cluster: ref.cluster, group: 'helm.sh', resource: 'releases', namespace, name }, role: 'parent', class: 'helm' }];
};
