// @ts-check
// The trace page (/trace/<id>): header with mode/scope switches, the indented timeline (one row
// per object, event marks on a shared time axis) and the details panel of the selected row.
// Rows are rendered as one HTML string per change (collapse, filter): ~1,000 rows take a few ms,
// and rows below a large fan-out start collapsed so a 1,000-pod Deployment opens compact.
import { api, ApiError } from './api.js';
import { html, raw, $ } from './dom.js';
import { MODES, SCOPES, linkTree, objectKeyOf, objectRows, parseTraceId, withMode, shortUser } from './model.js';
import { renderDetails, focusEvent, parseDiffLine } from './events.js';
import { fmtTime, fmtDateTime, fmtDuration, fmtShort, tickStep } from './time.js';
import { rememberRecent } from './recent.js';
import { showTraceFindings } from './findings.js';
import { showTraceExplain } from './explain.js';

const BIG_TREE = 300; // rows; above this, start with deep levels and large fan-outs collapsed
const BIG_FANOUT = 100;

export async function showTrace(root, id, { navigate, signal }) {
  root.innerHTML = html`<div class="loading" role="status"><span class="spinner" aria-hidden="true"></span> Loading trace <code>${id}</code>…</div>`.s;
  let tree;
  try {
    tree = linkTree(await api.tree(id, { signal }));
  } catch (e) {
    if (e.name === 'AbortError') return;
    root.innerHTML = errorState(e, id).s;
    root.querySelector('[data-retry]')?.addEventListener('click', () => showTrace(root, id, { navigate, signal }));
    document.title = 'Trace not available · kubetrail';
    return;
  }
  new TraceView(root, id, tree, navigate).mount();
}

function errorState(e, id) {
  if (e instanceof ApiError && e.kind === 'not-found') {
    return html`<div class="state state-error" role="alert"><h1>Trace not found</h1>
      <p>No trace <code>${id}</code> is stored. It may be older than the retention, recorded on another cluster, or the link is mistyped.</p>
      <p><a class="btn" href="/" data-nav>Search for the object</a></p></div>`;
  }
  if (e instanceof ApiError && e.kind === 'network') {
    return html`<div class="state state-error" role="alert"><h1>The query server is not reachable</h1>
      <p>${e.message}</p><p class="muted">Check that <code>kubetrail</code> (query server) is running and its storage is up, then retry.</p>
      <p><button type="button" class="btn" data-retry>Retry</button></p></div>`;
  }
  return html`<div class="state state-error" role="alert"><h1>Could not load the trace</h1><p>${e.message}</p>
    <p><button type="button" class="btn" data-retry>Retry</button> <a href="/" data-nav>Back to search</a></p></div>`;
}

class TraceView {
  constructor(root, id, tree, navigate) {
    this.root = root;
    this.id = id;
    this.tree = tree;
    this.navigate = navigate;
    this.mode = parseTraceId(id);
    this.collapsed = new Set();
    this.filter = '';
    this.failFilter = '';
    this.selected = null;
    const big = tree.flat.length > BIG_TREE;
    for (const n of tree.flat) {
      if (!n.children.length) continue;
      if ((big && n.depth >= 2) || n.children.length > BIG_FANOUT) this.collapsed.add(n);
    }
    this.view = { start: tree.start, end: tree.end }; // the visible time range (zoom)
    this.pct = (ts) => (((ts - this.view.start) / (this.view.end - this.view.start)) * 100).toFixed(3);
  }

