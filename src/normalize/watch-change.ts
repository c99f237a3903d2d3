// Helpers for list-watch changes: who made a change (managedFields) and when.
import type { KubeObject } from '../core/audit-event.ts';
import { parseTimeUs } from '../core/time.ts';

export interface FieldManagerInfo {
  manager: string;
  operation: string;
  subresource: string;
  timeUs?: number;
}

/** The managedFields entry with the newest `time`: the manager that made the latest change. */
export function newestManager(obj: KubeObject): FieldManagerInfo | undefined {
  const mf = obj.metadata?.managedFields;
  if (!Array.isArray(mf)) return undefined;
  let best: FieldManagerInfo | undefined;
  for (const e of mf) {
    if (!e || typeof e.manager !== 'string') continue;
    const t = parseTimeUs(e.time);
    if (best === undefined || (t !== undefined && (best.timeUs === undefined || t >= best.timeUs))) {
      best = {
        manager: e.manager,
        operation: typeof e.operation === 'string' ? e.operation : '',
        subresource: typeof e.subresource === 'string' ? e.subresource : '',
        timeUs: t,
      };
    }
  }
  return best;
}

/** The verb a watch change stands for. */
export function watchVerb(type: 'ADDED' | 'MODIFIED' | 'DELETED', manager: FieldManagerInfo | undefined): string {
  if (type === 'ADDED') return 'create';
  if (type === 'DELETED') return 'delete';
  return manager?.operation === 'Apply' ? 'apply' : 'update';
}
