// A simple deterministic stream of audit events for the Kafka tests: `objects` ConfigMaps, each
// created and then updated `updates` times (data.v 0 -> 1 -> 2 ...), interleaved round-robin so
// every batch holds many objects. RequestResponse level, so each update's diff comes from the
// previous event of the same object: exactly the state a tracer must keep per partition.
export interface StreamOptions {
  objects: number;
  updates: number;
  namespace?: string;
  /** Start of the stream's simulated time (ms). */
  startMs?: number;
}

export function auditStream(o: StreamOptions): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const ns = o.namespace ?? 'kafka';
  const t0 = o.startMs ?? Date.parse('2026-12-01T12:00:00Z');
  let rv = 1000;
  for (let v = 0; v <= o.updates; v++) {
    for (let i = 0; i < o.objects; i++) {
      const name = `cm-${i}`;
      rv++;
      const ts = new Date(t0 + out.length).toISOString().replace('Z', '000Z');
      const obj = {
        kind: 'ConfigMap',
        apiVersion: 'v1',
        metadata: { name, namespace: ns, uid: `uid-${ns}-${i}`, resourceVersion: String(rv), creationTimestamp: new Date(t0).toISOString() },
        data: { v: String(v) },
      };
      out.push({
        kind: 'Event',
        apiVersion: 'audit.k8s.io/v1',
        level: 'RequestResponse',
        auditID: `a-${ns}-${i}-${v}`,
        stage: 'ResponseComplete',
        requestURI: `/api/v1/namespaces/${ns}/configmaps${v === 0 ? '' : `/${name}`}`,
        verb: v === 0 ? 'create' : 'update',
        user: { username: 'kafka-test' },
        sourceIPs: ['127.0.0.1'],
        userAgent: 'kafka-test',
        objectRef: { resource: 'configmaps', namespace: ns, name, apiVersion: 'v1' },
        responseStatus: { metadata: {}, code: v === 0 ? 201 : 200 },
        requestObject: obj,
        responseObject: obj,
        requestReceivedTimestamp: ts,
        stageTimestamp: ts,
      });
    }
  }
  return out;
}
