// @ts-check
// The trace view's model: the modes, scopes and kinds (from GET /api/ui-config), the tree of rows the
// query server builds (GET /api/ui/trace/:id, frontend-plugin/ui-tree/) linked back into objects,
// and what the views ask of its rows. Pure functions, no DOM.

/** Display modes and scopes, with their digit in the trace ID (`ff` + display + scope + 000000). */
export const MODES = [
  { key: 'tracing', digit: '2', label: 'Tracing', hint: 'one row per object, events as marks' },
  { key: 'tree', digit: '0', label: 'Tree', hint: 'objects with their events as child rows' },
  { key: 'timeline', digit: '1', label: 'Timeline', hint: 'all events in time order' },
  { key: 'grouped', digit: '3', label: 'Grouped', hint: 'events grouped by kind' },
];
export const SCOPES = [
  { key: 'default', digit: '0', label: 'Object', hint: 'the object and its direct relations (owner, owned objects, node)' },
  { key: 'owned objects', digit: '4', label: 'Owned objects', hint: 'the object and everything it owns, all the way down' },
  { key: 'full tree', digit: '1', label: 'Full tree', hint: 'from the top ancestor down' },
  { key: 'ancestors', digit: '2', label: 'Ancestors', hint: 'the object and its owners up to the top' },
];

/** kubectl short names → resource, from the server (GET /api/ui-config; src/core/kinds.ts is the one table). */
let SHORT = {};

/**
 * Takes the modes, scopes and kinds from the server (GET /api/ui-config, built from
 * frontend-plugin/trace-id.ts and src/core/kinds.ts), so the digits and the kind table have one
 * source. Without it (a server that does not answer), kinds show as their resource names.
 */
export function applyConfig(cfg) {
  if (!cfg || typeof cfg !== 'object') return;
  for (const m of cfg.modes ?? []) {
    const mine = MODES.find((x) => x.key === m.key);
    if (mine) mine.digit = m.digit;
    else MODES.push({ key: m.key, digit: m.digit, label: m.key, hint: '' });
  }
  for (const sc of cfg.scopes ?? []) {
    const mine = SCOPES.find((x) => x.key === sc.key);
    if (mine) mine.digit = sc.digit;
    else SCOPES.push({ key: sc.key, digit: sc.digit, label: sc.key, hint: '' });
  }
  if (Array.isArray(cfg.kinds) && cfg.kinds.length) {
    for (const k of cfg.kinds) {
      KINDS[k.resource] = k.kind;
      GROUPS[k.resource] = k.group;
    }
    RESOURCE_SUGGESTIONS.splice(0, RESOURCE_SUGGESTIONS.length, ...Object.keys(KINDS).sort());
  }
  if (cfg.shortNames && typeof cfg.shortNames === 'object') SHORT = { ...SHORT, ...cfg.shortNames };
}

/** {mode, scope} of a kubetrail trace ID, or null for an ID that does not carry them. */
export function parseTraceId(id) {
  if (!/^ff[0-9a-f]{30}$/i.test(id)) return null;
  const mode = MODES.find((m) => m.digit === id[2]);
  const scope = SCOPES.find((s) => s.digit === id[3]);
  if (!mode || !scope) return null;
  return { mode: mode.key, scope: scope.key };
}

/** The same lookup shown in another mode/scope: swap the 8 mode digits. */
export function withMode(id, mode, scope) {
  const m = MODES.find((x) => x.key === mode);
  const s = SCOPES.find((x) => x.key === scope);
  return `ff${m.digit}${s.digit}000000${id.slice(10)}`;
}

const GROUPS = {};
/** resource → Kind, from the server (GET /api/ui-config). */
const KINDS = {};
export function kindOf(resource) {
  if (!resource) return '';
  return KINDS[resource] ?? resource;
}
/**
 * Accepts what users type — "Deployment", "deployment", "deploy", "deployments",
 * "deployments.apps", "apps/deployments", "apps/v1/deployments" — → {resource, group}.
 */
export function parseResourceInput(text) {
  let t = text.trim();
  if (!t) return { resource: '', group: undefined };
  let group;
  if (t.includes('/')) {
    // group/resource or group/version/resource (a version alone, `v1/pods`, means the core group)
    const parts = t.split('/').filter(Boolean);
    t = parts[parts.length - 1] ?? '';
    const g = parts[0] ?? '';
    group = parts.length === 1 ? undefined : /^v\d+((alpha|beta)\d*)?$/.test(g) ? '' : g;
  }
  const [first, ...rest] = t.split('.');
  if (rest.length) group = rest.join('.');
  const lower = first.toLowerCase();
  if (SHORT[lower]) return { resource: SHORT[lower], group };
  if (KINDS[lower]) return { resource: lower, group };
  const byKind = Object.entries(KINDS).find(([, k]) => k.toLowerCase() === lower);
  if (byKind) return { resource: byKind[0], group };
  // a singular that is not a kind in the table: the usual plural
  const plural = lower.endsWith('s') ? lower : /(x|ch|sh)$/.test(lower) ? `${lower}es` : /[^aeiou]y$/.test(lower) ? `${lower.slice(0, -1)}ies` : `${lower}s`;
  return { resource: plural, group };
}
export const RESOURCE_SUGGESTIONS = Object.keys(KINDS);

