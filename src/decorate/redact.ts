// Redaction runs before anything else sees an object (diff, snapshot, linkers, caches):
// Secret data/stringData values, the kubectl last-applied annotation of Secrets (it holds the
// data too) and user-configured paths are replaced by `<redacted N bytes>`.
// Copy-on-write: only the branches that change are copied, the caller's object is untouched.
//
// To still show that a secret value changed when its length did not, the redactor remembers a
// keyed digest (HMAC with a random per-process key, never emitted) per redacted Secret value,
// in a WeakMap beside the redacted object. Diff compares those digests; a digest names its key
// (`<key id>:<hmac>`), and digests under different keys are not compared (nothing can be told).
//
// Redaction is idempotent: a value that already is a placeholder stays as it is. In scale-out
// mode the receiver redacts before anything leaves it (src/sources/kafka/redact-message.ts) with
// `carryDigests`: its placeholders carry the digest (`<redacted 15 bytes; digest k:h>`), and the
// tracer's redactor takes the digest back out of the placeholder (the span shows `<redacted 15
// bytes>`). The HMAC key stays in the receiver's memory, so a digest tells nothing of the value.
import { createHmac, randomBytes } from 'node:crypto';
import type { RedactionRule } from '../core/config.ts';
import { isRecord } from '../core/audit-event.ts';
import { keySegment } from './path.ts';

export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

interface CompiledRule {
  group?: string;
  resource?: string;
  segments: string[];
}

/** 'a.b.*' / 'metadata.annotations["x.y/z"]' → segments. */
export function parseRulePath(path: string): string[] {
  const out: string[] = [];
  let i = 0;
  let cur = '';
  while (i < path.length) {
    const c = path[i]!;
    if (c === '.') {
      if (cur !== '') out.push(cur);
      cur = '';
      i++;
    } else if (c === '[' && path[i + 1] === '"') {
      if (cur !== '') out.push(cur);
      cur = '';
      const end = path.indexOf('"]', i + 2);
      if (end < 0) throw new Error(`unterminated ["..."] in redaction path ${path}`);
      out.push(path.slice(i + 2, end));
      i = end + 2;
    } else {
      cur += c;
      i++;
    }
  }
  if (cur !== '') out.push(cur);
  return out;
}

/** A placeholder as spans show it; PLACEHOLDER_WITH_DIGEST: as a receiver publishes it. */
const PLACEHOLDER = /^<redacted( \d+ bytes)?>$/;
const PLACEHOLDER_WITH_DIGEST = /^(<redacted \d+ bytes); digest ([0-9a-f]{12}:[A-Za-z0-9_-]{22})>$/;

/** True when two digests are of different values; undefined when they were made under different keys. */
export function digestsDiffer(a: string, b: string): boolean | undefined {
  const ka = a.slice(0, a.indexOf(':'));
  const kb = b.slice(0, b.indexOf(':'));
  return ka === kb ? a !== b : undefined;
}

function placeholder(v: unknown, base64: boolean): string {
  if (typeof v === 'string' && PLACEHOLDER.test(v)) return v; // already redacted
  if (typeof v !== 'string') return '<redacted>';
  if (base64) {
    const pad = v.endsWith('==') ? 2 : v.endsWith('=') ? 1 : 0;
    return `<redacted ${Math.max(0, Math.floor((v.length * 3) / 4) - pad)} bytes>`;
  }
  return `<redacted ${Buffer.byteLength(v)} bytes>`;
}

export function isSecret(group: string, resource: string, obj: unknown): boolean {
  if (group === '' && resource === 'secrets') return true;
  return isRecord(obj) && obj.kind === 'Secret' && obj.apiVersion === 'v1';
}

export interface RedactorOptions {
  /** Placeholders of Secret values carry their digest (a receiver publishing to Kafka); default false. */
  carryDigests?: boolean;
}

export class Redactor {
  readonly #rules: CompiledRule[];
  readonly #key = randomBytes(32);
  /** Names the key in every digest, so digests under another key (another process) are not compared. */
  readonly #keyId = randomBytes(6).toString('hex');
  readonly #carry: boolean;
  readonly #digests = new WeakMap<object, Map<string, string>>();

  constructor(rules: RedactionRule[] = [], opts: RedactorOptions = {}) {
    this.#rules = rules.map((r) => ({ group: r.group, resource: r.resource, segments: parseRulePath(r.path) }));
    this.#carry = opts.carryDigests ?? false;
  }

