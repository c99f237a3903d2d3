// @ts-check
// The details panel of one row: the object, links to related objects, and its event list with
// diffs rendered as changes (verbose lines folded) and snapshots as YAML on demand.
import { html, raw } from './dom.js';
import { objectOf, shortUser, replacementOf, replacedBy } from './model.js';
import { snapshotToYaml, toYaml } from './yaml.js';
import { objectStates, hasState } from './state.js';
import { fmtTime, fmtOffset, fmtDateTime } from './time.js';

const NONE = new Set(['<none>', '<nil>', 'null', 'undefined', '""', '']);

/** `spec.replicas 2 -> 4` → {path, old, new, op}; op: change | add | remove | text. */
export function parseDiffLine(line) {
  const t = line.trim();
  if (!t) return null;
  const arrow = t.indexOf(' -> ');
  if (arrow < 0) {
    if (/^[+-]\s/.test(t)) return { path: '', old: '', new: t.slice(2), op: t[0] === '+' ? 'add' : 'remove', text: t };
    return { path: '', old: '', new: '', op: 'text', text: t };
  }
  const left = t.slice(0, arrow);
  const right = t.slice(arrow + 4);
  const sp = left.indexOf(' ');
  const path = sp < 0 ? left : left.slice(0, sp);
  const old = sp < 0 ? '' : left.slice(sp + 1);
  const op = NONE.has(old) ? 'add' : NONE.has(right) ? 'remove' : 'change';
  return { path, old, new: right, op, text: t };
}

const isPlainObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Leaves of a JSON value: [[relative path, scalar or scalar array]], objects walked, named list items by name. */
function leaves(v, prefix, out) {
  if (isPlainObj(v)) {
    const keys = Object.keys(v);
    if (!keys.length) out.push([prefix, v]);
    for (const k of keys) leaves(v[k], prefix + (/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`), out);
  } else if (Array.isArray(v) && v.some((x) => isPlainObj(x))) {
    v.forEach((x, i) => {
      const id = isPlainObj(x) ? ['name', 'type', 'key', 'containerPort'].find((k) => typeof x[k] === 'string' || typeof x[k] === 'number') : undefined;
      const at = `${prefix}[${id ? `${id}=${x[id]}` : i}]`;
      // the item's name is in its path already: its own leaf says nothing new
      if (id)
        for (const [k, v] of Object.entries(x)) {
          if (k !== id) leaves(v, at + (/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`), out);
        }
      else leaves(x, at, out);
    });
  } else out.push([prefix, v]);
  return out;
}

/**
 * `diff.entries` → one line per changed field: an added or removed item or condition, or a whole
 * object on either side, is broken into its fields (`status.conditions[type=Ready].status`), so no
 * line holds a JSON blob. Returns [{path, old, new, op}] with values as display text.
 */
export function expandEntries(entries) {
  const out = [];
  const show = (v) => (v === undefined ? '' : typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v));
  for (const e of entries) {
    const hasOld = Object.hasOwn(e, 'old'),
      hasNew = Object.hasOwn(e, 'new');
    if (
      (hasOld && isPlainObj(e.old)) ||
      (hasNew && isPlainObj(e.new)) ||
      (Array.isArray(e.old) && e.old.some(isPlainObj)) ||
      (Array.isArray(e.new) && e.new.some(isPlainObj))
    ) {
      const a = new Map(hasOld ? leaves(e.old, '', []) : []);
      const b = new Map(hasNew ? leaves(e.new, '', []) : []);
      // `conditions[type=Ready]` already names the item: its `.type` leaf says nothing new
      const id = /\[([A-Za-z]+)=[^\]]*\]$/.exec(e.path)?.[1];
      for (const k of new Set([...a.keys(), ...b.keys()])) {
        if (id && k === `.${id}`) continue;
        const o = a.get(k),
          n = b.get(k);
        if (a.has(k) && b.has(k) && JSON.stringify(o) === JSON.stringify(n)) continue;
        out.push({ path: e.path + k, old: a.has(k) ? show(o) : '', new: b.has(k) ? show(n) : '', op: !a.has(k) ? 'add' : !b.has(k) ? 'remove' : 'change' });
      }
      continue;
    }
    out.push({ path: e.path, old: hasOld ? show(e.old) : '', new: hasNew ? show(e.new) : '', op: !hasOld ? 'add' : !hasNew ? 'remove' : 'change' });
  }
  return out;
}