  mount() {
    const t = this.tree;
    const top = t.roots[0];
    const title = top ? `${top.kind ? top.kind + ' ' : ''}${top.label}` : 'Trace';
    document.title = `${title} · kubetrail`;
    rememberRecent({ id: this.id, label: title, cluster: top?.tags.cluster ?? '' });
    const m = this.mode;
    this.root.innerHTML = html`<section class="trace-view">
      <div class="trace-head">
        <div class="trace-title">
          <nav class="crumbs" aria-label="Breadcrumb"><a href="/" data-nav>Search</a> <span aria-hidden="true">›</span> <a class="compare-link" href="/compare?a=${this.id}" data-nav title="Open this trace side by side with another">Compare with…</a></nav>
          <h1><span class="kind-chip">${top?.kind || 'Trace'}</span> ${top?.label ?? ''}</h1>
          <p class="stats">
            <span>${objectRows(t).length} objects</span>
            <span>${t.eventCount} events</span>
            ${t.errorCount ? html`<span class="txt-error" data-stat="failed" title="failed requests that are real errors">${t.errorCount} failed</span>` : ''}
            ${t.expectedCount ? html`<span class="txt-expected" data-stat="expected" title="routine failures the controllers recover from: a delete answered 404 (already gone), a 409 conflict retried successfully, a dry-run 422">${t.expectedCount} expected failure${t.expectedCount === 1 ? '' : 's'}</span>` : ''}
            <span title="${fmtDateTime(t.firstEvent)}">${fmtShort(t.firstEvent)} UTC</span>
            <span data-stat="duration" title="from the first to the last event">over ${fmtDuration(Math.max(0, t.lastEvent - t.firstEvent))}</span>
            ${top?.tags.cluster ? html`<span>cluster <strong>${top.tags.cluster}</strong></span>` : ''}
          </p>
        </div>
        <div class="switches">
          ${switchGroup('Display mode', 'mode', MODES, m?.mode, !m)}
          ${switchGroup('Scope', 'scope', SCOPES, m?.scope, !m)}
        </div>
      </div>
      ${t.warnings.length ? html`<div class="warn-banner" role="note"><strong>Incomplete trace:</strong> ${t.warnings.join(' · ')}</div>` : ''}
      <div class="trace-body">
        <div class="timeline">
          <div class="tl-toolbar">
            <label class="filter"><span class="sr-only">Filter rows</span>
              <input type="search" placeholder="Filter: name, node, user, diff, message…" data-filter autocomplete="off"></label>
            <label class="failfilter"><span class="sr-only">Show rows</span><select data-failfilter title="Keep only the rows with failed requests">
              <option value="">All rows</option><option value="error">Real failures</option><option value="any">Any failure (incl. expected)</option></select></label>
            <button type="button" class="btn btn-small" data-act="expand-all">Expand all</button>
            <button type="button" class="btn btn-small" data-act="collapse-all">Collapse all</button>
            <span class="legend" aria-label="Legend">
              <span><i class="mark m-create"></i>create</span><span><i class="mark m-update"></i>update</span>
              <span><i class="mark m-delete"></i>delete</span><span><i class="mark m-event"></i>Event</span>
              <span><i class="mark lvl-warning m-event"></i>Warning</span><span><i class="mark lvl-error m-update"></i>failed</span><span><i class="mark lvl-expected m-update"></i>expected failure</span>
            </span>
          </div>
          <div class="tl-scroll">
            <div class="tl-header"><div class="cell-label">Object <button type="button" class="link-btn zoom-reset" data-act="zoom-reset" hidden>Reset zoom</button></div><div class="cell-track axis" title="Drag to zoom into a time range; double-click to reset">${this.axis()}<span class="brush" hidden></span></div></div>
            <div class="tl-body">
              <div class="tl-grid" aria-hidden="true"><div class="cell-track">${this.gridLines()}</div></div>
              <div class="tl-rows" role="tree" aria-label="Objects in this trace"></div>
            </div>
            <p class="tl-empty" hidden>No rows match the filter.</p>
          </div>
        </div>
        <aside class="details" aria-label="Selected object"></aside>
      </div>
      <div class="tip" role="tooltip" hidden></div>
    </section>`.s;
    // Label column wide enough for the longest label (up to a cap), so deep pod names stay readable.
    let need = 0;
    for (const n of t.flat.slice(0, 3000)) need = Math.max(need, n.depth * 18 + (n.kind.length + n.label.length) * 7.6 + (n.errors || n.warnings ? 210 : 170));
    $('.trace-view', this.root).style.setProperty(
      '--label-w',
      `${Math.round(Math.min(520, Math.max(240, innerWidth > 800 ? (innerWidth - 440) * 0.56 : innerWidth * 0.45), Math.max(320, need)))}px`,
    );
    this.rowsEl = $('.tl-rows', this.root);
    this.detailsEl = $('.details', this.root);
    this.tipEl = $('.tip', this.root);
    this.wire();
    const want = new URLSearchParams(location.search).get('object');
    // the object's own row, not a row standing for it under another parent
    const wanted = (n) => objectKeyOf(n) === want || n.key === want;
    const initial = (want && (objectRows(t).find(wanted) ?? t.flat.find(wanted))) || t.flat[0];
    this.select(initial, { focus: false, scroll: true });
    showTraceExplain($('.trace-view', this.root), t);
    void showTraceFindings($('.trace-view', this.root), t);
  }

