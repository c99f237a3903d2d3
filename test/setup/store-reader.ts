// Reads event spans out of an embedded store file (while kubetrail writes it: WAL readers are fine).
import { DatabaseSync } from 'node:sqlite';
import { existsSync } from 'node:fs';

export interface StoredEvent {
  auditId: string;
  name: string;
  diff: string | undefined;
  /** The object: resource, namespace, name. */
  resource: string;
  namespace: string;
  objName: string;
  /** Who did it (the audit event's user), and how. */
  user: string | undefined;
  verb: string | undefined;
  subresource: string | undefined;
}

export function storedEvents(path: string, cluster: string): StoredEvent[] {
  if (!existsSync(path)) return [];
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const rows = db.prepare("SELECT name, resource, namespace, obj_name, attributes FROM spans WHERE kind = 'event' AND cluster = ?").all(cluster) as {
      name: string;
      resource: string;
      namespace: string;
      obj_name: string;
      attributes: string;
    }[];
    const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
    return rows.map((r) => {
      const a = JSON.parse(r.attributes) as Record<string, unknown>;
      return {
        auditId: String(a.auditId),
        name: r.name,
        diff: str(a.diff),
        resource: r.resource,
        namespace: r.namespace,
        objName: r.obj_name,
        user: str(a.user),
        verb: str(a.verb),
        subresource: str(a.subresource),
      };
    });
  } finally {
    db.close();
  }
}

/** Names of the objects of one resource in one namespace that have an event span in the store. */
export function tracedNames(path: string, resource: string, namespace: string): Set<string> {
  if (!existsSync(path)) return new Set();
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const rows = db.prepare("SELECT DISTINCT obj_name FROM spans WHERE kind = 'event' AND resource = ? AND namespace = ?").all(resource, namespace) as {
      obj_name: string;
    }[];
    return new Set(rows.map((r) => r.obj_name));
  } finally {
    db.close();
  }
}
