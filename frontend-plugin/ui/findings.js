// @ts-check
// Findings (kubetrail diagnose in the UI): the /findings page for a time range, and the findings of
// one object on its trace page. Each finding links to its evidence (/redirect opens the object's
// trace at the evidence's time). Self-contained: its own styles, one GET /api/diagnose per view;
// the live view (/findings?live=1) polls GET /api/findings/live while it is open and visible.
import { html, $ } from './dom.js';

const STYLE = `
.findings { max-width: 1100px; }
.findings-form { display: flex; flex-wrap: wrap; gap: 10px; align-items: end; margin: 10px 0 16px; }
.findings-form label { display: flex; flex-direction: column; font-size: 12.5px; color: var(--muted); gap: 3px; }
.findings-form input, .findings-form select { font: inherit; padding: 5px 8px; border: 1px solid var(--border-strong); border-radius: 6px; min-width: 150px; }
.finding { background: var(--panel); border: 1px solid var(--border); border-left: 4px solid var(--border-strong); border-radius: 8px; padding: 10px 14px; margin: 0 0 10px; }
.finding.sev-error { border-left-color: var(--error); }
.finding.sev-warning { border-left-color: var(--warning-mark); }
.finding h3 { margin: 0 0 4px; font-size: 15px; }
.sev { display: inline-block; font-size: 11px; font-weight: 700; text-transform: uppercase; padding: 1px 6px; border-radius: 4px; margin-right: 6px; background: var(--hover); color: var(--muted); }
.sev-error .sev { background: var(--error-bg); color: var(--error); }
.sev-warning .sev { background: var(--warning-bg); color: var(--warning); }
.finding .meta { font-size: 12.5px; color: var(--muted); margin: 2px 0; }
.finding ol { margin: 6px 0 4px; padding-left: 18px; font-size: 12.5px; }
.finding ol li { margin: 2px 0; }
.finding pre { margin: 2px 0 0; white-space: pre-wrap; font-family: var(--mono); font-size: 12px; color: var(--muted); }
.finding .why { margin: 6px 0 2px; padding: 6px 10px; background: var(--hover); border-radius: 6px; font-size: 13px; }
.finding .why ul { margin: 4px 0 0; padding-left: 18px; font-size: 12.5px; color: var(--muted); }
.findings-summary { margin: 6px 0 12px; }
.findings-live { font-size: 12.5px; color: var(--muted); margin: 0 0 8px; }
.findings-modes { margin: 0 0 6px; font-size: 13px; }
.obj-findings, .obj-explain { display: inline-block; position: relative; }
.obj-findings > summary, .obj-explain > summary { cursor: pointer; font-weight: 600; list-style: none; }
.obj-findings > summary.has-serious { color: var(--warning); }
.obj-findings > .obj-findings-panel, .obj-explain > .obj-findings-panel { position: fixed; z-index: 30; top: 118px; left: 50%; transform: translateX(-50%); width: min(900px, 94vw); max-height: 60vh; overflow: auto;
  background: var(--bg); border: 1px solid var(--border-strong); border-radius: 8px; padding: 10px; box-shadow: 0 6px 24px rgba(0,0,0,.18); }
.explain-fields td { padding: 2px 10px 2px 0; font-size: 12.5px; vertical-align: top; }
.obj-explain h4 { margin: 10px 0 4px; }
.podstartup td, .podstartup th { padding: 2px 10px 2px 0; text-align: left; font-size: 12.5px; }
`;

export function ensureStyle() {
  if (document.getElementById('findings-style')) return;
  const s = document.createElement('style');
  s.id = 'findings-style';
  s.textContent = STYLE;
  document.head.append(s);
}

/** Adds "Findings" to the top navigation (once). */
export function addFindingsNav() {
  const nav = document.querySelector('.top-nav');
  if (!nav || nav.querySelector('a[href="/findings"]')) return;
  const a = document.createElement('a');
  a.href = '/findings';
  a.dataset.nav = '';
  a.textContent = 'Findings';
  nav.append(' ', a);
}

const kindText = (o) => `${o.resource}${o.group ? '.' + o.group : ''} ${o.namespace ? o.namespace + '/' : ''}${o.name}`;

/** /redirect link of an object at a time. */
export function redirectOf(o, time) {
  const p = new URLSearchParams({ cluster: o.cluster, group: o.group, resource: o.resource, namespace: o.namespace, name: o.name, ts: time });
  return `/redirect?${p}`;
}

function evidenceItem(e) {
  const what = `${e.verb}${e.subresource ? ' ' + e.subresource : ''}${e.code ? ` (${e.code})` : ''}`;
  return html`<li><a class="evidence-link" href="${redirectOf(e.object, e.time)}"><time datetime="${e.time}">${e.time.replace('T', ' ').replace('Z', '')}</time></a>
    <strong>${e.user || '?'}</strong> ${what} <span class="mono">${kindText(e.object)}</span>
    ${e.diff ? html`<pre>${e.diff}</pre>` : ''}${e.message ? html`<pre>${e.message}</pre>` : ''}</li>`;
}