  axis() {
    const { step, ticks } = this.ticks();
    const sub = step < 1e6;
    return ticks.map((x) => html`<span class="tick" style="left:${this.pct(x)}%">${sub ? fmtTime(x) : fmtTime(x).slice(0, 8)}</span>`);
  }

  ticks() {
    const { start, end } = this.view;
    const step = tickStep(end - start, 6);
    const out = [];
    for (let x = Math.ceil(start / step) * step; x <= end; x += step) out.push(x);
    return { step, ticks: out };
  }

  gridLines() {
    return this.ticks().ticks.map((x) => html`<span class="gridline" style="left:${this.pct(x)}%"></span>`);
  }

  /** Shows [start, end] (µs) on the time axis; re-renders axis, grid and rows. */
  zoom(start, end) {
    const t = this.tree;
    const minSpan = 1000; // 1 ms
    if (end - start < minSpan) return;
    this.view = { start: Math.max(start, t.start), end: Math.min(end, t.end) };
    const zoomed = this.view.start > t.start || this.view.end < t.end;
    for (const n of t.flat) n._track = undefined;
    const axis = $('.tl-header .axis', this.root);
    axis.querySelectorAll('.tick').forEach((el) => el.remove());
    axis.insertAdjacentHTML('afterbegin', html`${this.axis()}`.s);
    $('.tl-grid .cell-track', this.root).innerHTML = html`${this.gridLines()}`.s;
    $('[data-act="zoom-reset"]', this.root).hidden = !zoomed;
    this.renderRows();
  }

  wireZoom() {
    const axis = $('.tl-header .axis', this.root);
    const brush = $('.brush', axis);
    let from = null;
    const frac = (e) => {
      const r = axis.getBoundingClientRect();
      return Math.min(1, Math.max(0, (e.clientX - r.left) / r.width));
    };
    const at = (f) => this.view.start + f * (this.view.end - this.view.start);
    axis.addEventListener('pointerdown', (e) => {
      if (e.button !== 0) return;
      from = frac(e);
      axis.setPointerCapture(e.pointerId);
      brush.hidden = false;
      brush.style.left = `${from * 100}%`;
      brush.style.width = '0';
    });
    axis.addEventListener('pointermove', (e) => {
      if (from === null) return;
      const f = frac(e);
      brush.style.left = `${Math.min(from, f) * 100}%`;
      brush.style.width = `${Math.abs(f - from) * 100}%`;
    });
    axis.addEventListener('pointerup', (e) => {
      if (from === null) return;
      const f = frac(e);
      brush.hidden = true;
      const [a, b] = [Math.min(from, f), Math.max(from, f)];
      from = null;
      if (b - a > 0.01) this.zoom(at(a), at(b));
    });
    axis.addEventListener('dblclick', () => this.zoom(this.tree.start, this.tree.end));
    $('[data-act="zoom-reset"]', this.root).addEventListener('click', () => this.zoom(this.tree.start, this.tree.end));
  }

  /** The rows that match the text filter (name, kind, actors, verbs, reasons, messages, errors, diffs). */
  matches(n, q) {
    if (`${n.kind} ${n.label} ${n.tags.resource ?? ''}`.toLowerCase().includes(q)) return true;
    return this.matchingEvents(n, q).length > 0;
  }

  matchingEvents(n, q) {
    if (!q) return [];
    if (!n._hay) n._hay = n.events.map((e) => `${e.who} ${e.what} ${e.reason} ${e.message} ${e.error} ${e.diff} ${e.component} ${e.userAgent}`.toLowerCase());
    const out = [];
    for (let i = 0; i < n._hay.length; i++) if (n._hay[i].includes(q)) out.push(i);
    return out;
  }

