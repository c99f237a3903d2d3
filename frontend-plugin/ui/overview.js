// @ts-check
// The overview (/overview, and under the search form on /): for a range — by default all the
// stored data — a heatmap of writes per resource kind and namespace over time, failures marked
// (real red, routine grey), each cell a link to the objects of that kind, namespace and time; the
// diagnosis findings of the range follow (GET /api/diagnose, the Findings view's cards).
import { getJson } from './api.js';
import { html, raw, $ } from './dom.js';
import { kindOf } from './model.js';
import { fmtShort, fmtDuration } from './time.js';
import { ensureStyle, fetchReport, findingCard } from './findings.js';

const BUCKETS = 48;
const toInput = (us) => new Date(us / 1000).toISOString().slice(0, 16);
const fromInput = (v) => (v ? Date.parse(v + 'Z') * 1000 : NaN);
const iso = (us) => new Date(Math.floor(us / 1000)).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Search URL for one heatmap cell (or a whole row): kind, namespace, the cell's minutes. */
function cellUrl(row, fromUs, toUs) {
  const q = new URLSearchParams({
    resource: row.group ? `${row.resource}.${row.group}` : row.resource,
    range: 'custom',
    from: toInput(Math.floor(fromUs / 60e6) * 60e6),
    to: toInput(Math.ceil(toUs / 60e6) * 60e6 + (toUs % 60e6 === 0 ? 0 : 0)),
  });
  if (row.namespace) q.set('namespace', row.namespace);
  if (row.cluster) q.set('cluster', row.cluster);
  // a cell shorter than a minute still needs a range the search accepts
  if (q.get('from') === q.get('to')) q.set('to', toInput(Math.floor(fromUs / 60e6) * 60e6 + 60e6));
  return `/?${q}`;
}

export async function showOverview(root, params, { navigate, signal }) {
  document.title = 'Overview · kubetrail';
  root.innerHTML = html`<section class="overview-page"><h1>Overview</h1><div class="overview-slot"></div></section>`.s;
  await renderOverview($('.overview-slot', root), params, { navigate, signal, standalone: true });
}