/** Why: the cause (who did what, when, with a link to it) and the chain symptom ← reaction ← cause. */
function causeBlock(f) {
  const c = f.cause;
  const what = `${c.verb}${c.subresource ? ' ' + c.subresource : ''}`;
  return html`<div class="why"><strong>Cause:</strong> <a class="cause-link" href="${c.redirect}"><strong class="cause-actor">${c.actor}</strong> ${what} <span class="mono">${kindText(c.object)}</span></a>
    at <time datetime="${c.time}">${c.time.replace('T', ' ').replace('Z', '')}</time>: ${c.summary}${c.message ? html`<pre>${c.message}</pre>` : ''}
    ${f.chain?.length ? html`<ul class="chain">${f.chain.map((l, i) => html`<li>${i ? '← ' : ''}${l}</li>`)}</ul>` : ''}</div>`;
}

export function findingCard(f) {
  return html`<article class="finding sev-${f.severity}" data-detector="${f.detector}">
    <h3><span class="sev">${f.severity}</span>${f.title}</h3>
    <p class="meta">${f.detector} · objects: ${f.objects.slice(0, 10).map((o, i) => html`${i ? ', ' : ''}<a href="${redirectOf(o, f.evidence[0]?.time ?? '')}">${kindText(o)}</a>`)}
      ${f.actors?.length ? html` · actors: ${f.actors.join(', ')}` : ''}</p>
    ${f.cause ? causeBlock(f) : ''}
    <ol>${f.evidence.map(evidenceItem)}</ol>
    <p class="meta"><a class="open-evidence" href="${f.redirect}">Open the evidence</a></p>
  </article>`;
}

function podStartupTable(p) {
  const row = (name, s) =>
    html`<tr><th>${name}</th><td>n=${s.count}</td><td>p50 ${s.p50}s</td><td>p90 ${s.p90}s</td><td>p99 ${s.p99}s</td><td>max ${s.max}s</td></tr>`;
  return html`<section><h2>Pod startup</h2><p class="muted">${p.pods} pods created, ${p.notRunning} not Running in the range</p>
    <table class="podstartup">${row('create → scheduled', p.scheduled)}${row('scheduled → running', p.running)}${row('create → running', p.startup)}</table></section>`;
}

/** Query parameters of the form that /api/diagnose takes. */
const FORM_KEYS = ['cluster', 'namespace', 'start', 'end'];

/** The /findings page: a form (cluster, namespace, start, end) and the report. */
export { fetchReport };
export async function showFindings(root, params, { navigate, signal }) {
  ensureStyle();
  if (params.get('live')) return showLiveFindings(root, signal);
  document.title = 'Findings · kubetrail';
  const q = new URLSearchParams();
  for (const k of FORM_KEYS) if (params.get(k)) q.set(k, params.get(k));
  q.set('podStartup', 'true');
  root.innerHTML = html`<section class="findings">
    <h1>Findings</h1>
    <p class="findings-modes">Of a time range · <a href="/findings?live=1" data-nav>Live (updates itself)</a></p>
    <form class="findings-form" role="search">
      ${FORM_KEYS.map((k) => html`<label>${k}<input name="${k}" value="${params.get(k) ?? ''}" placeholder="${k === 'start' || k === 'end' ? 'RFC 3339 or 1h' : 'any'}"></label>`)}
      <button class="btn btn-primary" type="submit">Diagnose</button>
    </form>
    <div class="findings-result"><div class="loading" role="status"><span class="spinner" aria-hidden="true"></span> Diagnosing…</div></div>
  </section>`.s;
  $('.findings-form', root).addEventListener('submit', (e) => {
    e.preventDefault();
    const p = new URLSearchParams();
    for (const [k, v] of new FormData(e.target)) if (String(v).trim()) p.set(k, String(v).trim());
    navigate(`/findings${p.size ? '?' + p : ''}`);
  });
  const out = $('.findings-result', root);
  let report;
  try {
    report = await fetchReport(`/api/diagnose?${q}`, signal);
  } catch (e) {
    if (e.name === 'AbortError') return;
    out.innerHTML = html`<div class="state state-error" role="alert"><h2>Could not diagnose</h2><p>${e.message}</p></div>`.s;
    return;
  }
  renderReport(out, report);
}

/**
 * /findings?live=1: the live findings of the process that writes the spans (`serve`), over its
 * sliding window, fetched again every interval while the view is open and the tab visible. Only a
 * changed report is drawn again, and the page keeps its scroll position.
 */