  visibleRows() {
    const out = [];
    const flat = this.tree.flat;
    if (this.filter || this.failFilter) {
      const q = this.filter.toLowerCase();
      const ff = this.failFilter;
      const keep = new Set();
      this.hits = new Set();
      for (const n of flat) {
        const failOk = !ff || (ff === 'error' ? n.errors > 0 : n.errors + n.expected > 0);
        if (!failOk) continue;
        if (q && !this.matches(n, q)) continue;
        this.hits.add(n);
        for (let p = n; p && !keep.has(p); p = p.parent) keep.add(p);
      }
      for (const n of flat) if (keep.has(n)) out.push(n);
      return out;
    }
    this.hits = null;
    for (let i = 0; i < flat.length; i++) {
      const n = flat[i];
      out.push(n);
      if (this.collapsed.has(n)) i += n.descendants; // descendants follow their parent in flat order
    }
    return out;
  }

  trackHtml(n) {
    if (n._track && !this.filter) return n._track;
    let s = '';
    if (n.events.length > 1) {
      const a = Math.max(0, Number(this.pct(n.firstTs))),
        b = Math.min(100, Number(this.pct(n.lastTs)));
      if (b > a) s += `<span class="life" style="left:${a}%;width:${(b - a).toFixed(3)}%"></span>`;
    }
    const { start, end } = this.view;
    const hit = this.filter ? new Set(this.matchingEvents(n, this.filter.toLowerCase())) : null;
    for (let i = 0; i < n.events.length; i++) {
      const e = n.events[i];
      if (e.ts < start || e.ts > end) continue;
      s += `<span class="mark m-${e.kind} lvl-${e.level}${hit?.has(i) ? ' hit' : ''}" style="left:${this.pct(e.ts)}%" data-e="${i}"></span>`;
    }
    if (!hit) n._track = s;
    return s;
  }

  rowHtml(n) {
    const open = !this.collapsed.has(n) || !!this.filter;
    const hasKids = n.children.length > 0;
    const sel = n === this.selected;
    const hidden = hasKids && !open ? html`<span class="badge" title="${n.descendants} rows hidden">+${n.descendants}</span>` : '';
    const errs = n.errors ? html`<span class="badge badge-error" title="${n.errors} failed requests">${n.errors} ✕</span>` : '';
    const expd = n.expected
      ? html`<span class="badge badge-expected" title="${n.expected} expected failures (routine: already gone, conflict retried, dry-run)">${n.expected} ✕</span>`
      : '';
    const isHit = !!this.hits?.has(n);
    const warns = n.warnings ? html`<span class="badge badge-warning" title="${n.warnings} Warning events">${n.warnings} !</span>` : '';
    return html`<div class="row${sel ? ' sel' : ''}${n.isEvent ? ' is-event' : ''}${isHit ? ' hit' : ''}" role="treeitem" id="r-${n.index}" data-i="${n.index}" aria-level="${n.depth + 1}"${raw(
      hasKids ? ` aria-expanded="${open}"` : '',
    )} aria-selected="${sel}" tabindex="${sel ? 0 : -1}" style="--d:${n.depth}">
      <div class="cell-label"><span class="indent"></span>${
        hasKids
          ? html`<button type="button" class="tw" tabindex="-1" data-act="toggle" aria-label="${open ? 'Collapse' : 'Expand'} ${n.label}">${open ? '▾' : '▸'}</button>`
          : raw('<span class="tw"></span>')
      }<span class="rel rel-${n.relation.key}" title="${n.relation.label}" aria-label="${n.relation.label}">${n.relation.icon}</span>${
        n.kind ? html`<span class="kind">${n.kind}</span>` : ''
      }${nameHtml(n, isHit ? this.filter : '')}${hidden}${errs}${expd}${warns}<span class="count" title="events">${n.events.length || ''}</span></div>
      <div class="cell-track">${raw(this.trackHtml(n))}</div></div>`.s;
  }

  renderRows() {
    const rows = this.visibleRows();
    this.visible = rows;
    let s = '';
    for (const n of rows) s += this.rowHtml(n);
    this.rowsEl.innerHTML = s;
    $('.tl-empty', this.root).hidden = rows.length > 0;
  }

