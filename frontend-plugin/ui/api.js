// @ts-check
// The Jaeger query HTTP API as served by kubetrail's query server. Errors become ApiError with a
// kind the views turn into a clear message: 'network' (server down), 'not-found', 'http'.
export class ApiError extends Error {
  constructor(kind, status, message) {
    super(message);
    this.kind = kind;
    this.status = status;
  }
}

/**
 * @param {string} path
 * @param {{ signal?: AbortSignal }} [opts]
 */
export async function getJson(path, { signal } = {}) {
  let res;
  try {
    res = await fetch(path, { headers: { accept: 'application/json' }, signal });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError('network', 0, `Cannot reach the kubetrail query server (${e.message}). Is it running?`);
  }
  let body = null;
  try {
    body = await res.json();
  } catch {
    /* not JSON: handled below */
  }
  const errors = body && Array.isArray(body.errors) ? body.errors : [];
  if (!res.ok || errors.length) {
    const msg =
      errors
        .map((e) => e.msg)
        .filter(Boolean)
        .join('; ') ||
      body?.message ||
      res.statusText ||
      'request failed';
    const kind = res.status === 404 ? 'not-found' : res.status === 502 || res.status === 503 || res.status === 504 ? 'network' : 'http';
    throw new ApiError(kind, res.status, `${msg} (HTTP ${res.status})`);
  }
  if (!body) throw new ApiError('http', res.status, `The server answered ${path} with something that is not JSON.`);
  return body.data;
}

/** q: {service, operation, tags: {...}, startUs, endUs, limit}: Jaeger's search parameters. */
function searchParams(q) {
  const p = new URLSearchParams({ service: q.service });
  if (q.operation) p.set('operation', q.operation);
  if (q.tags && Object.keys(q.tags).length) p.set('tags', JSON.stringify(q.tags));
  p.set('start', String(Math.floor(q.startUs)));
  p.set('end', String(Math.floor(q.endUs)));
  p.set('limit', String(q.limit ?? 20));
  return p;
}

export const api = {
  services: (o) => getJson('/api/services', o),
  operations: (service, o) => getJson(`/api/services/${encodeURIComponent(service)}/operations`, o),
  /** {firstUs?, lastUs?, namespaces} of the stored data (GET /api/ui/summary). */
  summary: (cluster, o) => getJson(`/api/ui/summary${cluster ? `?cluster=${encodeURIComponent(cluster)}` : ''}`, o),
  diagnose(q, o) {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '') p.set(k, String(v));
    return getJson(`/api/diagnose?${p}`, o);
  },
  /**
   * The trace view's tree of a trace (GET /api/ui/trace/<id>, rows linked by index: model.js linkTree);
   * store 'b': run B of `kubetrail compare --ui` (GET /api/b/ui/trace/<id>).
   */
  async tree(id, o, store = '') {
    const data = await getJson(`/api/${store === 'b' ? 'b/' : ''}ui/trace/${encodeURIComponent(id)}`, o);
    if (!data || !Array.isArray(data.flat) || !data.flat.length) throw new ApiError('not-found', 404, 'trace not found');
    return data;
  },
  /** Search (the parameters of `search`), each trace found as its tree (GET /api/ui/search). */
  searchTrees(q, o) {
    return getJson(`/api/ui/search?${searchParams(q)}`, o);
  },
};
