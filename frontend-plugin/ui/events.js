// The details panel of one row: the object, links to related objects, and its event list with
// diffs rendered as changes (verbose lines folded) and snapshots as YAML on demand.
import { html, raw } from './dom.js';
import { objectOf, shortUser } from './model.js';
import { snapshotToYaml } from './yaml.js';
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

function diffList(text, cls) {
  const lines = text.split('\n').map(parseDiffLine).filter(Boolean);
  if (!lines.length) return '';
  return html`<ul class="diff ${cls}">${lines.map((d) => {
    if (d.op === 'text') return html`<li class="diff-text">${d.text}</li>`;
    const label = d.op === 'add' ? 'added' : d.op === 'remove' ? 'removed' : 'changed';
    return html`<li class="diff-${d.op}" title="${label}: ${d.text}"><span class="diff-path">${d.path}</span><span class="diff-colon">:</span> ${
      d.op === 'add' ? html`<ins class="diff-new">${d.new}</ins>`
      : d.op === 'remove' ? html`<del class="diff-old">${d.old}</del> <span class="diff-arrow" aria-label="removed">→ ∅</span>`
      : html`<del class="diff-old">${d.old}</del> <span class="diff-arrow" aria-label="changed to">→</span> <ins class="diff-new">${d.new}</ins>`
    }</li>`;
  })}</ul>`;
}

function codeBadge(ev) {
  if (ev.code === undefined || Number.isNaN(ev.code)) return '';
  const cls = ev.code >= 400 ? 'bad' : ev.code >= 300 ? 'warn' : 'ok';
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
    ${ev.error ? html`<p class="ev-error" role="note">${ev.error}</p>` : ''}
    ${ev.message ? html`<p class="ev-message">${ev.message}</p>` : ''}
    ${ev.noop ? html`<p class="muted">No change (no-op update)</p>` : ''}
    ${ev.diff ? diffList(ev.diff, 'main') : ''}
    ${ev.diffVerbose || ev.snapshot ? html`<div class="ev-tools">
      ${ev.diffVerbose ? html`<button type="button" class="link-btn" data-toggle="verbose" aria-expanded="false">resourceVersion / generation (${ev.diffVerbose.split('\n').filter(Boolean).length})</button>` : ''}
      ${ev.snapshot ? html`<button type="button" class="link-btn" data-toggle="snapshot" aria-expanded="false">${ev.verb === 'delete' ? 'Object before delete (YAML)' : 'Object as created (YAML)'}</button>` : ''}
    </div>` : ''}
    ${ev.diffVerbose ? html`<div class="fold" data-fold="verbose" hidden>${diffList(ev.diffVerbose, 'verbose')}</div>` : ''}
    ${ev.snapshot ? html`<div class="fold" data-fold="snapshot" hidden><pre class="yaml" tabindex="0"></pre></div>` : ''}
  </li>`;
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
  return html`<details class="related"${raw(rel.length <= 6 ? " open" : "")}><summary>Related objects (${rel.length})</summary><ul>${shown.map(({ n, why }) => html`<li>
    <span class="rel-icon" aria-hidden="true">${n.relation.icon}</span>
    <a href="${redirectUrl(objectOf(n), n.firstTs)}">${n.kind} ${n.label}</a> <span class="muted">${why}</span></li>`)}
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
      ${node.span.warnings?.length ? html`<p class="span-warn" role="note">${node.span.warnings.join(' · ')}</p>` : ''}
      ${o ? html`<p><a class="btn btn-small" href="${redirectUrl(o, node.firstTs)}">Open this object's own trace</a></p>` : ''}
      ${relatedLinks(node)}
    </header>
    <h3 class="events-title">${node.events.length} event${node.events.length === 1 ? '' : 's'}${node.errors ? html` · <span class="txt-error">${node.errors} failed</span>` : ''}${node.warnings ? html` · <span class="txt-warning">${node.warnings} warning${node.warnings === 1 ? '' : 's'}</span>` : ''}</h3>
    ${node.events.length
      ? html`<ol class="events">${node.events.slice(0, FIRST_EVENTS).map((ev, i) => eventItem(ev, i, t0))}</ol>${
        node.events.length > FIRST_EVENTS ? html`<p><button type="button" class="btn btn-small" data-more>Show all ${node.events.length} events</button></p>` : ''}`
      : html`<p class="muted empty-events">No events recorded for this object in the time range.</p>`}`.s;
  el.querySelector('[data-more]')?.addEventListener('click', (e) => {
    const list = el.querySelector('.events');
    list.insertAdjacentHTML('beforeend', node.events.slice(FIRST_EVENTS).map((ev, i) => eventItem(ev, i + FIRST_EVENTS, t0).s).join(''));
    e.currentTarget.parentElement.remove();
  });
  el.onclick = (e) => {
    const btn = e.target.closest('button[data-toggle]');
    if (!btn) return;
    const li = btn.closest('.ev');
    const fold = li.querySelector(`[data-fold="${btn.dataset.toggle}"]`);
    const open = fold.hidden;
    fold.hidden = !open;
    btn.setAttribute('aria-expanded', String(open));
    if (open && btn.dataset.toggle === 'snapshot') {
      const pre = fold.querySelector('pre');
      if (!pre.textContent) pre.textContent = snapshotToYaml(node.events[Number(li.dataset.ev)].snapshot);
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