  /**
   * @param {any} n the row
   * @param {{ focus?: boolean, scroll?: boolean, event?: number }} [opts] `event`: the index of the event to select in it
   */
  select(n, { focus = true, scroll = true, event } = {}) {
    if (!n) return;
    const prev = this.selected;
    this.selected = n;
    let hiddenBefore = !this.visible;
    for (let p = n.parent; p; p = p.parent) if (this.collapsed.delete(p)) hiddenBefore = true;
    if (hiddenBefore || (this.filter && !this.visible.includes(n))) this.renderRows();
    else {
      // Only the selection moved: patch two rows instead of re-rendering the list.
      for (const [m, on] of [
        [prev, false],
        [n, true],
      ]) {
        const el = m && this.rowsEl.querySelector(`#r-${m.index}`);
        if (!el) continue;
        el.classList.toggle('sel', on);
        el.setAttribute('aria-selected', String(on));
        el.tabIndex = on ? 0 : -1;
      }
    }
    renderDetails(this.detailsEl, n, this.tree.firstEvent);
    const row = this.rowsEl.querySelector(`#r-${n.index}`);
    if (row) {
      if (scroll) row.scrollIntoView({ block: 'nearest' });
      if (focus) row.focus({ preventScroll: !scroll });
    }
    if (event !== undefined) focusEvent(this.detailsEl, event);
    const key = objectKeyOf(n) ?? n.key;
    const url = new URL(location.href);
    if (n === this.tree.flat[0]) url.searchParams.delete('object');
    else url.searchParams.set('object', key);
    history.replaceState(history.state, '', url);
  }

  toggle(n, open = this.collapsed.has(n)) {
    if (!n.children.length) return;
    if (open) this.collapsed.delete(n);
    else this.collapsed.add(n);
    this.renderRows();
    this.rowsEl.querySelector(`#r-${n.index}`)?.focus({ preventScroll: true });
  }