/** Short "who/what" for tooltips and narrow places: service-account prefixes trimmed. */
export function shortUser(user) {
  return user.replace(/^system:serviceaccount:kube-system:/, '').replace(/^system:serviceaccount:/, 'sa:');
}

/**
 * The tree GET /api/ui/trace/:id answers (frontend-plugin/ui-tree/wire.ts), its rows linked back:
 * each row's `parent`, `children` and `alsoOf` (the full row of an object shown under another parent)
 * and the tree's `roots` become the rows themselves instead of indices into `flat`. Each row:
 * {key, span, tags, isEvent, events, parent, children, depth, index, firstTs, lastTs, errors,
 * warnings, expected, kind, label, suffix, relation, descendants, synthetic?, alsoOf?, nodeName?}.
 */
export function linkTree(wire) {
  const flat = wire.flat;
  const at = (i) => flat[i];
  for (const n of flat) {
    n.parent = n.parent === null ? null : at(n.parent);
    n.children = n.children.map(at);
    if (n.alsoOf !== undefined) n.alsoOf = at(n.alsoOf);
  }
  return { ...wire, roots: wire.roots.map(at), flat };
}

/**
 * Replacements among the pods of one owner: a pod deleted by someone other than the controller that
 * created it (the garbage collector after its node went, an eviction, a user — not a scale-down) is
 * paired with the first pod the owner created after that delete (from 2 s before, within 5 minutes), each
 * created pod at most once, deletes in time order. Cached on the owner row.
 */
function replacementPairs(owner) {
  if (owner._pairs) return owner._pairs;
  const pairs = new Map(); // deleted pod → replacement, and replacement → deleted pod (key `~` + index)
  const pods = owner.children.filter((c) => !c.isEvent && c.tags.resource === 'pods');
  const creates = pods
    .map((c) => ({ c, ev: c.events.find((e) => e.kind === 'create') }))
    .filter((x) => x.ev)
    .sort((a, b) => a.ev.ts - b.ev.ts);
  const deletes = [];
  for (const c of pods) {
    const creator = c.events.find((e) => e.kind === 'create')?.user;
    // the delete that started it (kwok and kubelets finish a graceful delete with deletes of their own)
    const del = c.events.find((e) => e.kind === 'delete' && e.level === 'normal');
    if (del && del.user !== creator) deletes.push({ c, del });
  }
  deletes.sort((a, b) => a.del.ts - b.del.ts);
  const used = new Set();
  for (const { c, del } of deletes) {
    const next = creates.find((x) => !used.has(x.c) && x.c !== c && x.ev.ts >= del.ts - 2e6 && x.ev.ts - del.ts < 300e6 && x.ev.ts > c.firstTs);
    if (!next) continue;
    used.add(next.c);
    pairs.set(c, next.c);
    pairs.set(`~${next.c.key}`, c);
  }
  owner._pairs = pairs;
  return pairs;
}

/** The pod that replaced `pod`, or null. */
export function replacementOf(pod) {
  if (pod.tags?.resource !== 'pods' || !pod.parent || pod.parent.isEvent) return null;
  return replacementPairs(pod.parent).get(pod) ?? null;
}
/** The pod that `pod` replaced, or null. */
export function replacedBy(pod) {
  if (pod.tags?.resource !== 'pods' || !pod.parent || pod.parent.isEvent) return null;
  return replacementPairs(pod.parent).get(`~${pod.key}`) ?? null;
}

/**
 * The rows of a tree that stand for stored objects: not event rows, actor groups, the node rows
 * added under pods (a node bound to three pods is one object, and a workload view does not hold it)
 * or the rows of an object under its other parents.
 */
export function objectRows(tree) {
  return tree.flat.filter((n) => !n.isEvent && !n.synthetic && n.tags.nestLevel !== 'group');
}

/** The object a node stands for (for /redirect links and selection keys), or null. */
export function objectOf(node) {
  const t = node.tags;
  if (!t.resource || !t.name) return null;
  return { cluster: t.cluster ?? '', group: t.group ?? '', resource: t.resource, namespace: t.namespace ?? '', name: t.name };
}
export function objectKeyOf(node) {
  const o = objectOf(node);
  return o ? `${o.cluster}/${o.group}/${o.resource}/${o.namespace}/${o.name}` : null;
}
