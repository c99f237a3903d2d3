// The typed view of a stored span: what an event span says, read one way by every part of the read
// path (assembly, display modes, v1 and v3, the failure classes, the diagnosis) and by the store's
// failure index. Plain functions over SpanRecord rather than a wrapper object: the diagnosis reads
// these over hundreds of thousands of spans, and a wrapper per span would double what it keeps.
// Absent values read as the write path stores them: '' for text, 0 for the status code.
import { Attr, type AttrValue, type LinkRole, type SpanRecord } from './model.ts';

const text = (v: AttrValue | undefined): string => (v === undefined || v === null ? '' : String(v));

/** The HTTP status code of a request (a number, or a digit string from older data); 0 when none. */
export function codeOf(s: SpanRecord): number {
  const c = s.attributes[Attr.code];
  return typeof c === 'number' ? c : typeof c === 'string' && /^\d+$/.test(c) ? Number(c) : 0;
}

/** The request's error message (the span's error, or the `error` attribute), if any. */
export function errorOf(s: SpanRecord): string | undefined {
  if (s.error) return s.error;
  const e = s.attributes[Attr.error];
  return typeof e === 'string' && e !== '' ? e : undefined;
}

/** The request's verb (`create`, `patch`, …); '' for a Kubernetes Event. */
export const verbOf = (s: SpanRecord): string => text(s.attributes[Attr.verb]);

/** The request's subresource (`status`, `binding`, …); '' for the object itself. */
export const subresourceOf = (s: SpanRecord): string => text(s.attributes[Attr.subresource]);

/** `<verb>[ <subresource>]`; undefined for a span without a verb. */
export function verbLabel(s: SpanRecord): string | undefined {
  const verb = verbOf(s);
  if (verb === '') return undefined;
  const sub = subresourceOf(s);
  return sub ? `${verb} ${sub}` : verb;
}

/** Who wrote: the audit user, else the field manager (list-watch only); '' when unknown. */
export const writerOf = (s: SpanRecord): string => text(s.attributes[Attr.user] ?? s.attributes[Attr.fieldManager]);

/** Who did it: the writer, else the Kubernetes Event's reporting component; '' when unknown. */
export const actorOf = (s: SpanRecord): string => text(s.attributes[Attr.user] ?? s.attributes[Attr.fieldManager] ?? s.attributes[Attr.eventComponent]);

/** A Kubernetes Event (not a request). */
export const isKubeEvent = (s: SpanRecord): boolean => s.attributes[Attr.source] === 'event';

/** What a link span says: the other object, what it is to this one, the relation's class. */
export interface LinkView {
  /** objectKey() of the other object. */
  other: string;
  /** `parent`: the other object is this one's parent. */
  role: LinkRole;
  /** `children`, `node`, `annotation`, …; '' when the span names none. */
  class: string;
  /** Both halves of a controlling owner reference. */
  controller: boolean;
}

/** The relation a link span stands for; undefined for another span or a malformed link. */
export function linkOf(s: SpanRecord): LinkView | undefined {
  if (s.kind !== 'link') return undefined;
  const a = s.attributes;
  const other = a[Attr.linkKey];
  const role = a[Attr.linkRole];
  if (typeof other !== 'string' || (role !== 'parent' && role !== 'child')) return undefined;
  return { other, role, class: text(a[Attr.linkClass]), controller: String(a[Attr.linkController]) === 'true' };
}
