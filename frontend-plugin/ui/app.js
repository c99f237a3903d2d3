// kubetrail UI entry: a tiny history-API router over two pages, search (/) and trace (/trace/<id>).
// Plain ES modules, no build step; served as static files by the query server.
import { showSearch } from './search.js';
import { showTrace } from './trace-view.js';
import { addFindingsNav, showFindings } from './findings.js';

const main = document.getElementById('main');
let current; // AbortController of the page being shown

function route() {
  current?.abort();
  current = new AbortController();
  const ctx = { navigate, signal: current.signal };
  const m = /^\/trace\/([^/?#]+)\/?$/.exec(location.pathname);
  const findings = /^\/findings\/?$/.test(location.pathname);
  document.querySelectorAll('.top-nav a').forEach((a) => a.toggleAttribute('aria-current', !m && a.getAttribute('href') === (findings ? '/findings' : '/')));
  if (m) return showTrace(main, decodeURIComponent(m[1]).toLowerCase(), ctx);
  if (findings) return showFindings(main, new URLSearchParams(location.search), ctx);
  return showSearch(main, new URLSearchParams(location.search), ctx);
}

export function navigate(url, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  route();
  main.focus({ preventScroll: true });
}

// Same-origin links marked data-nav are handled here; others (e.g. /redirect) load normally.
document.addEventListener('click', (e) => {
  const a = e.target.closest('a[data-nav]');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  navigate(a.getAttribute('href'));
});
window.addEventListener('popstate', route);
addFindingsNav();
route();
