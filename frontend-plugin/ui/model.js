// @ts-check
// Turns a Jaeger trace from kubetrail's query server into what the UI shows: a tree of objects
// (tracing mode: one span per object, events as span logs) or of event spans (tree/timeline/
// grouped modes), each with normalised events. Pure functions, no DOM.

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

/** The relation of an object to its parent row, from the `link.class` tag. */
const RELATIONS = {
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
export function relationOf(cls, isRoot) {
  if (isRoot && !cls) return { key: 'root', ...RELATIONS.root };
  if (!cls) return { key: 'none', icon: '•', label: 'related' };
  return { key: cls, ...(RELATIONS[cls] ?? { icon: '↔', label: cls }) };
}

function tagsToObject(list) {
  const o = {};
  for (const t of list ?? []) o[t.key] = t.value;
  return o;
}

const first = (o, ...keys) => {
  for (const k of keys) if (o[k] !== undefined && o[k] !== null && o[k] !== '') return o[k];
  return undefined;
};

/**
 * One event (audit write, watch change or Kubernetes Event) from span-log fields or from the tags
 * of an event span. `fields` is a plain {key: value} object.
 */
export function toEvent(ts, fields) {
  const ev = { ts, fields, user: '', verb: '', subresource: '', reason: '', message: '', component: '', code: undefined };
  const audit = first(fields, 'audit');
  if (fields.verb !== undefined && fields.verb !== '') {
    // the tracing mode's own fields (user, verb, subresource): nothing to split
    ev.user = String(first(fields, 'user', 'fieldManager') ?? '');
    ev.verb = String(fields.verb);
    ev.subresource = String(first(fields, 'subresource') ?? '');
  } else if (audit) {
    // "<user> <verb>[ <subresource>]": the user never contains spaces, verbs and subresources neither.
    // Without a known user the field is just "<verb>[ <subresource>]".
    const parts = String(audit).trim().split(/\s+/);
    if (parts.length <= 2 && VERBS.has(parts[0])) parts.unshift('');
    ev.user = parts[0] ?? '';
    ev.verb = parts[1] ?? '';
    ev.subresource = parts.slice(2).join(' ');
  } else {
    ev.user = String(first(fields, 'user', 'fieldManager') ?? '');
    ev.verb = String(first(fields, 'verb') ?? '');
    ev.subresource = String(first(fields, 'subresource') ?? '');
  }
  // `event` names every span log (the Jaeger UI's title): an Event's reason, but a write's `audit`.
  const named = audit || ev.verb || (fields.source !== undefined && fields.source !== 'event');
  ev.reason = String(first(fields, 'event.reason', 'reason') ?? (named ? undefined : first(fields, 'event')) ?? '');
  ev.message = String(first(fields, 'message', 'event.message') ?? '');
  ev.component = String(first(fields, 'event.component', 'component') ?? '');
  const type = String(first(fields, 'event.type', 'type') ?? '');
  const code = first(fields, 'code');
  ev.code = code === undefined ? undefined : Number(code);
  // Log fields carry the message in `error`; event spans carry error=true and `error.message`.
  const err = first(fields, 'error.message', 'error');
  ev.error = err === undefined || err === false || err === 'false' ? '' : err === true || err === 'true' ? 'request failed' : String(err);
  // An expected failure (frontend-plugin/failures.ts): log fields `warning` + `failure` (its reason),
  // span tags `failure=expected`, `failure.reason`, `warning`. Grey, not red, and not counted as failed.
  const expected = fields.failure === 'expected' || (fields.failure !== undefined && fields.warning !== undefined);
  ev.expected = expected;
  if (expected) {
    ev.failureReason = String(first(fields, 'failure.reason') ?? (fields.failure === 'expected' ? '' : fields.failure));
    ev.error = String(first(fields, 'warning') ?? ev.error ?? '');
  }
  ev.diff = String(first(fields, 'diff') ?? '');
  ev.entries = parseEntries(first(fields, 'diff.entries'));
  ev.diffVerbose = String(first(fields, 'diff.verbose') ?? '');
  const rv = first(fields, 'resourceVersion.new');
  if (rv !== undefined && rv !== '') ev.resourceVersion = String(rv);
  ev.snapshot = String(first(fields, 'snapshot') ?? '');
  ev.userAgent = String(first(fields, 'userAgent') ?? '');
  ev.sourceIP = String(first(fields, 'sourceIP') ?? '');
  ev.impersonatedBy = String(first(fields, 'impersonatedBy') ?? '');
  ev.noop = fields.noop === true || fields.noop === 'true';
  ev.isK8sEvent = !!ev.reason && !audit && !ev.verb;
  ev.level = expected ? 'expected' : ev.error || (ev.code !== undefined && ev.code >= 300) ? 'error' : type === 'Warning' ? 'warning' : 'normal';
  ev.kind = ev.isK8sEvent
    ? 'event'
    : ev.verb === 'create' && !ev.subresource
      ? 'create'
      : ev.verb === 'delete' || ev.verb === 'deletecollection'
        ? 'delete'
        : ev.verb
          ? 'update'
          : 'other';
  ev.who = ev.isK8sEvent ? ev.component || 'Kubernetes Event' : ev.user || '(unknown)';
  ev.what = ev.isK8sEvent ? ev.reason : [ev.verb, ev.subresource].filter(Boolean).join(' ') || ev.reason || '(change)';
  return ev;
}

/** `diff.entries` (JSON [{path, old?, new?}]) → array, or null for old data without it. */
export function parseEntries(v) {
  if (v === undefined || v === null || v === '') return null;
  if (Array.isArray(v)) return v;
  try {
    const list = JSON.parse(String(v));
    return Array.isArray(list) ? list.filter((e) => e && typeof e.path === 'string') : null;
  } catch {
    return null;
  }
}

const VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection', 'apply', 'get', 'list', 'watch']);

/** Short "who/what" for tooltips and narrow places: service-account prefixes trimmed. */
export function shortUser(user) {
  return user.replace(/^system:serviceaccount:kube-system:/, '').replace(/^system:serviceaccount:/, 'sa:');
}

function looksLikeEventSpan(tags) {
  if (tags.nestLevel === 'event') return true;
  if (tags.nestLevel === 'object' || tags.nestLevel === 'link' || tags.nestLevel === 'pseudo') return false;
  return !tags.name && (tags.audit !== undefined || tags.verb !== undefined || tags['event.reason'] !== undefined);
}

/**
 * Builds the row tree. Each node: {key, span, tags, parent, children, depth, isEvent, events,
 * firstTs, lastTs, errors, warnings, kind, label, relation}. Cycles and unknown parents
 * make a span a root; duplicate span IDs keep the first span.
 */
export function buildTree(trace) {
  const { nodes, byId } = spanNodes(trace);
  breakCycles(nodes);
  const roots = [];
  for (const node of nodes) (node.parent ? node.parent.children : roots).push(node);
  addNodeRows(nodes);
  addOtherParentRows(nodes, byId);
  const flat = depthFirst(roots);
  describeRows(flat, roots);
  // counted before foldChildEvents copies event rows' marks onto their objects' rows
  const eventCount = flat.reduce((s, n) => s + n.events.length, 0);
  const errorCount = flat.reduce((s, n) => s + n.errors, 0);
  const expectedCount = flat.reduce((s, n) => s + n.expected, 0);
  foldChildEvents(flat);
  const { lo, hi } = eventRange(flat);
  const pad = (hi - lo) * 0.02;
  const warnings = Array.isArray(trace.warnings) ? trace.warnings.filter(Boolean).map(String) : [];
  return {
    traceID: trace.traceID,
    warnings,
    roots,
    flat,
    start: lo - pad,
    end: hi + pad,
    firstEvent: lo,
    lastEvent: hi,
    eventCount,
    errorCount,
    expectedCount,
  };
}

/** One row per span (the first of duplicate span IDs), its events and marks, its parent by reference. */
function spanNodes(trace) {
  const nodes = [];
  const byId = new Map();
  for (const span of trace.spans ?? []) {
    if (byId.has(span.spanID)) continue;
    const tags = tagsToObject(span.tags);
    const isEvent = looksLikeEventSpan(tags);
    let events = (span.logs ?? []).map((l) => toEvent(l.timestamp, tagsToObject(l.fields)));
    if (isEvent) events = [toEvent(span.startTime, tags), ...events];
    events.sort((a, b) => a.ts - b.ts);
    const node = {
      key: span.spanID,
      span,
      tags,
      isEvent,
      events,
      parent: null,
      children: [],
      depth: 0,
      errors: events.filter((e) => e.level === 'error').length,
      warnings: events.filter((e) => e.level === 'warning').length,
      expected: events.filter((e) => e.level === 'expected').length,
    };
    node.firstTs = events.length ? events[0].ts : span.startTime;
    node.lastTs = events.length ? events[events.length - 1].ts : span.startTime + (span.duration ?? 0);
    byId.set(span.spanID, node);
    nodes.push(node);
  }
  for (const node of nodes) {
    const ref = (node.span.references ?? []).find((r) => r.spanID !== node.key && byId.has(r.spanID));
    if (ref) node.parent = byId.get(ref.spanID);
  }
  return { nodes, byId };
}

/** Walks up from each node; a node that reaches itself loses its parent (it becomes a root). */
function breakCycles(nodes) {
  for (const node of nodes) {
    const seen = new Set([node]);
    for (let p = node.parent; p; p = p.parent) {
      if (seen.has(p)) {
        node.parent = null;
        break;
      }
      seen.add(p);
    }
  }
}

const rowOrder = (a, b) => (a.isEvent === b.isEvent ? 0 : a.isEvent ? -1 : 1) || a.firstTs - b.firstTs || label(a).localeCompare(label(b));

/**
 * The rows in display order, each with its depth and index. The first root of the answer (the
 * object looked up, or the top of its owner chain) names the trace and stays first; further roots
 * (a second owner, a pod's node) follow in time order.
 */
function depthFirst(roots) {
  const flat = [];
  const visit = (n, depth) => {
    n.depth = depth;
    n.index = flat.length;
    flat.push(n);
    n.children.sort(rowOrder);
    for (const c of n.children) visit(c, depth + 1);
  };
  const main = roots[0];
  roots.sort(rowOrder);
  if (main) roots.splice(0, roots.length, main, ...roots.filter((r) => r !== main));
  for (const r of roots) visit(r, 0);
  return flat;
}

/** Each row's kind, label, relation to its parent row and count of descendants. */
function describeRows(flat, roots) {
  for (const n of flat) {
    n.kind = n.isEvent ? '' : kindOf(n.tags.resource);
    n.label = label(n);
    n.suffix = n.isEvent ? '' : generatedSuffix(n.label);
    // Events listed under another object (timeline mode) name the object they happened to.
    if (n.isEvent && n.parent && n.tags.name && objectKeyOf(n) !== objectKeyOf(nearestObject(n.parent))) {
      n.label += ` · ${kindOf(n.tags.resource)} ${n.tags.namespace ? n.tags.namespace + '/' : ''}${n.tags.name}`;
    }
    n.relation = n.isEvent
      ? relationOf('event')
      : n.tags.nestLevel === 'group'
        ? relationOf('group')
        : !n.parent && n !== roots[0] && !n.tags['link.class']
          ? relationOf('top')
          : relationOf(n.tags['link.class'], !n.parent);
    n.descendants = 0;
  }
  for (let i = flat.length - 1; i >= 0; i--) if (flat[i].parent) flat[i].parent.descendants += 1 + flat[i].descendants;
}

/** Tree/grouped modes: an object's events are child rows; its own row still shows their marks. */
function foldChildEvents(flat) {
  for (const n of flat) {
    if (n.isEvent || n.events.length || !n.children.length) continue;
    const own = [];
    const walk = (c) => {
      if (c.isEvent) own.push(...c.events);
      if (c.isEvent || c.tags.nestLevel === 'group') c.children.forEach(walk);
    };
    n.children.forEach(walk);
    if (!own.length) continue;
    n.events = own.sort((a, b) => a.ts - b.ts);
    n.errors = own.filter((e) => e.level === 'error').length;
    n.warnings = own.filter((e) => e.level === 'warning').length;
    n.expected = own.filter((e) => e.level === 'expected').length;
    n.firstTs = own[0].ts;
    n.lastTs = own[own.length - 1].ts;
  }
}

/** Time range: the events' (object spans cover a whole 30-minute window, which says little). */
function eventRange(flat) {
  let lo = Infinity,
    hi = -Infinity;
  for (const n of flat)
    for (const e of n.events) {
      if (e.ts < lo) lo = e.ts;
      if (e.ts > hi) hi = e.ts;
    }
  if (lo === Infinity)
    for (const n of flat) {
      lo = Math.min(lo, n.span.startTime);
      hi = Math.max(hi, n.span.startTime + (n.span.duration ?? 0));
    }
  if (!(hi > lo)) {
    hi = lo + 1e6;
    lo -= 1e6;
  }
  return { lo, hi };
}

/**
 * The part of a generated name that tells siblings apart (`web-7f9c6d8b5-x2k4l` → `7f9c6d8b5-x2k4l`,
 * `kwok-node-2` → `2`), shown unshortened when a narrow screen truncates the label; '' for a short label.
 */
export function generatedSuffix(label) {
  if (label.length <= 18) return '';
  const m = /(?:-[a-z0-9]{1,10}){1,2}$/.exec(label);
  if (!m) return '';
  const tail = m[0].slice(1);
  return tail.length < label.length - 3 ? tail : '';
}

/** The node a pod was bound to, from its events (binding, spec.nodeName diffs, snapshots); '' if unknown. */
export function podNodeName(n) {
  const evs = [...n.events];
  for (const c of n.children)
    if (c.isEvent || c.tags.nestLevel === 'group') {
      evs.push(...c.events);
      for (const g of c.children) if (g.isEvent) evs.push(...g.events);
    }
  let name = '';
  for (const e of evs.sort((a, b) => a.ts - b.ts)) {
    for (const en of e.entries ?? []) if (en.path === 'spec.nodeName' && typeof en.new === 'string') name = en.new;
    const m = /(?:^|\n)spec\.nodeName \S+ -> "?([^"\s]+)"?/.exec(e.diff);
    if (m) name = m[1];
    if (!name && e.snapshot) {
      try {
        name = JSON.parse(e.snapshot)?.spec?.nodeName ?? '';
      } catch {
        /* not JSON */
      }
    }
  }
  return name;
}

