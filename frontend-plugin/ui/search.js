// @ts-check
// The search page (/): find an object by cluster, kind, namespace, name and time range; list the
// matching objects; offer recently opened traces. The form state lives in the URL (shareable).
import { api, ApiError } from './api.js';
import { html, raw, $ } from './dom.js';
import { linkTree, objectRows, parseResourceInput, RESOURCE_SUGGESTIONS, SCOPES } from './model.js';
import { loadRecent, clearRecent } from './recent.js';
import { fmtShort, fmtDuration } from './time.js';

const RANGES = [
  { key: 'all', label: 'All data' },
  { key: 'latest', label: 'Around the latest data (2 h)' },
  { key: '1h', label: 'Last hour', us: 3600e6 },
  { key: '6h', label: 'Last 6 hours', us: 6 * 3600e6 },
  { key: '24h', label: 'Last 24 hours', us: 24 * 3600e6 },
  { key: '7d', label: 'Last 7 days', us: 7 * 24 * 3600e6 },
  { key: 'custom', label: 'Custom…' },
];

// Objects whose story is mostly in what they own: their search opens the owned-objects scope.
const WORKLOADS = new Set(['deployments', 'replicasets', 'statefulsets', 'daemonsets', 'jobs', 'cronjobs', 'replicationcontrollers']);

/** datetime-local value (UTC, as shown) ↔ µs. */
const toLocalInput = (us) => new Date(us / 1000).toISOString().slice(0, 16);
const fromLocalInput = (v) => (v ? Date.parse(v + 'Z') * 1000 : NaN);

const AROUND_LATEST_US = 2 * 3600e6;
const PAGE = 25;
const MAX_RESULTS = 200;
const NAME_MATCH = [
  { key: 'exact', label: 'is' },
  { key: 'prefix', label: 'starts with' },
  { key: 'contains', label: 'contains' },
];

/** The name tag for a match kind: `demo`, `demo*` or `*demo*` (the server reads `*` as a glob). */
export function nameTag(name, match) {
  if (!name || name.includes('*')) return name;
  return match === 'prefix' ? `${name}*` : match === 'contains' ? `*${name}*` : name;
}

/**
 * The searched range. `all` is the stored data's range and `latest` its last 2 hours (from
 * GET /api/ui/summary: a recording days old still shows); without a summary, the last 7 days.
 */
export function timeRange(p, nowUs = Date.now() * 1000, summary = null) {
  const key = p.get('range') || 'all';
  if (key === 'all' || key === 'latest') {
    if (!summary || summary.lastUs === undefined) return { start: nowUs - 7 * 24 * 3600e6, end: nowUs };
    const end = summary.lastUs;
    const start = key === 'all' ? summary.firstUs : Math.max(summary.firstUs, end - AROUND_LATEST_US);
    return { start, end };
  }
  if (key === 'custom') {
    const start = fromLocalInput(p.get('from') ?? '');
    const end = fromLocalInput(p.get('to') ?? '') || nowUs;
    if (Number.isNaN(start)) throw new Error('Custom range: choose a start time.');
    if (!(end > start)) throw new Error('Custom range: the end must be after the start.');
    return { start, end };
  }
  const r = RANGES.find((x) => x.key === key) ?? RANGES[0];
  return { start: nowUs - r.us, end: nowUs };
}

