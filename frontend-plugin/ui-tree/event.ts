// One event of the built-in UI's trace view (an audit write, a watch change or a Kubernetes Event),
// read from the fields of a display span's log or from the tags of an event span: who did what,
// its code, failure level, diff and snapshot. The UI renders these fields as they are.
import { failedWith } from '../../src/core/failed.ts';
import type { AttrValue } from '../../src/core/model.ts';

export type Fields = Record<string, AttrValue>;

export interface DiffEntry {
  path: string;
  old?: unknown;
  new?: unknown;
}

export interface UiEvent {
  /** Unix µs. */
  ts: number;
  user: string;
  verb: string;
  subresource: string;
  reason: string;
  message: string;
  component: string;
  code?: number;
  error: string;
  /** An expected failure (failures.ts): grey, not red, and not counted as failed. */
  expected: boolean;
  failureReason?: string;
  diff: string;
  /** `diff.entries`, or null for data without them. */
  entries: DiffEntry[] | null;
  diffVerbose: string;
  resourceVersion?: string;
  snapshot: string;
  userAgent: string;
  sourceIP: string;
  impersonatedBy: string;
  noop: boolean;
  isK8sEvent: boolean;
  level: 'expected' | 'error' | 'warning' | 'normal';
  kind: 'event' | 'create' | 'delete' | 'update' | 'other';
  who: string;
  what: string;
}

const VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection', 'apply', 'get', 'list', 'watch']);

/** The first of the keys with a value that is not empty. */
export function first(o: Fields, ...keys: string[]): AttrValue | undefined {
  for (const k of keys) if (o[k] !== undefined && o[k] !== null && o[k] !== '') return o[k];
  return undefined;
}

const str = (v: AttrValue | undefined): string => String(v ?? '');

/** user, verb, subresource: the tracing mode's own fields, or split from `audit` ("<user> <verb>[ <subresource>]"). */
function whoDid(fields: Fields): Pick<UiEvent, 'user' | 'verb' | 'subresource'> {
  const audit = first(fields, 'audit');
  if ((fields.verb === undefined || fields.verb === '') && audit) {
    // the user never contains spaces, verbs and subresources neither; without a known user: "<verb>[ <subresource>]"
    const parts = String(audit).trim().split(/\s+/);
    if (parts.length <= 2 && VERBS.has(parts[0]!)) parts.unshift('');
    return { user: parts[0] ?? '', verb: parts[1] ?? '', subresource: parts.slice(2).join(' ') };
  }
  return { user: str(first(fields, 'user', 'fieldManager')), verb: str(first(fields, 'verb')), subresource: str(first(fields, 'subresource')) };
}

/** `diff.entries` (JSON [{path, old?, new?}]) → array, or null for old data without it. */
export function parseEntries(v: AttrValue | undefined): DiffEntry[] | null {
  if (v === undefined || v === null || v === '') return null;
  try {
    const list: unknown = JSON.parse(String(v));
    return Array.isArray(list) ? list.filter((e) => e && typeof e.path === 'string') : null;
  } catch {
    return null;
  }
}

/** The error text: log fields carry it in `error`, event spans carry error=true and `error.message`. */
function errorText(fields: Fields): string {
  const err = first(fields, 'error.message', 'error');
  if (err === undefined || err === false || err === 'false') return '';
  return err === true || err === 'true' ? 'request failed' : String(err);
}

function kindOfEvent(ev: Pick<UiEvent, 'isK8sEvent' | 'verb' | 'subresource'>): UiEvent['kind'] {
  if (ev.isK8sEvent) return 'event';
  if (ev.verb === 'create' && !ev.subresource) return 'create';
  if (ev.verb === 'delete' || ev.verb === 'deletecollection') return 'delete';
  return ev.verb ? 'update' : 'other';
}

/** One event from span-log fields or from the tags of an event span (a plain {key: value} object). */
export function toEvent(ts: number, fields: Fields): UiEvent {
  const audit = first(fields, 'audit');
  const { user, verb, subresource } = whoDid(fields);
  // `event` names every span log (the Jaeger UI's title): an Event's reason, but a write's `audit`.
  const named = audit || verb || (fields.source !== undefined && fields.source !== 'event');
  const reason = str(first(fields, 'event.reason', 'reason') ?? (named ? undefined : first(fields, 'event')));
  const component = str(first(fields, 'event.component', 'component'));
  const type = str(first(fields, 'event.type', 'type'));
  const rawCode = first(fields, 'code');
  const code = rawCode === undefined ? undefined : Number(rawCode);
  // An expected failure: log fields `warning` + `failure` (its reason), span tags `failure=expected`, `failure.reason`, `warning`.
  const expected = fields.failure === 'expected' || (fields.failure !== undefined && fields.warning !== undefined);
  const error = expected ? str(first(fields, 'warning') ?? errorText(fields)) : errorText(fields);
  const isK8sEvent = !!reason && !audit && !verb;
  const rv = first(fields, 'resourceVersion.new');
  const ev: UiEvent = {
    ts,
    user,
    verb,
    subresource,
    reason,
    message: str(first(fields, 'message', 'event.message')),
    component,
    code,
    error,
    expected,
    ...(expected ? { failureReason: str(first(fields, 'failure.reason') ?? (fields.failure === 'expected' ? '' : fields.failure)) } : {}),
    diff: str(first(fields, 'diff')),
    entries: parseEntries(first(fields, 'diff.entries')),
    diffVerbose: str(first(fields, 'diff.verbose')),
    ...(rv !== undefined ? { resourceVersion: String(rv) } : {}),
    snapshot: str(first(fields, 'snapshot')),
    userAgent: str(first(fields, 'userAgent')),
    sourceIP: str(first(fields, 'sourceIP')),
    impersonatedBy: str(first(fields, 'impersonatedBy')),
    noop: fields.noop === true || fields.noop === 'true',
    isK8sEvent,
    level: expected ? 'expected' : failedWith(code, error) ? 'error' : type === 'Warning' ? 'warning' : 'normal',
    kind: 'other',
    who: isK8sEvent ? component || 'Kubernetes Event' : user || '(unknown)',
    what: isK8sEvent ? reason : [verb, subresource].filter(Boolean).join(' ') || reason || '(change)',
  };
  ev.kind = kindOfEvent(ev);
  return ev;
}
