// Receive role: secret values are redacted before a message leaves the receiver (docs/scale-out.md),
// so Kafka's log segments, its replicas and every consumer of the topic never hold them. The same
// redaction the tracers apply (src/decorate/redact.ts: Secret data/stringData, the kubectl
// last-applied annotation of Secrets, Secret lists, the `--redact` paths), with the Secret
// values' digests carried in their placeholders so a tracer still shows which key changed.
// Bearer tokens of TokenRequest/TokenReview bodies are blanked too (the tracers never show them).
// The partition key is unaffected: objectRef and metadata are never redacted.
import { isRecord } from '../../core/audit-event.ts';
import type { RedactionRule } from '../../core/config.ts';
import { Redactor } from '../../decorate/redact.ts';
import type { TopicMessage } from './messages.ts';

const TOKEN_KINDS = new Set(['TokenRequest', 'TokenReview']);

/** A copy of a body with `spec.token` / `status.token` blanked when it is a TokenRequest or TokenReview. */
function withoutToken(body: unknown): unknown {
  if (!isRecord(body) || !TOKEN_KINDS.has(body.kind as string)) return body;
  const out: Record<string, unknown> = { ...body };
  for (const part of ['spec', 'status'] as const) {
    const p = body[part];
    if (isRecord(p) && 'token' in p) out[part] = { ...p, token: '<redacted>' };
  }
  return out;
}

export class MessageRedactor {
  readonly #redactor: Redactor;

  constructor(rules: RedactionRule[] = []) {
    this.#redactor = new Redactor(rules, { carryDigests: true });
  }

  /** A copy of `m` without secret values (`m` itself is not modified). */
  redact(m: TopicMessage): TopicMessage {
    if (m.kind === 'audit' && isRecord(m.item)) return { ...m, item: this.#audit(m.item) };
    if (m.kind === 'watch' && isRecord(m.item)) {
      const c = m.item;
      const object = this.#body(c.object, typeof c.group === 'string' ? c.group : '', typeof c.resource === 'string' ? c.resource : '');
      return object === c.object ? m : { ...m, item: { ...c, object } };
    }
    return m; // Kubernetes Events: the tracers do not redact them either
  }

  #audit(ev: Record<string, unknown>): Record<string, unknown> {
    const ref = isRecord(ev.objectRef) ? ev.objectRef : {};
    const group = typeof ref.apiGroup === 'string' ? ref.apiGroup : '';
    const resource = typeof ref.resource === 'string' ? ref.resource : '';
    const out = { ...ev };
    for (const field of ['requestObject', 'responseObject'] as const) {
      if (ev[field] !== undefined) out[field] = this.#body(ev[field], group, resource);
    }
    return out;
  }

  #body(body: unknown, group: string, resource: string): unknown {
    return this.#redactor.redact(withoutToken(body), group, resource);
  }
}