export async function showSearch(root, params, { navigate, signal }) {
  document.title = 'Search · kubetrail';
  const p = params;
  const range = p.get('range') || 'all';
  const now = Date.now() * 1000;
  root.innerHTML = html`<section class="search-view">
    <h1 class="sr-only">Find a Kubernetes object</h1>
    <form class="search-form" role="search" novalidate>
      <div class="field"><label for="f-cluster">Cluster</label>
        <select id="f-cluster" name="cluster"><option value="">All clusters</option>${p.get('cluster') ? html`<option selected>${p.get('cluster')}</option>` : ''}</select></div>
      <div class="field"><label for="f-resource">Kind / resource</label>
        <input id="f-resource" name="resource" list="resources" placeholder="deployments" value="${p.get('resource') ?? ''}" autocomplete="off" spellcheck="false">
        <datalist id="resources">${RESOURCE_SUGGESTIONS.map((r) => html`<option value="${r}">`)}</datalist></div>
      <div class="field"><label for="f-namespace">Namespace</label>
        <select id="f-namespace" name="namespace"><option value="">Any namespace</option>${p.get('namespace') ? html`<option selected>${p.get('namespace')}</option>` : ''}</select></div>
      <div class="field"><label for="f-match">Name</label>
        <select id="f-match" name="match" title="How the name matches">${NAME_MATCH.map((o) => html`<option value="${o.key}"${raw(o.key === (p.get('match') || 'exact') ? ' selected' : '')}>${o.label}</option>`)}</select></div>
      <div class="field field-wide"><label for="f-name"><span class="sr-only">Name</span>&nbsp;</label>
        <input id="f-name" name="name" placeholder="demo" value="${p.get('name') ?? ''}" autocomplete="off" spellcheck="false" aria-label="Name"></div>
      <div class="field"><label for="f-scope">Show</label>
        <select id="f-scope" name="scope" title="Auto: owned objects for workloads (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob), the object and its direct relations otherwise">${[
          { key: 'auto', label: 'Auto (by kind)' },
          ...SCOPES,
        ].map((o) => html`<option value="${o.key}"${raw(o.key === (p.get('scope') || 'auto') ? ' selected' : '')}>${o.label}</option>`)}</select></div>
      <div class="field"><label for="f-range">Time range</label>
        <select id="f-range" name="range">${RANGES.map((r) => html`<option value="${r.key}"${raw(r.key === range ? ' selected' : '')}>${r.label}</option>`)}</select></div>
      <div class="field field-custom"><label for="f-from">From (UTC)</label>
        <input id="f-from" name="from" type="datetime-local" value="${p.get('from') ?? toLocalInput(now - 3600e6)}"></div>
      <div class="field field-custom"><label for="f-to">To (UTC)</label>
        <input id="f-to" name="to" type="datetime-local" value="${p.get('to') ?? toLocalInput(now)}"></div>
      <div class="field field-submit"><button class="btn btn-primary" type="submit">Search</button></div>
    </form>
    <div class="search-msg" role="status" aria-live="polite"></div>
    <div class="search-results"></div>
    <div class="recent"></div>
    <section class="search-overview" aria-label="Overview"></section>
  </section>`.s;
  // `hidden` attributes above were written as text; apply them properly.
  root.querySelectorAll('.field-custom').forEach((el) => {
    el.hidden = range !== 'custom';
  });

  const form = $('.search-form', root);
  const msg = $('.search-msg', root);
  const results = $('.search-results', root);
  form.range.addEventListener('change', () =>
    root.querySelectorAll('.field-custom').forEach((el) => {
      el.hidden = form.range.value !== 'custom';
    }),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    for (const k of ['cluster', 'resource', 'namespace', 'name']) if (form[k].value.trim()) q.set(k, form[k].value.trim());
    if (form.match.value !== 'exact' && form.name.value.trim()) q.set('match', form.match.value);
    if (form.scope.value !== 'auto') q.set('scope', form.scope.value);
    q.set('range', form.range.value);
    if (form.range.value === 'custom') {
      q.set('from', form.from.value);
      q.set('to', form.to.value);
    }
    navigate(`/?${q}`);
  });

  renderRecent($('.recent', root), navigate, p.has('range'));
  loadClusters(form.cluster, p.get('cluster'), msg, signal);
  const summary = await loadSummary(form, p, signal);
  if (p.has('range')) await runSearch(p, { msg, results, signal, summary });
  else {
    $('#f-name', root).focus();
    // the first screen after a run: what happened where, for all the data (overview.js)
    import('./overview.js')
      .then((o) =>
        o.renderOverview($('.search-overview', root), new URLSearchParams(p.get('cluster') ? { cluster: p.get('cluster') } : {}), { navigate, signal }),
      )
      .catch(() => {});
    if (summary?.lastUs !== undefined) {
      msg.innerHTML =
        html`<p class="muted data-range">Recorded data: ${fmtShort(summary.firstEventUs ?? summary.firstUs)} – ${fmtShort(summary.lastEventUs ?? summary.lastUs)} UTC. <a href="/overview" data-nav>See the overview</a>.</p>`.s;
    }
  }
}