/** Renders the overview into `el`; `standalone` = its own page (with the range form and errors shown). */
export async function renderOverview(el, params, { navigate, signal, standalone = false }) {
  ensureStyle();
  const q = new URLSearchParams({ buckets: String(BUCKETS) });
  const start = fromInput(params.get('from') ?? ''),
    end = fromInput(params.get('to') ?? '');
  if (!Number.isNaN(start)) q.set('start', String(start));
  if (!Number.isNaN(end)) q.set('end', String(end));
  if (params.get('cluster')) q.set('cluster', params.get('cluster'));
  el.innerHTML = html`<div class="loading" role="status"><span class="spinner" aria-hidden="true"></span> Loading the overview…</div>`.s;
  let a;
  try {
    a = await getJson(`/api/ui/activity?${q}`, { signal });
  } catch (e) {
    if (e.name === 'AbortError') return;
    el.innerHTML = standalone ? html`<div class="state state-error" role="alert"><strong>The overview is not available.</strong> ${e.message}</div>`.s : '';
    return;
  }
  const max = Math.max(1, ...a.rows.flatMap((r) => r.writes.map((w, i) => w + r.events[i])));
  const level = (n) => (n === 0 ? 0 : 1 + Math.min(4, Math.floor((Math.log(n) / Math.log(max + 1)) * 5)));
  const bucketStart = (i) => a.startUs + i * a.bucketUs;
  const t = a.totals;
  el.innerHTML = html`<div class="overview">
    <form class="overview-form" role="search">
      <label>From (UTC) <input type="datetime-local" name="from" value="${toInput(a.startUs)}"></label>
      <label>To (UTC) <input type="datetime-local" name="to" value="${toInput(a.endUs)}"></label>
      <button class="btn btn-small" type="submit">Show</button>
      <a class="btn btn-small" href="/overview" data-nav>All data</a>
    </form>
    <p class="overview-summary"><strong>${t.objects}</strong> objects, <strong>${t.writes}</strong> writes, ${t.events} Kubernetes Events,
      ${t.failures ? html`<span class="txt-error" data-stat="failed"><strong>${t.failures}</strong> failed</span>` : html`<span data-stat="failed">0 failed</span>`},
      <span class="txt-expected" data-stat="expected">${t.expected} expected failures</span> · ${fmtShort(a.startUs)} – ${fmtShort(a.endUs)} UTC (${fmtDuration(a.endUs - a.startUs)}, ${fmtDuration(a.bucketUs)} a column)</p>
    ${
      a.rows.length
        ? html`<div class="heatmap" role="table" aria-label="Writes per kind and namespace over time" style="--cols:${a.buckets}">
      <div class="hm-row hm-head" role="row"><span class="hm-label" role="columnheader">Kind · namespace</span><span class="hm-cells" role="columnheader"><span>${fmtShort(a.startUs).slice(11)}</span><span>${fmtShort(a.endUs).slice(11)}</span></span><span class="hm-num" role="columnheader">writes</span></div>
      ${a.rows.map(
        (r) => html`<div class="hm-row" role="row" data-kind="${r.resource}" data-namespace="${r.namespace}">
        <a class="hm-label" role="rowheader" href="${cellUrl(r, a.startUs, a.endUs)}" data-nav title="${r.objects} objects">${kindOf(r.resource)}${r.namespace ? html` <span class="muted">${r.namespace}</span>` : ''} <span class="muted">(${r.objects})</span></a>
        <span class="hm-cells">${r.writes.map((w, i) => {
          const n = w + r.events[i];
          if (!n && !r.failures[i] && !r.expected[i]) return raw('<span class="hm-cell"></span>');
          const fail = r.failures[i] ? ' hm-fail' : r.expected[i] ? ' hm-expected' : '';
          const title = `${fmtShort(bucketStart(i))} UTC: ${w} writes, ${r.events[i]} Events${r.warnings[i] ? ` (${r.warnings[i]} Warning)` : ''}, ${r.failures[i]} failed, ${r.expected[i]} expected failures`;
          return html`<a class="hm-cell hm-l${level(n)}${fail}" href="${cellUrl(r, bucketStart(i), bucketStart(i + 1))}" data-nav title="${title}" aria-label="${title}"></a>`;
        })}</span>
        <span class="hm-num">${r.writes.reduce((x, y) => x + y, 0)}</span></div>`,
      )}
    </div>`
        : html`<div class="state state-empty"><strong>No activity recorded</strong> in this range.</div>`
    }
    <section class="overview-findings"><h2>Findings</h2><div class="findings-list"><div class="loading"><span class="spinner" aria-hidden="true"></span> Diagnosing…</div></div></section>
  </div>`.s;
  $('.overview-form', el).addEventListener('submit', (e) => {
    e.preventDefault();
    const f = e.target;
    navigate(`/overview?${new URLSearchParams({ from: f.from.value, to: f.to.value })}`);
  });
  const list = $('.findings-list', el);
  try {
    const dq = new URLSearchParams({ start: iso(a.startUs), end: iso(a.endUs) });
    if (params.get('cluster')) dq.set('cluster', params.get('cluster'));
    const report = await fetchReport(`/api/diagnose?${dq}`, signal);
    const n = (s) => report.findings.filter((f) => f.severity === s).length;
    list.innerHTML = html`<p class="findings-summary"><strong>${n('error')}</strong> error, <strong>${n('warning')}</strong> warning, ${n('info')} info</p>
      ${report.findings.length ? report.findings.map(findingCard) : html`<p class="muted">No findings in this range.</p>`}`.s;
  } catch (e) {
    if (e.name === 'AbortError') return;
    list.innerHTML = html`<p class="muted">Findings are not available: ${e.message}</p>`.s;
  }
}
