// @ts-check
// kubetrail UI entry: a tiny history-API router over two pages, search (/) and trace (/trace/<id>).
// Plain ES modules, no build step; served as static files by the query server.
import { showSearch } from './search.js';
import { showTrace } from './trace-view.js';
import { addFindingsNav, showFindings } from './findings.js';
import { applyConfig } from './model.js';
import { getJson } from './api.js';
import { html } from './dom.js';

const main = document.getElementById('main');
let current; // AbortController of the page being shown

function route() {
  current?.abort();
  current = new AbortController();
  // a page left before its data arrived ends with an AbortError: expected, not an error of the page
  Promise.resolve(showRoute({ navigate, signal: current.signal })).catch((e) => {
    if (e?.name !== 'AbortError') throw e;
  });
}

/** Shows the page of the current location. */
function showRoute(ctx) {
  const m = /^\/trace\/([^/?#]+)\/?$/.exec(location.pathname);
  const path = location.pathname.replace(/\/+$/, '') || '/';
  const findings = path === '/findings';
  const overview = path === '/overview';
  const compare = path === '/compare';
  const search = path === '/' || path === '/search';
  const here = findings ? '/findings' : overview ? '/overview' : compare ? '/compare' : search ? '/' : '';
  document.querySelectorAll('.top-nav a').forEach((a) => a.toggleAttribute('aria-current', !m && a.getAttribute('href') === here));
  if (m) return showTrace(main, decodeURIComponent(m[1]).toLowerCase(), ctx);
  if (findings) return showFindings(main, new URLSearchParams(location.search), ctx);
  if (overview) return import('./overview.js').then((o) => o.showOverview(main, new URLSearchParams(location.search), ctx));
  if (path === '/compare-runs') return import('./compare-runs.js').then((c) => c.showCompareRuns(main, ctx));
  if (compare) return import('./compare.js').then((c) => c.showCompare(main, new URLSearchParams(location.search), ctx));
  if (search) return showSearch(main, new URLSearchParams(location.search), ctx);
  document.title = 'Page not found · kubetrail';
  main.innerHTML = html`<div class="state state-error" role="alert"><h1>Page not found</h1>
    <p>There is no page <code>${location.pathname}</code> in kubetrail's UI.</p>
    <p><a class="btn" href="/" data-nav>Search for an object</a> <a class="btn" href="/overview" data-nav>Overview</a></p></div>`.s;
}

export function navigate(url, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  route();
  main.focus({ preventScroll: true });
}

// Same-origin links marked data-nav are handled here; others (e.g. /redirect) load normally.
document.addEventListener('click', (e) => {
  const a = /** @type {Element} */ (e.target).closest('a[data-nav]');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  navigate(a.getAttribute('href'));
});
window.addEventListener('popstate', route);
addFindingsNav();
// Modes, scopes and kinds from the server (one source); the UI's built-in tables if it does not answer.
getJson('/api/ui-config')
  .catch(() => null)
  .then((cfg) => {
    applyConfig(cfg);
    route();
  });
