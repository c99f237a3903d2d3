// @ts-check
// Compare runs (/compare-runs, served by `kubetrail compare A B --ui`): the same comparison as the
// command — the runs, the differences above the thresholds, the aligned driving actions with the
// controllers' reactions, pod startup phases — from GET /api/compare-runs. Each difference opens
// both runs' traces side by side (/compare?a=…&b=…&bstore=b: B's trace from the second store).
import { getJson } from './api.js';
import { html } from './dom.js';

const ms = (v) => (v === undefined ? '–' : v < 1000 ? `${Math.round(v)} ms` : `${(v / 1000).toFixed(1)} s`);
const made = (c) =>
  Object.entries(c ?? {})
    .map(([k, n]) => `${n} ${k}`)
    .join(', ') || '–';
const pct = (s) => (s?.count ? `${s.p50.toFixed(3)} / ${s.p90.toFixed(3)} / ${s.p99.toFixed(3)}` : '–');

function diffItem(d) {
  const ids = d.traceIds ?? {};
  const both =
    ids.a && ids.b ? html` <a class="btn" data-nav href="/compare?${new URLSearchParams({ a: ids.a, b: ids.b, bstore: 'b' })}">open both side by side</a>` : '';
  const onlyA = !both && ids.a ? html` <a data-nav href="/trace/${ids.a}">open in A</a>` : '';
  return html`<li class="cmp-diff cmp-diff-${d.kind}">${d.text}${both}${onlyA}</li>`;
}

const reactionCells = (r) =>
  r
    ? html`<td>${ms(r.reaction.firstReactionMs)}</td><td>${made(r.reaction.created)}</td><td>${ms(r.reaction.schedulingMs)}</td><td>${ms(r.reaction.runningMs)}</td><td>${r.reaction.failures}</td>`
    : html`<td colspan="5" class="muted">not in this run</td>`;

const runLine = (k, r) =>
  html`<li><strong>${k}</strong> ${r.name}${r.prefix ? ` (namespaces ${r.prefix}*)` : ''} · cluster ${r.cluster} · ${r.start} → ${r.end} · ${r.actions} actions, ${r.pods} pods, ${r.findings} findings</li>`;

export async function showCompareRuns(root, { signal }) {
  document.title = 'Compare runs · kubetrail';
  root.innerHTML = html`<div class="loading" role="status"><span class="spinner" aria-hidden="true"></span> Comparing the runs…</div>`.s;
  let c;
  try {
    c = await getJson('/api/compare-runs', { signal });
  } catch (e) {
    if (e.name === 'AbortError') return;
    root.innerHTML =
      html`<div class="state state-error" role="alert"><h1>No comparison</h1><p>${e.message}</p><p>Start it with <code>kubetrail compare A B --ui</code>.</p></div>`.s;
    return;
  }
  const phases = [
    ['scheduled', 'create → scheduled'],
    ['running', 'scheduled → running'],
    ['startup', 'create → running'],
  ];
  root.innerHTML = html`<section class="compare-runs">
    <h1>Compare runs</h1>
    <ul class="cmp-runs">${runLine('A', c.runs.a)}${runLine('B', c.runs.b)}</ul>
    <h2>${c.differences.length ? `${c.differences.length} difference(s) above the thresholds` : 'No difference above the thresholds'}</h2>
    <p class="muted">thresholds: ${c.thresholds.ms} ms and ${Math.round(c.thresholds.ratio * 100)} % of A</p>
    <ul class="cmp-diffs">${c.differences.map(diffItem)}</ul>
    <h2>Driving actions</h2>
    <table class="cmp-actions"><thead><tr><th rowspan="2">action</th><th colspan="5">A</th><th colspan="5">B</th></tr>
      <tr>${[0, 1].map(() => html`<th>first reaction</th><th>created</th><th>scheduling</th><th>to Running</th><th>failed</th>`)}</tr></thead>
      <tbody>${c.actions.map((r) => html`<tr><td>${r.action}</td>${reactionCells(r.a)}${reactionCells(r.b)}</tr>`)}</tbody></table>
    <h2>Pod startup (seconds, p50 / p90 / p99)</h2>
    <table class="cmp-pods"><thead><tr><th>pods</th><th>phase</th><th>A</th><th>B</th></tr></thead>
      <tbody>${c.podStartup.map((g) => phases.map(([k, name], i) => html`<tr><td>${i ? '' : `${g.group} (${g.a?.pods ?? 0} | ${g.b?.pods ?? 0})`}</td><td>${name}</td><td>${pct(g.a?.[k])}</td><td>${pct(g.b?.[k])}</td></tr>`))}</tbody></table>
    ${c.findingsOnlyIn.length ? html`<h2>Findings of one run only</h2><ul>${c.findingsOnlyIn.map((f) => html`<li>${f.run.toUpperCase()}: ${f.severity} [${f.detector}] ${f.title}</li>`)}</ul>` : ''}
  </section>`.s;
}