async function showLiveFindings(root, signal) {
  document.title = 'Live findings · kubetrail';
  root.innerHTML = html`<section class="findings findings-live-view">
    <h1>Findings</h1>
    <p class="findings-modes"><a href="/findings" data-nav>Of a time range</a> · Live (updates itself)</p>
    <p class="findings-live" role="status" aria-live="polite"></p>
    <div class="findings-result"><div class="loading" role="status"><span class="spinner" aria-hidden="true"></span> Waiting for the live findings…</div></div>
  </section>`.s;
  const out = $('.findings-result', root);
  const status = $('.findings-live', root);
  let shown = '';
  while (!signal?.aborted) {
    let waitSec = 5;
    if (!document.hidden) {
      try {
        const r = await fetchReport('/api/findings/live', signal);
        waitSec = Math.max(2, r.live.intervalSec);
        status.textContent = liveLine(r);
        const key = JSON.stringify(r.findings);
        if (key !== shown) {
          const y = window.scrollY;
          renderReport(out, r);
          window.scrollTo(0, y);
          shown = key;
        }
      } catch (e) {
        if (e.name === 'AbortError') return;
        if (e.status === 404) {
          // this server computes none (a query-only server, or serve --live-window 0): nothing to wait for
          status.textContent = '';
          out.innerHTML = html`<div class="state" role="note"><h2>No live findings here</h2><p>${e.message}</p></div>`.s;
          return;
        }
        status.textContent = `Could not fetch the live findings: ${e.message} (trying again)`;
      }
    }
    await new Promise((resolve) => {
      const t = setTimeout(resolve, waitSec * 1000);
      signal?.addEventListener(
        'abort',
        () => {
          clearTimeout(t);
          resolve();
        },
        { once: true },
      );
    });
  }
}

function liveLine(r) {
  const l = r.live;
  const at = new Date(l.computedAt).toLocaleTimeString();
  const win = l.windowSec % 60 ? `${l.windowSec} s` : `${l.windowSec / 60} min`;
  return `Computed at ${at} over the last ${win} (${l.facts} facts, ${l.durationMs} ms); updates every ${l.intervalSec} s.${
    l.truncatedBefore ? ` The window holds only the newest ${l.maxFacts} facts: nothing before ${l.truncatedBefore} is seen.` : ''
  }${l.skippedFacts ? ` ${l.skippedFacts} facts were skipped while the server was busy: the window has gaps.` : ''}`;
}

function renderReport(out, r) {
  const n = (s) => r.findings.filter((f) => f.severity === s).length;
  const failed = r.detectors.filter((d) => d.failed);
  out.innerHTML = html`<p class="findings-summary"><strong>${n('error')}</strong> error, <strong>${n('warning')}</strong> warning, ${n('info')} info
      · ${r.start} → ${r.end}${r.cluster ? ` · cluster ${r.cluster}` : ''}</p>
    ${failed.length ? html`<div class="warn-banner" role="note">Detectors failed: ${failed.map((d) => `${d.name} (${d.error ?? ''})`).join(', ')}</div>` : ''}
    ${r.findings.length ? r.findings.map(findingCard) : html`<p class="muted">No findings in this range.</p>`}
    ${r.podStartup ? podStartupTable(r.podStartup) : ''}`.s;
}

// /api/diagnose answers the report itself (not Jaeger's {data}), so fetch it directly.
async function fetchReport(path, signal) {
  const res = await fetch(path, { headers: { accept: 'application/json' }, signal });
  const body = await res.json().catch(() => null);
  if (!res.ok || !body) throw Object.assign(new Error((body?.errors ?? []).map((e) => e.msg).join('; ') || `HTTP ${res.status}`), { status: res.status });
  return body;
}

/**
 * On a trace page: the findings about its root object (and what it owns) in the trace's time range,
 * as a "N findings" toggle in the header line whose panel floats over the page (no layout shift).
 */
export async function showTraceFindings(container, tree) {
  const top = tree.roots[0];
  if (!container || !top?.tags?.resource || !top.tags.name) return;
  ensureStyle();
  const t = top.tags;
  const iso = (us) => new Date(Math.floor(us / 1000)).toISOString();
  const q = new URLSearchParams({ selector: `${t.group ?? ''}/${t.resource}/${t.namespace ?? ''}/${t.name}`, start: iso(tree.start), end: iso(tree.end) });
  if (t.cluster) q.set('cluster', t.cluster);
  let report;
  try {
    report = await fetchReport(`/api/diagnose?${q}`);
  } catch {
    return; // findings are an addition to the trace; the trace stays usable without them
  }
  const serious = report.findings.filter((f) => f.severity !== 'info');
  if (!report.findings.length) return;
  const box = document.createElement('details');
  box.className = 'obj-findings findings';
  const n = report.findings.length;
  box.innerHTML =
    html`<summary class="${serious.length ? 'has-serious' : ''}" title="kubetrail diagnose findings about this object">${serious.length ? '⚠ ' : ''}${n} finding${n === 1 ? '' : 's'} (${serious.length} warning or error)</summary>
    <div class="obj-findings-panel">${report.findings.map(findingCard)}</div>`.s;
  const stats = container.querySelector('.trace-head .stats');
  if (stats) stats.append(box);
  else container.prepend(box);
}
