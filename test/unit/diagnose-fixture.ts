// Hand-built span histories for the detector tests, in the write path's shape (SyntheticTraces).
import { Attr, type AttrValue, type ObjectRef, type SpanRecord } from '../../src/core/model.ts';
import { ref, SyntheticTraces } from '../helpers/synthetic-backend.ts';

export const T0 = 1_790_000_000; // a window start (multiple of 1800 s)
export const at = (sec: number): number => (T0 + sec) * 1e6;
export const DC = 'system:serviceaccount:kube-system:deployment-controller';
export const RSC = 'system:serviceaccount:kube-system:replicaset-controller';
export const SCHED = 'system:kube-scheduler';
export const GC = 'system:serviceaccount:kube-system:generic-garbage-collector';

export { ref };

/** A diff line that adds a condition (as the namespace controller writes them). */
export const conditionLine = (type: string, status: string, message: string): string =>
  `status.conditions[type=${type}] <none> -> ${JSON.stringify({ type, status, message })}`;

/** A small DSL over SyntheticTraces: creates with snapshots, diffs, failures, Events, links. */
export class History {
  readonly t = new SyntheticTraces(1800);
  #n = 0;

  get spans(): SpanRecord[] {
    return this.t.spans;
  }

  write(o: ObjectRef, sec: number, user: string, verb: string, extra: Record<string, AttrValue> = {}): SpanRecord {
    // unique audit IDs even for two writes in the same microsecond
    return this.t.audit(o, at(sec) + (this.#n++ % 1000), user, verb, extra);
  }
  create(o: ObjectRef, sec: number, user: string, snapshot: object = {}): SpanRecord {
    return this.write(o, sec, user, 'create', { [Attr.code]: 201, [Attr.snapshot]: JSON.stringify(snapshot) });
  }
  update(o: ObjectRef, sec: number, user: string, diff: string, extra: Record<string, AttrValue> = {}): SpanRecord {
    return this.write(o, sec, user, extra[Attr.verb] === undefined ? 'update' : String(extra[Attr.verb]), { [Attr.diff]: diff, ...extra });
  }
  status(o: ObjectRef, sec: number, user: string, diff: string): SpanRecord {
    return this.write(o, sec, user, 'update', { [Attr.subresource]: 'status', [Attr.diff]: diff });
  }
  noop(o: ObjectRef, sec: number, user: string, verb = 'patch'): SpanRecord {
    return this.write(o, sec, user, verb, { [Attr.noop]: true });
  }
  fail(o: ObjectRef, sec: number, user: string, verb: string, code: number, message: string, extra: Record<string, AttrValue> = {}): SpanRecord {
    const s = this.write(o, sec, user, verb, { [Attr.code]: code, [Attr.error]: message, ...extra });
    s.error = message;
    return s;
  }
  del(o: ObjectRef, sec: number, user: string): SpanRecord {
    return this.write(o, sec, user, 'delete');
  }
  bind(pod: ObjectRef, node: string, sec: number): SpanRecord {
    const s = this.write(pod, sec, SCHED, 'create', { [Attr.subresource]: 'binding', [Attr.code]: 201, [Attr.diff]: `spec.nodeName <none> -> "${node}"` });
    this.t.link(ref('nodes', '', node), pod, 'node', at(sec));
    return s;
  }
  running(pod: ObjectRef, sec: number, user = 'kwok-admin'): SpanRecord {
    return this.write(pod, sec, user, 'patch', { [Attr.subresource]: 'status', [Attr.diff]: 'status.phase "Pending" -> "Running"' });
  }
  kubeEvent(o: ObjectRef, sec: number, reason: string, message: string, type = 'Warning', component = 'default-scheduler'): SpanRecord {
    return this.t.event(o, at(sec), `event/${o.name}/${reason}/${this.#n++}`, `event ${reason}`, {
      [Attr.source]: 'event',
      [Attr.eventReason]: reason,
      [Attr.eventMessage]: message,
      [Attr.eventType]: type,
      [Attr.eventComponent]: component,
    });
  }
  own(owner: ObjectRef, child: ObjectRef, sec: number): void {
    this.t.link(owner, child, 'children', at(sec));
  }
  /** A pod of `owner` created by `user`, optionally bound and running. */
  pod(owner: ObjectRef | undefined, name: string, sec: number, user: string, o: { node?: string; bindAfter?: number; runAfter?: number } = {}): ObjectRef {
    const p = ref('pods', owner?.namespace ?? 'default', name);
    this.create(p, sec, user, { metadata: { name, namespace: p.namespace }, status: { phase: 'Pending' } });
    if (owner) this.own(owner, p, sec);
    if (o.node) {
      const b = sec + (o.bindAfter ?? 0.01);
      this.bind(p, o.node, b);
      if (o.runAfter !== undefined) this.running(p, b + o.runAfter);
    }
    return p;
  }
}
