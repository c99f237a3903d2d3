// @ts-check
// Tiny helpers to build HTML strings safely (every interpolated value is escaped unless it is
// already Html). Rows are rendered as one string per list: far faster than node-by-node DOM.
export class Html {
  constructor(s) {
    this.s = s;
  }
  toString() {
    return this.s;
  }
}
const ESC = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ESC[c]);
export const raw = (s) => new Html(s);
function fmt(v) {
  if (v instanceof Html) return v.s;
  if (Array.isArray(v)) return v.map(fmt).join('');
  if (v === null || v === undefined || v === false) return '';
  return esc(v);
}
export function html(strings, ...values) {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += fmt(values[i]) + strings[i + 1];
  return new Html(out);
}
export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];