const LONG = 120;
/** A value; a long one shows its start and folds the rest behind a toggle. */
function val(text, cls, Tag) {
  if (text.length <= LONG) return Tag === 'del' ? html`<del class="${cls}">${text}</del>` : html`<ins class="${cls}">${text}</ins>`;
  const short = `${text.slice(0, 80)}…`;
  return html`<details class="long-val"><summary>${Tag === 'del' ? html`<del class="${cls}">${short}</del>` : html`<ins class="${cls}">${short}</ins>`} <span class="muted">(${text.length} chars)</span></summary><code class="${cls}">${text}</code></details>`;
}

function diffItems(lines, cls) {
  if (!lines.length) return '';
  return html`<ul class="diff ${cls}">${lines.map((d) => {
    if (d.op === 'text') return html`<li class="diff-text">${d.text}</li>`;
    const label = d.op === 'add' ? 'added' : d.op === 'remove' ? 'removed' : 'changed';
    return html`<li class="diff-${d.op}" title="${label}: ${d.path}"><span class="diff-path">${d.path}</span><span class="diff-colon">:</span> ${
      d.op === 'add'
        ? val(d.new, 'diff-new', 'ins')
        : d.op === 'remove'
          ? html`${val(d.old, 'diff-old', 'del')} <span class="diff-arrow" aria-label="removed">→ ∅</span>`
          : html`${val(d.old, 'diff-old', 'del')} <span class="diff-arrow" aria-label="changed to">→</span> ${val(d.new, 'diff-new', 'ins')}`
    }</li>`;
  })}</ul>`;
}

/** An event's diff: from `diff.entries` when the write path stored them, else the text lines. */
function eventDiff(ev) {
  if (ev.entries?.length) {
    const lines = expandEntries(ev.entries);
    // the text's last line says how many more a truncated diff had
    const more = ev.diff
      .split('\n')
      .filter((l) => /^\.\.\. \d+ more/.test(l.trim()))
      .map((t) => ({ op: 'text', text: t.trim() }));
    return diffItems([...lines, ...more], 'main');
  }
  return ev.diff ? diffList(ev.diff, 'main') : '';
}

function diffList(text, cls) {
  return diffItems(text.split('\n').map(parseDiffLine).filter(Boolean), cls);
}

function codeBadge(ev) {
  if (ev.code === undefined || Number.isNaN(ev.code)) return '';
  const cls = ev.expected ? 'expected' : ev.code >= 400 ? 'bad' : ev.code >= 300 ? 'warn' : 'ok';
  return html`<span class="code code-${cls}" title="HTTP status">${ev.code}</span>`;
}

function eventItem(ev, i, t0) {
  const who = ev.isK8sEvent ? ev.component || 'Kubernetes Event' : ev.user;
  const levelLabel = ev.level === 'error' ? 'error' : ev.level === 'warning' ? 'warning' : '';
  return html`<li class="ev ev-${ev.kind} lvl-${ev.level}" id="ev-${i}" data-ev="${i}">
    <div class="ev-head">
      <time datetime="${new Date(ev.ts / 1000).toISOString()}" title="${fmtDateTime(ev.ts)}">${fmtTime(ev.ts)}</time>
      <span class="ev-offset">${fmtOffset(ev.ts - t0)}</span>
      <span class="ev-what ${ev.isK8sEvent ? 'is-event' : ''}">${ev.isK8sEvent ? html`<span class="tag-event">Event</span> ` : ''}${ev.what}</span>
      ${codeBadge(ev)}
      ${levelLabel ? html`<span class="sr-only">${levelLabel}</span>` : ''}
    </div>
    <div class="ev-who" title="${[who, ev.userAgent && 'user agent: ' + ev.userAgent, ev.sourceIP && 'from ' + ev.sourceIP, ev.impersonatedBy && 'impersonated by ' + ev.impersonatedBy].filter(Boolean).join('\n')}">
      by <strong>${shortUser(who)}</strong>${ev.impersonatedBy ? html` <span class="muted">(as ${ev.impersonatedBy})</span>` : ''}${ev.userAgent ? html` <span class="muted ua">· ${ev.userAgent.split(' ')[0]}</span>` : ''}
    </div>
    ${
      ev.error && ev.expected
        ? html`<p class="ev-expected" role="note" title="a routine failure the controllers recover from, not an error"><span class="tag-expected">expected${ev.failureReason ? `: ${ev.failureReason}` : ''}</span> ${ev.error}</p>`
        : ev.error
          ? html`<p class="ev-error" role="note">${ev.error}</p>`
          : ''
    }
    ${ev.message ? html`<p class="ev-message">${ev.message}</p>` : ''}
    ${ev.noop ? html`<p class="muted">No change (no-op update)</p>` : ''}
    ${eventDiff(ev)}
    ${
      ev.diffVerbose || ev.snapshot
        ? html`<div class="ev-tools">
      ${ev.diffVerbose ? html`<button type="button" class="link-btn" data-toggle="verbose" aria-expanded="false">resourceVersion / generation (${ev.diffVerbose.split('\n').filter(Boolean).length})</button>` : ''}
      ${ev.snapshot ? html`<button type="button" class="link-btn" data-toggle="snapshot" aria-expanded="false">${ev.verb === 'delete' ? 'Object before delete (YAML)' : 'Object as created (YAML)'}</button>` : ''}
    </div>`
        : ''
    }
    ${ev.diffVerbose ? html`<div class="fold" data-fold="verbose" hidden>${diffList(ev.diffVerbose, 'verbose')}</div>` : ''}
    ${ev.snapshot ? html`<div class="fold" data-fold="snapshot" hidden><pre class="yaml" tabindex="0"></pre></div>` : ''}
  </li>`;
}

