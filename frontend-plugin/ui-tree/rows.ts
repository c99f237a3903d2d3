// What the trace view says about one row: its kind (src/core/kinds.ts), label, the object it stands
// for, its relation to the row above (the `link.class` tag) and, for a pod, the node it ran on.
import { KNOWN } from '../../src/core/kinds.ts';
import type { AttrValue } from '../../src/core/model.ts';
import type { UiEvent } from './event.ts';

export interface Relation {
  key: string;
  icon: string;
  label: string;
}

/** The parts of a row these helpers read (tree.ts Row). */
interface RowLike {
  isEvent: boolean;
  tags: Record<string, AttrValue>;
  events: UiEvent[];
  children: RowLike[];
  span: { operationName: string };
}

const KINDS: Record<string, string> = {};
for (const [kind, [, resource]] of Object.entries(KNOWN)) KINDS[resource] = kind;

/** resource → Kind; a resource outside the table shows as itself. */
export function kindOf(resource: AttrValue | undefined): string {
  if (!resource) return '';
  return KINDS[String(resource)] ?? String(resource);
}

const RELATIONS: Record<string, Omit<Relation, 'key'>> = {
  root: { icon: '◉', label: 'the object you looked up' },
  children: { icon: '⇢', label: 'owned by its parent (ownerReference)' },
  node: { icon: '⌂', label: 'node: runs on / hosts' },
  annotation: { icon: '⚓', label: 'linked by annotation' },
  service: { icon: '⇄', label: 'service / endpoints' },
  volume: { icon: '⛁', label: 'volume / claim' },
  uses: { icon: '↗', label: 'uses' },
  helm: { icon: '⎈', label: 'Helm release' },
  top: { icon: '▴', label: 'another top ancestor: a parent of an object below' },
  also: { icon: '⤷', label: 'also a child of this row (it has several parents; shown in full under another)' },
  event: { icon: '·', label: 'event' },
  group: { icon: '☰', label: 'events by one actor' },
};

/** The relation of an object to its parent row, from its `link.class` tag. */
export function relationOf(cls: string | undefined, isRoot: boolean): Relation {
  if (isRoot && !cls) return { key: 'root', ...RELATIONS.root! };
  if (!cls) return { key: 'none', icon: '•', label: 'related' };
  return { key: cls, ...(RELATIONS[cls] ?? { icon: '↔', label: cls }) };
}

/** Short "who" for labels: service-account prefixes trimmed. */
export function shortUser(user: string): string {
  return user.replace(/^system:serviceaccount:kube-system:/, '').replace(/^system:serviceaccount:/, 'sa:');
}

export function label(n: RowLike): string {
  if (n.isEvent) {
    const e = n.events[0];
    return e ? `${e.what} — ${shortUser(e.who)}` : n.span.operationName;
  }
  if (n.tags.nestLevel === 'group') return shortUser(String(n.tags.actor ?? n.span.operationName));
  const { namespace, name } = n.tags;
  if (name) return namespace ? `${namespace}/${name}` : String(name);
  return n.span.operationName;
}

/** The object a row stands for, as a key (cluster/group/resource/namespace/name), or null. */
export function objectKeyOf(n: RowLike): string | null {
  const t = n.tags;
  if (!t.resource || !t.name) return null;
  return `${t.cluster ?? ''}/${t.group ?? ''}/${t.resource}/${t.namespace ?? ''}/${t.name}`;
}

function nodeNameOf(e: UiEvent, name: string): string {
  let found = name;
  for (const en of e.entries ?? []) if (en.path === 'spec.nodeName' && typeof en.new === 'string') found = en.new;
  const m = /(?:^|\n)spec\.nodeName \S+ -> "?([^"\s]+)"?/.exec(e.diff);
  if (m) found = m[1]!;
  if (!found && e.snapshot) {
    try {
      found = JSON.parse(e.snapshot)?.spec?.nodeName ?? '';
    } catch {
      /* not JSON */
    }
  }
  return found;
}

/** The node a pod was bound to, from its events (binding, spec.nodeName diffs, snapshots); '' if unknown. */
export function podNodeName(n: RowLike): string {
  const evs = [...n.events];
  for (const c of n.children)
    if (c.isEvent || c.tags.nestLevel === 'group') {
      evs.push(...c.events);
      for (const g of c.children) if (g.isEvent) evs.push(...g.events);
    }
  let name = '';
  for (const e of evs.sort((a, b) => a.ts - b.ts)) name = nodeNameOf(e, name);
  return name;
}