/** The stored data's range and namespaces; fills the namespace list. null when the server has no summary. */
async function loadSummary(form, p, signal) {
  let summary = null;
  try {
    summary = await api.summary(p.get('cluster') ?? '', { signal });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    return null;
  }
  const current = p.get('namespace') ?? '';
  const list = [...new Set([...(summary?.namespaces ?? []), ...(current ? [current] : [])])].sort();
  form.namespace.innerHTML =
    html`<option value="">Any namespace</option>${list.map((n) => html`<option${raw(n === current ? ' selected' : '')}>${n}</option>`)}`.s;
  return summary;
}

async function loadClusters(select, current, msg, signal) {
  try {
    const clusters = await api.operations('tracing', { signal });
    const list = [...new Set(clusters ?? [])].sort();
    select.innerHTML = html`<option value="">All clusters</option>${list.map((c) => html`<option${raw(c === current ? ' selected' : '')}>${c}</option>`)}`.s;
    if (current && !list.includes(current)) select.insertAdjacentHTML('beforeend', html`<option selected>${current}</option>`.s);
    if (!current && list.length === 1) select.value = list[0];
  } catch (e) {
    if (e.name === 'AbortError') return;
    if (!msg.textContent) msg.innerHTML = problem(e).s;
  }
}

function problem(e) {
  if (e instanceof ApiError && e.kind === 'network') {
    return html`<div class="state state-error" role="alert"><strong>The query server is not reachable.</strong> ${e.message}</div>`;
  }
  return html`<div class="state state-error" role="alert"><strong>The search failed.</strong> ${e.message}</div>`;
}

async function runSearch(p, { msg, results, signal, summary }) {
  let range;
  try {
    range = timeRange(p, Date.now() * 1000, summary);
  } catch (e) {
    msg.innerHTML = html`<div class="state state-error" role="alert">${e.message}</div>`.s;
    return;
  }
  const { resource, group } = parseResourceInput(p.get('resource') ?? '');
  const tags = {};
  if (group !== undefined) tags.group = group;
  if (resource) tags.resource = resource;
  if (p.get('namespace')) tags.namespace = p.get('namespace');
  if (p.get('name')) tags.name = nameTag(p.get('name'), p.get('match'));
  msg.innerHTML = html`<div class="loading"><span class="spinner" aria-hidden="true"></span> Searching…</div>`.s;
  let traces;
  try {
    const scope = SCOPES.find((o) => o.key === p.get('scope'))?.key ?? (WORKLOADS.has(resource) ? 'owned objects' : 'default');
    const service = scope !== 'default' ? `tracing (${scope})` : 'tracing';
    traces = await api.searchTrees(
      { service, operation: p.get('cluster') ?? '', tags, startUs: range.start, endUs: range.end, limit: MAX_RESULTS },
      { signal },
    );
  } catch (e) {
    if (e.name === 'AbortError') return;
    msg.innerHTML = problem(e).s;
    return;
  }
  const what =
    [
      p.get('cluster') && `cluster ${p.get('cluster')}`,
      resource && `${resource}${group ? '.' + group : ''}`,
      tags.namespace && `namespace ${tags.namespace}`,
      tags.name &&
        `name ${p.get('match') === 'prefix' ? 'starting with ' + p.get('name') : p.get('match') === 'contains' ? 'containing ' + p.get('name') : tags.name}`,
    ]
      .filter(Boolean)
      .join(', ') || 'any object';
  const when = `${fmtShort(range.start)} – ${fmtShort(range.end)} UTC`;
  if (!traces?.length) {
    msg.innerHTML = html`<div class="state state-empty"><strong>No objects found</strong> for ${what} between ${when}.
      <ul class="hints"><li>Widen the time range (objects appear only where they have recorded events).</li>
      <li>Check the cluster name and namespace; choose <em>starts with</em> or <em>contains</em> to match part of a name.</li>
      <li>Kind accepts plural resources (<code>deployments</code>), kinds (<code>Deployment</code>) or short names (<code>deploy</code>).</li></ul></div>`.s;
    return;
  }
  const rows = traces
    .map((t) => {
      const tree = linkTree(t);
      const top = tree.roots[0];
      return { id: t.traceID, top, tree };
    })
    .filter((r) => r.top)
    .sort((a, b) => b.top.lastTs - a.top.lastTs);
  const pages = Math.max(1, Math.ceil(rows.length / PAGE));
  const page = Math.min(pages, Math.max(1, Number(p.get('page')) || 1));
  const shown = rows.slice((page - 1) * PAGE, page * PAGE);
  msg.innerHTML =
    html`<p class="muted result-count">${rows.length}${traces.length >= MAX_RESULTS ? '+' : ''} object${rows.length === 1 ? '' : 's'} for ${what}, ${when}${traces.length >= MAX_RESULTS ? ` (the first ${MAX_RESULTS}; narrow the search for more)` : ''}.</p>`.s;
  const pageUrl = (n) => {
    const q = new URLSearchParams(p);
    if (n === 1) q.delete('page');
    else q.set('page', String(n));
    return `/?${q}`;
  };
  const pager =
    pages > 1
      ? html`<nav class="pager" aria-label="Result pages">${page > 1 ? html`<a href="${pageUrl(page - 1)}" data-nav rel="prev">‹ Previous</a>` : ''}
    <span class="pager-at">Page ${page} of ${pages} (${(page - 1) * PAGE + 1}–${(page - 1) * PAGE + shown.length})</span>
    ${page < pages ? html`<a href="${pageUrl(page + 1)}" data-nav rel="next">Next ›</a>` : ''}</nav>`
      : '';
  results.innerHTML = html`<table class="results">
    <thead><tr><th scope="col">Object</th><th scope="col">Cluster</th><th scope="col">First seen</th><th scope="col">Last seen</th><th scope="col" class="num">Events</th><th scope="col" class="num">Related</th></tr></thead>
    <tbody>${shown.map(
      ({ id, top, tree }) => html`<tr>
      <td><a href="/trace/${id}" data-nav class="obj-link"><span class="kind-chip">${top.kind}</span> ${top.label}</a>${top.errors ? html` <span class="badge badge-error" title="failed requests">${top.errors} ✕</span>` : ''}${top.expected ? html` <span class="badge badge-expected" title="expected failures: routine, the controllers recovered">${top.expected} expected</span>` : ''}${matchedLine(top.tags)}</td>
      <td>${top.tags.cluster ?? ''}</td>
      <td>${top.events.length ? fmtShort(top.firstTs) : '—'}</td>
      <td>${top.events.length ? fmtShort(top.lastTs) : '—'}${top.events.length > 1 ? html` <span class="muted">(${fmtDuration(top.lastTs - top.firstTs)})</span>` : ''}</td>
      <td class="num">${top.events.length}</td>
      <td class="num">${objectRows(tree).length - 1}</td></tr>`,
    )}</tbody></table>${pager}`.s;
}

