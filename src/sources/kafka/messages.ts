// The Kafka message of scale-out mode (docs/scale-out.md): what a receiver publishes and a tracer
// consumes. One message per accepted audit event, Kubernetes Event or watch change; the key is the
// object key the pipeline traces it under (auditObjectKey), so one object's history stays on one
// partition, in order. The value is JSON: { v: 1, cluster, kind, item } — the cluster and the
// source kind travel with every message.
import { isRecord } from '../../core/audit-event.ts';
import { auditObjectKey } from '../../normalize/audit-event.ts';
import { objectKey } from '../../core/model.ts';
import { isClusterScoped } from '../../core/kinds.ts';

export type MessageKind = 'audit' | 'kube-event' | 'watch';
export const MESSAGE_KINDS: readonly MessageKind[] = ['audit', 'kube-event', 'watch'];

export interface TopicMessage {
  v: 1;
  cluster: string;
  kind: MessageKind;
  /** The raw audit event, the Event object, or the watch change ({type, object, group, version, resource}). */
  item: unknown;
}

const CLUSTER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** The partition key: the object key, or `cluster/` for items about no single object. */
export function messageKey(m: TopicMessage): string {
  if (m.kind === 'audit') return auditObjectKey(m.item, m.cluster) ?? `${m.cluster}/`;
  if (m.kind === 'watch' && isRecord(m.item) && isRecord(m.item.object) && isRecord(m.item.object.metadata)) {
    const c = m.item as { group?: unknown; resource?: unknown };
    const md = m.item.object.metadata as { namespace?: unknown; name?: unknown };
    const group = typeof c.group === 'string' ? c.group : '';
    const resource = typeof c.resource === 'string' ? c.resource : '';
    const ns = typeof md.namespace === 'string' && !isClusterScoped(group, resource) ? md.namespace : '';
    return objectKey({ cluster: m.cluster, group, resource, namespace: ns, name: typeof md.name === 'string' ? md.name : '' });
  }
  if (m.kind === 'kube-event' && isRecord(m.item)) {
    // an Event is traced on its involved object: key it like the audit event that wrote it
    const inv = isRecord(m.item.regarding) ? m.item.regarding : isRecord(m.item.involvedObject) ? m.item.involvedObject : undefined;
    const key = inv && auditObjectKey({ objectRef: { resource: 'events', apiGroup: '' }, responseObject: m.item }, m.cluster);
    if (key) return key;
  }
  return `${m.cluster}/`;
}

export function encodeMessage(m: TopicMessage): { key: string; value: string } {
  return { key: messageKey(m), value: JSON.stringify(m) };
}

/** A consumed value back to a message, or the reason it is not one (reported and skipped). */
export function decodeMessage(value: Buffer | string | null): TopicMessage | { error: string } {
  if (value === null || value.length === 0) return { error: 'empty message' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
  } catch (e) {
    return { error: `message is not JSON: ${(e as Error).message}` };
  }
  if (!isRecord(parsed)) return { error: 'message is not a JSON object' };
  if (parsed.v !== 1) return { error: `unknown message version ${JSON.stringify(parsed.v)?.slice(0, 20)}` };
  if (typeof parsed.cluster !== 'string' || !CLUSTER_NAME.test(parsed.cluster)) return { error: 'message has no valid cluster' };
  if (!MESSAGE_KINDS.includes(parsed.kind as MessageKind)) return { error: `unknown message kind ${JSON.stringify(parsed.kind)?.slice(0, 40)}` };
  if (!isRecord(parsed.item)) return { error: 'message item is not an object' };
  return parsed as unknown as TopicMessage;
}