  wire() {
    const nodeOf = (el) => {
      const row = el.closest('.row');
      return row ? this.tree.flat[Number(row.dataset.i)] : null;
    };
    this.rowsEl.addEventListener('click', (e) => {
      const n = nodeOf(e.target);
      if (!n) return;
      if (e.target.closest('[data-act="toggle"]')) return this.toggle(n);
      const mark = e.target.closest('.mark');
      this.select(n, { scroll: false, event: mark ? Number(mark.dataset.e) : undefined });
    });
    this.rowsEl.addEventListener('keydown', (e) => this.onKey(e));
    this.detailsEl.addEventListener('select-row', (e) => this.select(this.tree.flat[e.detail], { focus: true, scroll: true }));
    this.wireZoom();
    this.rowsEl.addEventListener('mouseover', (e) => {
      const mark = e.target.closest('.mark');
      if (!mark) return;
      const n = nodeOf(mark);
      this.showTip(mark, n, n.events[Number(mark.dataset.e)]);
    });
    this.rowsEl.addEventListener('mouseout', (e) => {
      if (e.target.closest('.mark')) this.tipEl.hidden = true;
    });
    this.root.querySelector('.tl-scroll').addEventListener(
      'scroll',
      () => {
        this.tipEl.hidden = true;
      },
      { passive: true },
    );
    const filter = $('[data-filter]', this.root);
    let timer;
    filter.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        this.filter = filter.value.trim();
        this.renderRows();
      }, 120);
    });
    $('[data-failfilter]', this.root).addEventListener('change', (e) => {
      this.failFilter = e.target.value;
      this.renderRows();
    });
    this.root.querySelector('[data-act="expand-all"]').addEventListener('click', () => {
      this.collapsed.clear();
      this.renderRows();
    });
    this.root.querySelector('[data-act="collapse-all"]').addEventListener('click', () => {
      for (const n of this.tree.flat) if (n.children.length && n.parent) this.collapsed.add(n);
      const sel = this.selected;
      const hidden = sel?.parent?.parent; // below a collapsed row now
      this.renderRows();
      if (hidden) this.select(this.tree.flat[0], { focus: false });
    });
    this.root.querySelector('.switches').addEventListener('click', (e) => {
      const b = e.target.closest('button[data-switch]');
      if (!b || b.disabled || b.getAttribute('aria-pressed') === 'true') return;
      const next = { ...this.mode, [b.dataset.switch]: b.dataset.value };
      this.navigate(`/trace/${withMode(this.id, next.mode, next.scope)}${location.search}`);
    });
  }

  onKey(e) {
    const n = this.selected;
    if (!n) return;
    const rows = this.visible;
    const i = rows.indexOf(n);
    let handled = true;
    switch (e.key) {
      case 'ArrowDown':
        this.select(rows[Math.min(i + 1, rows.length - 1)]);
        break;
      case 'ArrowUp':
        this.select(rows[Math.max(i - 1, 0)]);
        break;
      case 'Home':
        this.select(rows[0]);
        break;
      case 'End':
        this.select(rows[rows.length - 1]);
        break;
      case 'ArrowRight':
        if (n.children.length && this.collapsed.has(n)) this.toggle(n, true);
        else if (n.children.length) this.select(n.children[0]);
        break;
      case 'ArrowLeft':
        if (n.children.length && !this.collapsed.has(n)) this.toggle(n, false);
        else if (n.parent) this.select(n.parent);
        break;
      case 'Enter':
      case ' ':
        this.detailsEl.querySelector('.panel-title')?.focus();
        break;
      default:
        handled = false;
    }
    if (handled) e.preventDefault();
  }

  showTip(mark, n, ev) {
    if (!ev) return;
    const diff = ev.diff ? ev.diff.split('\n').slice(0, 4).map(parseDiffLine).filter(Boolean) : [];
    const more = ev.diff ? ev.diff.split('\n').length - diff.length : 0;
    this.tipEl.innerHTML = html`<div class="tip-time">${fmtTime(ev.ts)} UTC</div>
      <div class="tip-what lvl-${ev.level}">${ev.isK8sEvent ? 'Event ' : ''}<strong>${ev.what}</strong>${ev.code !== undefined ? ` · ${ev.code}` : ''}</div>
      <div class="tip-who">by ${shortUser(ev.who)}</div>
      ${ev.error ? html`<div class="tip-error">${ev.error.slice(0, 200)}</div>` : ''}
      ${ev.message ? html`<div class="tip-msg">${ev.message.slice(0, 200)}</div>` : ''}
      ${diff.length ? html`<div class="tip-diff">${diff.map((d) => html`<div>${d.op === 'text' ? d.text : `${d.path}: ${d.op === 'add' ? '' : d.old + ' → '}${d.op === 'remove' ? '∅' : d.new}`}</div>`)}${more ? html`<div class="muted">… ${more} more</div>` : ''}</div>` : ''}
      <div class="tip-obj muted">${n.kind} ${n.label}</div>`.s;
    this.tipEl.hidden = false;
    const r = mark.getBoundingClientRect();
    const tw = this.tipEl.offsetWidth,
      th = this.tipEl.offsetHeight;
    let x = r.left + r.width / 2 - tw / 2;
    x = Math.max(8, Math.min(x, innerWidth - tw - 8));
    let y = r.bottom + 8;
    if (y + th > innerHeight - 8) y = r.top - th - 8;
    this.tipEl.style.left = `${x}px`;
    this.tipEl.style.top = `${y}px`;
  }
}

/**
 * The row label, filter hits highlighted. A generated name's distinguishing suffix also shows as a
 * chip that never truncates (narrow screens only, style.css), so siblings never look identical.
 */
function nameHtml(n, q) {
  const label = n.label;
  let inner = html`${label}`;
  if (q) {
    const i = label.toLowerCase().indexOf(q.toLowerCase());
    if (i >= 0) inner = html`${label.slice(0, i)}<mark>${label.slice(i, i + q.length)}</mark>${label.slice(i + q.length)}`;
  }
  const tail = n.suffix ? html`<span class="name-tail" aria-hidden="true" title="${label}">…${n.suffix}</span>` : '';
  return html`<span class="name" title="${label}">${inner}</span>${tail}`;
}

function switchGroup(label, name, options, current, disabled) {
  return html`<div class="seg" role="group" aria-label="${label}"><span class="seg-label">${label}</span>${options.map(
    (o) => html`<button type="button"
    data-switch="${name}" data-value="${o.key}" aria-pressed="${o.key === current}" title="${o.hint}"${raw(disabled ? ' disabled' : '')}>${o.label}</button>`,
  )}</div>`;
}
