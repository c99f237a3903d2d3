// A bound PersistentVolumeClaim → its PersistentVolume. The volume is the claim's child, so a
// trace reads downward: pod → claim it mounts → volume backing the claim.
import type { Linker } from './types.ts';

export const pvcPvLinker: Linker = (obj, ref) => {
  if (ref.group !== '' || ref.resource !== 'persistentvolumeclaims') return [];
  const pv = (obj.spec as { volumeName?: unknown } | undefined)?.volumeName;
  if (typeof pv !== 'string' || pv === '') return [];
  return [{ target: { cluster: ref.cluster, group: '', resource: 'persistentvolumes', namespace: '', name: pv }, role: 'child', class: 'volume' }];
};