/**
 * Workload views hold no node objects (the node is not owned): a row for the node goes under each
 * pod bound to one, so a Deployment's tree shows where every pod ran. Skipped for a node the
 * trace already holds (a pod's own view). Its details link to the node's own trace.
 */
function addNodeRows(nodes) {
  const present = new Set(nodes.filter((n) => !n.isEvent && n.tags.resource === 'nodes').map((n) => `${n.tags.cluster ?? ''}/${n.tags.name}`));
  for (const pod of [...nodes]) {
    if (pod.isEvent || pod.tags.resource !== 'pods' || pod.tags.nestLevel === 'group') continue;
    const name = podNodeName(pod);
    if (!name || present.has(`${pod.tags.cluster ?? ''}/${name}`)) continue;
    const tags = { cluster: pod.tags.cluster, group: '', resource: 'nodes', namespace: '', name, 'link.class': 'node', synthetic: true };
    const row = {
      key: `${pod.key}~node`,
      span: { spanID: `${pod.key}~node`, operationName: `nodes ${name}`, startTime: pod.firstTs, duration: 0, references: [], tags: [], logs: [] },
      tags,
      isEvent: false,
      synthetic: true,
      events: [],
      parent: pod,
      children: [],
      depth: 0,
      errors: 0,
      warnings: 0,
      expected: 0,
      firstTs: pod.firstTs,
      lastTs: pod.lastTs,
    };
    nodes.push(row);
    pod.children.push(row);
  }
}

