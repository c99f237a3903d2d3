// @ts-check
// Side by side (/compare?a=<trace id>&b=<trace id>): two objects or two runs (the same Deployment
// in two replayed test runs, two pods) on one time axis that starts at each looked-up object's
// first event, so what the controllers did, and how long each step took, line up.
import { api } from './api.js';
import { html, $ } from './dom.js';
import { linkTree, shortUser } from './model.js';
import { loadRecent } from './recent.js';
import { fmtDuration, fmtShort, fmtOffset } from './time.js';

/** A trace ID from what people paste: the ID itself or a /trace/<id> URL. */
export function traceIdOf(text) {
  const m = /(?:^|\/trace\/)(ff[0-9a-f]{30}|[0-9a-f]{32})(?:[/?#]|$)/i.exec(String(text ?? '').trim());
  return m ? m[1].toLowerCase() : '';
}

/** Where a side starts: the looked-up object's first event (its relatives' history before it is cut). */
const startOf = (tree) => (tree.roots[0]?.events.length ? tree.roots[0].firstTs : tree.firstEvent);

function side(tree, id, span, store = '') {
  const top = tree.roots[0];
  const t0 = startOf(tree);
  const pct = (ts) => (((ts - t0) / span) * 100).toFixed(3);
  const rows = tree.flat.filter((n) => !n.isEvent && n.tags.nestLevel !== 'group').slice(0, 400);
  // run B's trace has no page of its own on this server (it is another store)
  const title = html`<span class="kind-chip">${top?.kind || 'Trace'}</span> ${top?.label ?? id}`;
  return html`<section class="cmp-side" data-trace="${id}">
    <h2>${store ? html`<span class="cmp-run">run ${store.toUpperCase()}</span> ` : ''}${store === 'b' ? title : html`<a href="/trace/${id}" data-nav>${title}</a>`}</h2>
    <p class="muted cmp-stats">${fmtShort(t0)} UTC · ${tree.eventCount} events · from its first event to the last <strong data-stat="duration">${fmtDuration(Math.max(0, tree.lastEvent - t0))}</strong>${tree.errorCount ? html` · <span class="txt-error">${tree.errorCount} failed</span>` : ''}${tree.expectedCount ? html` · <span class="txt-expected">${tree.expectedCount} expected failures</span>` : ''}</p>
    <div class="cmp-rows">${rows.map(
      (n) => html`<div class="cmp-row" style="--d:${n.depth}">
      <span class="cmp-label" title="${n.kind} ${n.label}"><span class="kind">${n.kind}</span> ${n.label}</span>
      <span class="cmp-track">${n.events.filter((e) => e.ts >= t0).map((e) => html`<span class="mark m-${e.kind} lvl-${e.level}" style="left:${pct(e.ts)}%" title="+${fmtOffset(e.ts - t0)} ${e.what} by ${shortUser(e.who)}"></span>`)}</span></div>`,
    )}</div>
    <ol class="cmp-steps">${firstSteps(tree, t0).map((s) => html`<li><span class="ev-offset">${fmtOffset(s.ts - t0)}</span> ${s.what} <span class="muted">${s.obj} · ${shortUser(s.who)}</span></li>`)}</ol>
  </section>`;
}

/** The writes of the trace from `t0` in time order (the first 40): the steps to compare. */
function firstSteps(tree, t0) {
  const out = [];
  for (const n of tree.flat) {
    if (n.isEvent || n.tags.nestLevel === 'group') continue;
    for (const e of n.events) if (!e.isK8sEvent && e.ts >= t0) out.push({ ts: e.ts, what: e.what, who: e.who, obj: `${n.kind} ${n.label}` });
  }
  return out.sort((a, b) => a.ts - b.ts).slice(0, 40);
}

export async function showCompare(root, params, { navigate, signal }) {
  document.title = 'Compare · kubetrail';
  const a = traceIdOf(params.get('a')),
    b = traceIdOf(params.get('b'));
  // bstore=b: the second trace is run B's (`kubetrail compare --ui` serves two stores)
  const bstore = params.get('bstore') === 'b' ? 'b' : '';
  const recent = loadRecent();
  root.innerHTML = html`<section class="compare">
    <h1>Side by side</h1>
    <form class="cmp-form">
      <label>First <input name="a" value="${params.get('a') ?? ''}" placeholder="trace ID or /trace/… link" list="cmp-recent" size="40"></label>
      <label>Second <input name="b" value="${params.get('b') ?? ''}" placeholder="trace ID or /trace/… link" list="cmp-recent" size="40"></label>
      <datalist id="cmp-recent">${recent.map((r) => html`<option value="${r.id}">${r.label}</option>`)}</datalist>
      <button class="btn btn-primary" type="submit">Compare</button>
    </form>
    <p class="muted">Both start at the first event of the object looked up; the axis is as long as the longer one.</p>
    <div class="cmp-out"></div></section>`.s;
  $('.cmp-form', root).addEventListener('submit', (e) => {
    e.preventDefault();
    const q = { a: traceIdOf(e.target.a.value) || e.target.a.value, b: traceIdOf(e.target.b.value) || e.target.b.value, ...(bstore ? { bstore } : {}) };
    navigate(`/compare?${new URLSearchParams(q)}`);
  });
  const out = $('.cmp-out', root);
  if (!a || !b) {
    if (params.get('a') || params.get('b')) out.innerHTML = html`<div class="state state-error" role="alert">Give two trace IDs (or links to traces).</div>`.s;
    return;
  }
  out.innerHTML = html`<div class="loading" role="status"><span class="spinner" aria-hidden="true"></span> Loading both traces…</div>`.s;
  let A, B;
  try {
    [A, B] = (await Promise.all([api.tree(a, { signal }), api.tree(b, { signal }, bstore)])).map(linkTree);
  } catch (e) {
    if (e.name === 'AbortError') return;
    out.innerHTML = html`<div class="state state-error" role="alert"><strong>Could not load both traces.</strong> ${e.message}</div>`.s;
    return;
  }
  const span = Math.max(1e6, A.lastEvent - startOf(A), B.lastEvent - startOf(B)) * 1.02;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => html`<span class="tick" style="left:${(f * 100) / 1.02}%">+${fmtDuration(f * (span / 1.02))}</span>`);
  out.innerHTML = html`<div class="cmp-axis"><span class="cmp-label"></span><span class="cmp-track axis">${ticks}</span></div>
    <div class="cmp-grid">${side(A, a, span, bstore && 'a')}${side(B, b, span, bstore)}</div>`.s;
}
