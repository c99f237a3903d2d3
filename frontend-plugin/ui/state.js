// @ts-check
// An object's full state at any moment, rebuilt from its first snapshot (the create, or the first
// state kubetrail saw) and the `diff.entries` of each later event; a delete's snapshot (the object
// before the delete) replaces the rebuilt state. Pure functions, no DOM.
//
// Paths as the write path writes them (docs/write-path.md): `spec.replicas`, `metadata.labels["a/b"]`,
// `spec.containers[name=web].image`, `spec.tolerations[0].effect`.

/** `a.b["c.d"][name=x][0]` → [{key:'a'}, {key:'b'}, {key:'c.d'}, {match:['name','x']}, {index:0}]. */
export function parsePath(path) {
  const out = [];
  const re = /\.?([A-Za-z_$][\w$-]*)|\["((?:[^"\\]|\\.)*)"\]|\[(\d+)\]|\[([^=\]]+)=([^\]]*)\]/gy;
  let m;
  let pos = 0;
  while (pos < path.length && (m = re.exec(path)) !== null) {
    if (m[1] !== undefined) out.push({ key: m[1] });
    else if (m[2] !== undefined) out.push({ key: JSON.parse(`"${m[2]}"`) });
    else if (m[3] !== undefined) out.push({ index: Number(m[3]) });
    else out.push({ match: [m[4], m[5]] });
    pos = re.lastIndex;
  }
  if (pos !== path.length) return null;
  return out;
}

const clone = (v) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));
const isObj = (v) => v !== null && typeof v === 'object';

/**
 * @param {unknown[]} arr
 * @param {string[]} match `[key, value]`
 */
function find(arr, match) {
  const [k, v] = match;
  return arr.findIndex((x) => isObj(x) && String(x[k]) === v);
}

/** Sets (or, with `remove`, deletes) the value at `path` in `obj`; returns false when the path does not fit. */
export function applyEntry(obj, entry) {
  const steps = parsePath(entry.path);
  if (!steps?.length) return false;
  const remove = !Object.hasOwn(entry, 'new');
  let cur = obj;
  for (let i = 0; i < steps.length - 1; i++) {
    const s = steps[i];
    const nextIsArray = steps[i + 1].match !== undefined || steps[i + 1].index !== undefined;
    if (s.key !== undefined) {
      if (!isObj(cur[s.key])) {
        if (remove) return true;
        cur[s.key] = nextIsArray ? [] : {};
      }
      cur = cur[s.key];
    } else if (s.index !== undefined) {
      if (!Array.isArray(cur)) return false;
      if (!isObj(cur[s.index])) {
        if (remove) return true;
        cur[s.index] = nextIsArray ? [] : {};
      }
      cur = cur[s.index];
    } else {
      if (!Array.isArray(cur)) return false;
      let j = find(cur, s.match);
      if (j < 0) {
        if (remove) return true;
        cur.push({ [s.match[0]]: s.match[1] });
        j = cur.length - 1;
      }
      cur = cur[j];
    }
  }
  const last = steps[steps.length - 1];
  if (last.key !== undefined) {
    if (!isObj(cur) || Array.isArray(cur)) return false;
    if (remove) delete cur[last.key];
    else cur[last.key] = clone(entry.new);
  } else if (last.index !== undefined) {
    if (!Array.isArray(cur)) return false;
    if (remove) cur.splice(last.index, 1);
    else cur[last.index] = clone(entry.new);
  } else {
    if (!Array.isArray(cur)) return false;
    const j = find(cur, last.match);
    if (remove) {
      if (j >= 0) cur.splice(j, 1);
    } else if (j >= 0) cur[j] = clone(entry.new);
    else cur.push(clone(entry.new));
  }
  return true;
}

function parseSnapshot(text) {
  if (!text) return undefined;
  try {
    const v = JSON.parse(text);
    return isObj(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The bookkeeping the diff keeps apart (`diff.verbose`: `metadata.generation 1 -> 2`, values as
 * JSON) and the request's new resourceVersion, as entries: the rebuilt object carries the
 * resourceVersion and generation it had after the event.
 */
function bookkeeping(e) {
  const out = [];
  for (const line of (e.diffVerbose ?? '').split('\n')) {
    const m = /^(metadata\.(?:resourceVersion|generation)) (\S+) -> (\S+)$/.exec(line);
    if (!m) continue;
    try {
      out.push({ path: m[1], new: JSON.parse(m[3]) });
    } catch {
      // `<none>`: removed, which bookkeeping never is; leave it
    }
  }
  if (e.resourceVersion) out.push({ path: 'metadata.resourceVersion', new: e.resourceVersion });
  return out;
}

/**
 * The object's state after each event: states[i] (undefined before the first snapshot), plus
 * `gaps[i]` = true where an event changed the object without `diff.entries` (old data: the state
 * after it may miss that change).
 */
export function objectStates(events) {
  const states = new Array(events.length);
  const gaps = new Array(events.length).fill(false);
  let cur;
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    if (e.isK8sEvent || e.level === 'error' || e.level === 'expected') {
      states[i] = cur;
      continue;
    }
    const snap = parseSnapshot(e.snapshot);
    if (e.kind === 'delete') {
      states[i] = snap ?? cur;
      cur = states[i];
      continue;
    }
    if (snap && (cur === undefined || e.kind === 'create')) {
      cur = snap;
      states[i] = cur;
      continue;
    }
    if (cur !== undefined) {
      const books = bookkeeping(e);
      if (e.entries?.length || books.length) {
        const next = clone(cur);
        for (const en of e.entries ?? []) if (!applyEntry(next, en)) gaps[i] = true;
        for (const en of books) applyEntry(next, en);
        cur = next;
      }
      if (!e.entries?.length && e.diff && !e.noop) gaps[i] = true;
    }
    states[i] = cur;
  }
  return { states, gaps };
}

/** Whether any state can be shown for these events. */
export function hasState(events) {
  return events.some((e) => parseSnapshot(e.snapshot) !== undefined);
}