/**
 * An object with several parents (two owners, a pod and its node) is drawn once, under its first
 * reference; each further CHILD_OF reference of its span gets a row under that parent too, which
 * stands for it (no events of its own; its details point to the full row).
 */
function addOtherParentRows(nodes, byId) {
  for (const node of [...nodes]) {
    if (node.isEvent || node.synthetic || !node.parent) continue;
    for (const ref of node.span.references ?? []) {
      const other = byId.get(ref.spanID);
      if (!other || other === node || other === node.parent || other.isEvent || ref.refType !== 'CHILD_OF') continue;
      const row = {
        key: `${node.key}~under~${other.key}`,
        span: { ...node.span, spanID: `${node.key}~under~${other.key}`, references: [], logs: [] },
        tags: { ...node.tags, 'link.class': 'also' },
        isEvent: false,
        synthetic: true,
        alsoOf: node,
        events: [],
        parent: other,
        children: [],
        depth: 0,
        errors: 0,
        warnings: 0,
        expected: 0,
        firstTs: node.firstTs,
        lastTs: node.lastTs,
      };
      nodes.push(row);
      other.children.push(row);
    }
  }
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

function nearestObject(n) {
  let p = n;
  while (p && (p.isEvent || p.tags.nestLevel === 'group')) p = p.parent;
  return p ?? n;
}

function label(n) {
  if (n.isEvent) {
    const e = n.events[0];
    return e ? `${e.what} — ${shortUser(e.who)}` : n.span.operationName;
  }
  if (n.tags.nestLevel === 'group') return shortUser(String(n.tags.actor ?? n.span.operationName));
  const { namespace, name } = n.tags;
  if (name) return namespace ? `${namespace}/${name}` : String(name);
  return n.span.operationName;
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