/** Full tree / ancestors: the objects of one tree that matched (the server's `search.matched` tag). */
function matchedLine(tags) {
  const list = tags['search.matched'];
  if (!list) return '';
  return html`<div class="matched muted" title="${list}">matched ${tags['search.matched.count'] ?? ''}: ${list}</div>`;
}

function renderRecent(el, _navigate, compact) {
  const list = loadRecent();
  if (!list.length) {
    if (!compact)
      el.innerHTML = html`<div class="state state-intro"><h2>Explain what the controllers did</h2>
      <p>Search for an object, for example <strong>deployments</strong> named <strong>demo</strong> in namespace <strong>default</strong>.
      Its trace shows every write to it and to the objects it owns or runs on (ReplicaSets, Pods, Nodes): who made it, when, and what changed.</p></div>`.s;
    return;
  }
  el.innerHTML = html`<h2 class="recent-title">Recently opened <button type="button" class="link-btn" data-clear>clear</button></h2>
    <ul class="recent-list">${list.map(
      (r) => html`<li><a href="/trace/${r.id}" data-nav>${r.label}</a>
      ${r.cluster ? html`<span class="muted">${r.cluster}</span>` : ''} <span class="muted">opened ${fmtAgo(r.at)}</span></li>`,
    )}</ul>`.s;
  el.querySelector('[data-clear]').addEventListener('click', () => {
    clearRecent();
    el.innerHTML = '';
  });
}

function fmtAgo(ms) {
  const d = Date.now() - ms;
  if (d < 60e3) return 'just now';
  return `${fmtDuration(d * 1000).split(' ')[0]} ago`;
}