  /** Digests (path → opaque) of the Secret values redacted in `obj`, for change detection. */
  digests(obj: unknown): Map<string, string> | undefined {
    return isRecord(obj) ? this.#digests.get(obj) : undefined;
  }

  /** Re-attaches digests to a copy of a redacted object (e.g. one parsed back from the version cache). */
  attachDigests(obj: object, digests: Map<string, string>): void {
    this.#digests.set(obj, digests);
  }

  /** A copy of `obj` with every secret value replaced; `obj` itself is not modified. */
  redact(obj: unknown, group: string, resource: string): unknown {
    let out = obj;
    const secret = isSecret(group, resource, obj);
    if (secret) out = this.#redactSecret(out);
    const digests = secret && isRecord(out) ? this.#digests.get(out) : undefined;
    for (const r of this.#rules) {
      if (r.group !== undefined && r.group !== group) continue;
      if (r.resource !== undefined && r.resource !== resource) continue;
      out = redactPath(out, r.segments, 0);
    }
    if (digests && isRecord(out)) this.#digests.set(out, digests);
    return out;
  }

  #digest(v: unknown): string {
    const h = createHmac('sha256', this.#key)
      .update(typeof v === 'string' ? v : (JSON.stringify(v) ?? ''))
      .digest('base64url');
    return `${this.#keyId}:${h.slice(0, 22)}`;
  }

  /** The placeholder of one Secret value at `path`, its digest recorded (or taken back out of a carried placeholder). */
  #secretValue(v: unknown, base64: boolean, path: string, digests: Map<string, string>): string {
    const carried = typeof v === 'string' ? PLACEHOLDER_WITH_DIGEST.exec(v) : null;
    if (carried) {
      digests.set(path, carried[2]!);
      return `${carried[1]!}>`;
    }
    if (typeof v === 'string' && PLACEHOLDER.test(v)) return v;
    const ph = placeholder(v, base64);
    const d = this.#digest(v);
    digests.set(path, d);
    return this.#carry && ph !== '<redacted>' ? `${ph.slice(0, -1)}; digest ${d}>` : ph;
  }

  #redactSecret(obj: unknown): unknown {
    // A JSON patch (array of operations) against a Secret: blank every value it carries.
    if (Array.isArray(obj)) {
      return obj.map((op) => (isRecord(op) && 'value' in op ? { ...op, value: placeholder(op.value, false) } : op));
    }
    if (!isRecord(obj)) return obj;
    const out: Record<string, unknown> = { ...obj };
    // a SecretList (the response of a list): each item
    if (Array.isArray(obj.items)) out.items = obj.items.map((i) => (isRecord(i) && !('items' in i) ? this.#redactSecret(i) : '<redacted>'));
    const digests = new Map<string, string>();
    for (const field of ['data', 'stringData'] as const) {
      const m = obj[field];
      if (m === undefined || m === null) continue;
      if (!isRecord(m)) {
        out[field] = '<redacted>';
        continue;
      }
      const r: Record<string, unknown> = {};
      for (const k of Object.keys(m)) r[k] = this.#secretValue(m[k], field === 'data', keySegment(field, k), digests);
      out[field] = r;
    }
    const md = obj.metadata;
    if (isRecord(md) && isRecord(md.annotations) && LAST_APPLIED in md.annotations) {
      const v = this.#secretValue(md.annotations[LAST_APPLIED], false, keySegment('metadata.annotations', LAST_APPLIED), digests);
      out.metadata = { ...md, annotations: { ...md.annotations, [LAST_APPLIED]: v } };
    }
    this.#digests.set(out, digests);
    return out;
  }
}

function redactPath(node: unknown, segs: string[], i: number): unknown {
  const seg = segs[i]!;
  const last = i === segs.length - 1;
  if (Array.isArray(node)) {
    if (seg !== '*' && !/^\d+$/.test(seg)) return node;
    let copy: unknown[] | undefined;
    const idx = seg === '*' ? node.keys() : [Number(seg)];
    for (const j of idx) {
      if (j >= node.length) continue;
      const nv = last ? placeholder(node[j], false) : redactPath(node[j], segs, i + 1);
      if (nv !== node[j]) (copy ??= [...node])[j] = nv;
    }
    return copy ?? node;
  }
  if (!isRecord(node)) return node;
  let copy: Record<string, unknown> | undefined;
  const keys = seg === '*' ? Object.keys(node) : seg in node ? [seg] : [];
  for (const k of keys) {
    const nv = last ? placeholder(node[k], false) : redactPath(node[k], segs, i + 1);
    if (nv !== node[k]) (copy ??= { ...node })[k] = nv;
  }
  return copy ?? node;
}
