// @ts-check
// Recently opened traces, kept in localStorage (per browser). Mode switches of the same lookup
// replace each other: the 22 digits after the mode digits identify the lookup.
const KEY = 'kubetrail.recent';
const MAX = 12;

export function loadRecent() {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) ?? '[]');
    return Array.isArray(v) ? v.filter((r) => r && typeof r.id === 'string') : [];
  } catch {
    return [];
  }
}

export function rememberRecent({ id, label, cluster }) {
  try {
    const same = (r) => r.id.slice(10) === id.slice(10) || (r.label === label && r.cluster === cluster);
    const list = [{ id, label, cluster, at: Date.now() }, ...loadRecent().filter((r) => !same(r))].slice(0, MAX);
    localStorage.setItem(KEY, JSON.stringify(list));
  } catch {
    /* storage disabled or full: recent list is a convenience only */
  }
}

export function clearRecent() {
  try {
    localStorage.removeItem(KEY);
  } catch {
    /* ignore */
  }
}
