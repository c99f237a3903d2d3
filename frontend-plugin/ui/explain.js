// @ts-check
// "Explain" on a trace page: why the trace's root object is in its state at the end of the trace
// (GET /api/explain, the same as `kubetrail explain`): its state, what it waits for, the findings
// touching it with their causes, the last change of each field that matters. Fetched on first open.
import { html } from './dom.js';
import { ensureStyle, fetchReport, findingCard } from './findings.js';

const when = (t) => (t ? html` <time datetime="${t}">${t.replace('T', ' ').replace('Z', '')}</time>` : '');

function waitItem(w) {
  return html`<li class="explain-wait"><a href="${w.redirect}">${w.summary}</a>${when(w.time)}${w.message ? html`<pre>${w.message}</pre>` : ''}</li>`;
}

function fieldRow(c) {
  return html`<tr><td><a href="${c.redirect}">${when(c.time)}</a></td><td class="mono">${c.path}</td><td class="mono">${c.old} → ${c.new}</td>
    <td><strong>${c.actor}</strong> ${c.verb}${c.subresource ? ' ' + c.subresource : ''}</td></tr>`;
}

/** The explanation as HTML (cards of findings reuse the Findings view's). */
export function explanationHtml(ex) {
  return html`<p class="explain-summary"><strong>${ex.summary}</strong> <span class="muted">at ${ex.at}</span></p>
    ${ex.created ? html`<p class="meta">created by <strong>${ex.created.actor}</strong>${when(ex.created.time)}</p>` : ''}
    ${ex.waitingFor.length ? html`<h4>Waiting for</h4><ul>${ex.waitingFor.map(waitItem)}</ul>` : ''}
    ${ex.findings.length ? html`<h4>Findings</h4>${ex.findings.map((f) => findingCard({ objects: [], evidence: [], ...f }))}` : ''}
    ${ex.fields.length ? html`<h4>Last changes</h4><table class="explain-fields">${ex.fields.map(fieldRow)}</table>` : ''}`;
}

/** Adds the "Explain" toggle beside the trace's findings; the explanation is fetched when opened. */
export function showTraceExplain(container, tree) {
  const top = tree.roots[0];
  if (!container || !top?.tags?.resource || !top.tags.name) return;
  ensureStyle();
  const t = top.tags;
  const q = new URLSearchParams({
    group: t.group ?? '',
    resource: t.resource,
    namespace: t.namespace ?? '',
    name: t.name,
    at: new Date(Math.floor(tree.end / 1000)).toISOString(),
  });
  if (t.cluster) q.set('cluster', t.cluster);
  const box = document.createElement('details');
  box.className = 'obj-explain findings';
  box.innerHTML =
    html`<summary title="why this object is in its state at the end of the trace (kubetrail explain)">Explain</summary><div class="obj-findings-panel">Loading…</div>`.s;
  const panel = box.querySelector('.obj-findings-panel');
  let asked = false;
  box.addEventListener('toggle', async () => {
    if (!box.open || asked) return;
    asked = true;
    try {
      panel.innerHTML = explanationHtml(await fetchReport(`/api/explain?${q}`)).s;
    } catch (e) {
      panel.textContent = `Could not explain: ${e.message}`;
    }
  });
  const stats = container.querySelector('.trace-head .stats');
  if (stats) stats.append(' ', box);
  else container.prepend(box);
}
