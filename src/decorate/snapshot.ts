// Snapshots (create/delete) and the object form kept for diffs: managedFields removed
// (they are bookkeeping, large, and never shown).
import { isRecord } from '../core/audit-event.ts';
import type { KubeObject } from '../core/audit-event.ts';

/** A shallow copy of `obj` without metadata.managedFields (the same object when it has none). */
export function stripManagedFields<T>(obj: T): T {
  if (!isRecord(obj)) return obj;
  const md = obj.metadata;
  if (!isRecord(md) || !('managedFields' in md)) return obj;
  const { managedFields: _drop, ...rest } = md;
  return { ...obj, metadata: rest } as T;
}

/** JSON of an already redacted object, managedFields removed. */
export function snapshot(obj: KubeObject): string {
  return JSON.stringify(stripManagedFields(obj));
}