/** The span's warnings, without the expected failures (each is shown, grey, on its event). */
function spanWarnings(node) {
  return (node.span.warnings ?? []).filter((w) => !String(w).startsWith('expected failure ('));
}

/** "Object after event …" (YAML) and "compare event A with B", for objects with a snapshot. */
function stateTools(node) {
  if (node.isEvent || node.synthetic || !hasState(node.events)) return '';
  const opts = (sel) =>
    node.events.map(
      (e, i) => html`<option value="${i}"${raw(i === sel ? ' selected' : '')}>${fmtTime(e.ts)} ${e.what}${e.isK8sEvent ? ' (Event)' : ''}</option>`,
    );
  const last = node.events.length - 1;
  return html`<details class="state-box"><summary>Object state at any event</summary>
    <div class="state-tools">
      <label>After <select data-state-at>${opts(last)}</select></label> <button type="button" class="btn btn-small" data-state="yaml">Show YAML</button>
      <span class="state-sep">or compare</span>
      <label><span class="sr-only">from</span><select data-cmp-a>${opts(0)}</select></label> <span>→</span>
      <label><span class="sr-only">to</span><select data-cmp-b>${opts(last)}</select></label> <button type="button" class="btn btn-small" data-state="diff">Compare</button>
    </div>
    <div class="state-out" aria-live="polite"></div></details>`;
}

async function showState(el, node, action) {
  const out = el.querySelector('.state-out');
  node._states ??= objectStates(node.events);
  const { states, gaps } = node._states;
  const gapNote = (from, to) =>
    gaps.slice(from, to + 1).some(Boolean)
      ? html`<p class="muted">Some events between have no field-level diff (older data): the state may miss their changes.</p>`
      : '';
  if (action === 'yaml') {
    const i = Number(el.querySelector('[data-state-at]').value);
    const st = states[i];
    const text = st === undefined ? '' : await toYaml(st);
    out.innerHTML =
      st === undefined
        ? html`<p class="muted">No snapshot of the object before this event.</p>`.s
        : html`<p class="muted">The object after ${fmtTime(node.events[i].ts)} ${node.events[i].what}, rebuilt from its first snapshot and the diffs.</p>${gapNote(0, i)}<pre class="yaml state-yaml" tabindex="0">${text}</pre>`
            .s;
    return;
  }
  let a = Number(el.querySelector('[data-cmp-a]').value),
    b = Number(el.querySelector('[data-cmp-b]').value);
  if (a > b) [a, b] = [b, a];
  const lines = expandEntries([
    { path: '', ...(states[a] !== undefined ? { old: states[a] } : {}), ...(states[b] !== undefined ? { new: states[b] } : {}) },
  ]).map((d) => ({ ...d, path: d.path.replace(/^\./, '') }));
  out.innerHTML =
    html`<p class="muted">Changes from ${fmtTime(node.events[a].ts)} ${node.events[a].what} to ${fmtTime(node.events[b].ts)} ${node.events[b].what}: ${lines.length} field${lines.length === 1 ? '' : 's'}.</p>${gapNote(a + 1, b)}${lines.length ? diffItems(lines, 'state-diff') : ''}`.s;
}

