// A compact JSON → YAML renderer for object snapshots (block style, like `kubectl get -o yaml`).
// Only what JSON can hold; strings that YAML would read as something else are quoted.
const PLAIN = /^[A-Za-z0-9_./\-][A-Za-z0-9_ ./\-:@]*$/;
const AMBIGUOUS = /^(?:true|false|yes|no|on|off|y|n|null|~|[-+]?(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?|0x[0-9a-f]+|0o[0-7]+|\.inf|-\.inf|\.nan)$/i;

function scalar(v) {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  const s = String(v);
  if (s === '' || !PLAIN.test(s) || AMBIGUOUS.test(s) || /\s$/.test(s) || /: /.test(s) || s.startsWith('- ')) return JSON.stringify(s);
  return s;
}

function key(k) {
  return PLAIN.test(k) && !AMBIGUOUS.test(k) && !k.includes(': ') ? k : JSON.stringify(k);
}

const isObj = (v) => v !== null && typeof v === 'object';
const empty = (v) => (Array.isArray(v) ? v.length === 0 : isObj(v) && Object.keys(v).length === 0);

function block(s, pad) {
  // Multi-line strings as literal blocks keep certificates and scripts readable.
  const keep = s.endsWith('\n') ? '' : '-';
  return `|${keep}\n` + s.replace(/\n$/, '').split('\n').map((l) => pad + l).join('\n');
}

function render(v, indent) {
  const pad = '  '.repeat(indent);
  if (Array.isArray(v)) {
    return v.map((item) => {
      if (isObj(item) && !empty(item)) {
        const inner = render(item, indent + 1);
        return `${pad}- ${inner.slice(pad.length + 2)}`;
      }
      return `${pad}- ${value(item, indent + 1)}`;
    }).join('\n');
  }
  return Object.entries(v).map(([k, val]) => {
    if (isObj(val) && !empty(val)) {
      // Sequences under a mapping key stay at the key's indentation, as kubectl prints them.
      return `${pad}${key(k)}:\n${render(val, Array.isArray(val) ? indent : indent + 1)}`;
    }
    return `${pad}${key(k)}: ${value(val, indent + 1)}`;
  }).join('\n');
}

function value(v, indent) {
  if (Array.isArray(v)) return '[]';
  if (isObj(v)) return '{}';
  if (typeof v === 'string' && v.includes('\n')) return block(v, '  '.repeat(indent));
  return scalar(v);
}

export function toYaml(v) {
  if (!isObj(v) || empty(v)) return value(v, 0) + '\n';
  return render(v, 0) + '\n';
}

/** Snapshot text (JSON) → YAML; non-JSON text is returned unchanged. */
export function snapshotToYaml(text) {
  try {
    return toYaml(JSON.parse(text));
  } catch {
    return text;
  }
}
