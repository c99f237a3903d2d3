// The linker registry. Adding a relation = one file in linkers/ + one line here.
import type { Link, ObjectRef } from '../src/core/model.ts';
import type { KubeObject, Linker } from './types.ts';
import { ownerReferenceLinker } from './owner-reference.ts';
import { podNodeLinker } from './pod-node.ts';
import { parentAnnotationLinker } from './parent-annotation.ts';
import { endpointSliceServiceLinker } from './endpointslice-service.ts';
import { pvcPvLinker } from './pvc-pv.ts';
import { podVolumesLinker } from './pod-volumes.ts';
import { helmReleaseLinker } from './helm-release.ts';

export type { Linker, KubeObject };

export const linkers: readonly Linker[] = [
  ownerReferenceLinker,
  podNodeLinker,
  parentAnnotationLinker,
  endpointSliceServiceLinker,
  pvcPvLinker,
  podVolumesLinker,
  helmReleaseLinker,
];

/** Every link of `obj`; a linker that throws on odd input is skipped, never fatal. */
export function findLinks(obj: KubeObject, ref: ObjectRef, registry: readonly Linker[] = linkers): Link[] {
  const out: Link[] = [];
  for (const l of registry) {
    try {
      for (const link of l(obj, ref)) {
        if (link.target.name && link.target.resource) out.push(link);
      }
    } catch {
      // Linkers are pure functions over untrusted objects; one odd object must not stop tracing.
    }
  }
  return out;
}