/** A pod's place in the story: its node, the pod that replaced it, the pod it replaced. */
function storyLinks(node) {
  if (node.tags.resource !== 'pods' || node.isEvent) return '';
  const nodeName = node.nodeName ?? ''; // from its events (the server's tree, frontend-plugin/ui-tree/rows.ts)
  const next = replacementOf(node);
  const prev = replacedBy(node);
  const o = objectOf(node);
  const items = [];
  if (nodeName && o)
    items.push(
      html`<li>Ran on <a href="${redirectUrl({ cluster: o.cluster, group: '', resource: 'nodes', namespace: '', name: nodeName }, node.firstTs)}" class="story-node">Node ${nodeName}</a></li>`,
    );
  if (next) items.push(html`<li>Replaced by <button type="button" class="link-btn story-next" data-select="${next.index}">Pod ${next.label}</button></li>`);
  if (prev) items.push(html`<li>Replaces <button type="button" class="link-btn story-prev" data-select="${prev.index}">Pod ${prev.label}</button></li>`);
  // From a pod's own view (its siblings are not in it): the owner's owned objects hold the replacement.
  // the owner row: the pod's parent in a workload view, a related row in the pod's own view (root)
  const OWNERS = new Set(['replicasets', 'statefulsets', 'daemonsets', 'jobs', 'replicationcontrollers']);
  const ownerRow = node.parent && OWNERS.has(node.parent.tags.resource) ? node.parent : node.children.find((c) => !c.isEvent && OWNERS.has(c.tags.resource));
  const owner = ownerRow && objectOf(ownerRow);
  const deleted = node.events.some((e) => e.kind === 'delete' && e.level !== 'error');
  const alone = ownerRow && !ownerRow.children.some((c) => c !== node && !c.isEvent && c.tags.resource === 'pods');
  if (!next && deleted && alone && owner) {
    items.push(
      html`<li><a class="story-follow" href="${redirectUrl(owner, node.firstTs)}&mode=${encodeURIComponent('tracing (owned objects)')}&select=${encodeURIComponent(`${o.cluster}/${o.group}/${o.resource}/${o.namespace}/${o.name}`)}">Follow the replacement</a> <span class="muted">(everything ${owner.name} owns)</span></li>`,
    );
  }
  return items.length ? html`<ul class="story">${items}</ul>` : '';
}

export function redirectUrl(o, tsUs) {
  const p = new URLSearchParams({ cluster: o.cluster, group: o.group, resource: o.resource, namespace: o.namespace, name: o.name });
  if (tsUs) p.set('ts', new Date(Math.floor(tsUs / 1000)).toISOString().replace(/\.\d{3}Z$/, 'Z'));
  return `/redirect?${p}`;
}

function relatedLinks(node) {
  const rel = [];
  let parent = node.parent;
  while (parent && (parent.isEvent || parent.tags.nestLevel === 'group')) parent = parent.parent;
  if (parent && objectOf(parent)) rel.push({ n: parent, why: 'parent' });
  const walk = (c) => {
    if (c.isEvent || c.tags.nestLevel === 'group') return c.children.forEach(walk);
    if (objectOf(c)) rel.push({ n: c, why: c.relation.label });
  };
  node.children.forEach(walk);
  if (!rel.length) return '';
  const shown = rel.slice(0, 12);
  return html`<details class="related"${raw(rel.length <= 6 ? ' open' : '')}><summary>Related objects (${rel.length})</summary><ul>${shown.map(
    ({ n, why }) => html`<li>
    <span class="rel-icon" aria-hidden="true">${n.relation.icon}</span>
    <a href="${redirectUrl(objectOf(n), n.firstTs)}">${n.kind} ${n.label}</a> <span class="muted">${why}</span></li>`,
  )}
    ${rel.length > shown.length ? html`<li class="muted">… and ${rel.length - shown.length} more in the timeline</li>` : ''}</ul></details>`;
}

// A node's heartbeat can hold thousands of events; the rest render on request.
const FIRST_EVENTS = 300;

/** Renders the panel for `node` into `el`; wires the fold toggles. */
export function renderDetails(el, node, t0) {
  if (!node) {
    el.innerHTML = html`<div class="empty-panel"><p><strong>Select a row</strong> to see who changed the object, when, and what changed.</p>
      <p class="muted">Keyboard: ↑/↓ move, ←/→ collapse/expand, Enter opens.</p></div>`.s;
    return;
  }
  const o = objectOf(node);
  const t = node.tags;
  el.innerHTML = html`<header class="panel-head">
      <div class="panel-kind"><span class="rel-icon" title="${node.relation.label}" aria-hidden="true">${node.relation.icon}</span> ${node.kind || 'Event'}</div>
      <h2 class="panel-title" tabindex="-1">${node.label}</h2>
      <dl class="facts">
        ${t.cluster ? html`<div><dt>cluster</dt><dd>${t.cluster}</dd></div>` : ''}
        ${t.group !== undefined && t.resource ? html`<div><dt>resource</dt><dd>${t.group ? `${t.resource}.${t.group}` : t.resource}</dd></div>` : ''}
        ${node.parent ? html`<div><dt>relation</dt><dd>${node.relation.label}</dd></div>` : ''}
        ${t.uid ? html`<div><dt>uid</dt><dd class="mono">${t.uid}</dd></div>` : ''}
      </dl>
      ${spanWarnings(node).length ? html`<p class="span-warn" role="note">${spanWarnings(node).join(' · ')}</p>` : ''}
      ${o ? html`<p><a class="btn btn-small" href="${redirectUrl(o, node.firstTs)}">Open this object's own trace</a></p>` : ''}
      ${storyLinks(node)}
      ${relatedLinks(node)}
    </header>
    <h3 class="events-title">${node.events.length} event${node.events.length === 1 ? '' : 's'}${node.errors ? html` · <span class="txt-error">${node.errors} failed</span>` : ''}${node.expected ? html` · <span class="txt-expected">${node.expected} expected failure${node.expected === 1 ? '' : 's'}</span>` : ''}${node.warnings ? html` · <span class="txt-warning">${node.warnings} warning${node.warnings === 1 ? '' : 's'}</span>` : ''}</h3>
    ${stateTools(node)}
    ${
      node.events.length
        ? html`<ol class="events">${node.events.slice(0, FIRST_EVENTS).map((ev, i) => eventItem(ev, i, t0))}</ol>${
            node.events.length > FIRST_EVENTS
              ? html`<p><button type="button" class="btn btn-small" data-more>Show all ${node.events.length} events</button></p>`
              : ''
          }`
        : node.alsoOf
          ? html`<p class="muted empty-events">This object has more than one parent: its events are on its row under ${node.alsoOf.parent.kind} ${node.alsoOf.parent.label}.</p>`
          : node.synthetic
            ? html`<p class="muted empty-events">The pod above ran on this node. Its own trace (the link above) shows the node's events and every pod bound to it.</p>`
            : html`<p class="muted empty-events">No events recorded for this object in the time range.</p>`
    }`.s;
  el.querySelector('[data-more]')?.addEventListener('click', (e) => {
    const list = el.querySelector('.events');
    list.insertAdjacentHTML(
      'beforeend',
      node.events
        .slice(FIRST_EVENTS)
        .map((ev, i) => eventItem(ev, i + FIRST_EVENTS, t0).s)
        .join(''),
    );
    e.currentTarget.parentElement.remove();
  });
  el.onclick = (e) => {
    const st = e.target.closest('button[data-state]');
    if (st) return showState(el, node, st.dataset.state);
    const pick = e.target.closest('button[data-select]');
    if (pick) return el.dispatchEvent(new CustomEvent('select-row', { detail: Number(pick.dataset.select), bubbles: true }));
    const btn = e.target.closest('button[data-toggle]');
    if (!btn) return;
    const li = btn.closest('.ev');
    const fold = li.querySelector(`[data-fold="${btn.dataset.toggle}"]`);
    const open = fold.hidden;
    fold.hidden = !open;
    btn.setAttribute('aria-expanded', String(open));
    if (open && btn.dataset.toggle === 'snapshot') {
      const pre = fold.querySelector('pre');
      if (!pre.textContent) snapshotToYaml(node.events[Number(li.dataset.ev)].snapshot).then((text) => (pre.textContent = text));
    }
  };
}

/** Scrolls the panel to event i and highlights it briefly. */
export function focusEvent(el, i) {
  if (i >= FIRST_EVENTS) el.querySelector('[data-more]')?.click();
  const li = el.querySelector(`#ev-${i}`);
  if (!li) return;
  li.scrollIntoView({ block: 'nearest' });
  li.classList.remove('flash');
  void li.offsetWidth;
  li.classList.add('flash');
}

export { raw };
