// The built-in UI (or another UI directory, e.g. a Jaeger UI build given with --ui-dir): its files,
// its pages, and every other GET outside the API paths, which a single-page app owns (the Jaeger
// UI's /dependencies, /monitor, /search?…) — answered here, never by the upstream Jaeger, whose own
// UI would take over. API paths nobody here serves go on to the server's not-found handler (the
// passthrough to the upstream Jaeger, or a 404).
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { jaegerError } from './errors.ts';

export interface StaticUiOptions {
  /** The UI directory; without an index.html in it, the pages say the UI is missing. */
  uiDir: string;
}

/** Paths of the query API (ours, or Jaeger's to pass through); everything else a UI may own. */
const API_PATH = /^\/(api|analytics|qualitymetrics|redirect)(\/|$|\?)/;

const MISSING_UI = `<!doctype html><meta charset="utf-8"><title>kubetrail</title>
<h1>kubetrail query</h1><p>The built-in UI is missing (no index.html in the UI directory).
The Jaeger query API is served under <code>/api/</code>, e.g. <a href="/api/services">/api/services</a>.</p>`;

export const hasUi = (uiDir: string) => existsSync(join(uiDir, 'index.html'));

/** Whether a request is a page or asset of the UI: GET/HEAD outside the API paths. */
export function uiOwns(req: FastifyRequest): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  return !API_PATH.test(req.raw.url ?? '/');
}

/**
 * A UI file asked for below a page: `/trace/static/index-abc.js` → `static/index-abc.js`. A Jaeger UI
 * build names its files relative to the page (`./static/…`) and sets its `<base>` from a script, but
 * Chromium's preload scanner fetches them before that script runs, resolved against `/trace/<id>`.
 * The leading path segments are dropped until the rest is a file of the UI directory.
 */
export function uiFileBelowPage(uiDir: string, path: string): string | undefined {
  let parts: string[];
  try {
    parts = decodeURIComponent(path)
      .split('/')
      .filter((p) => p !== '');
  } catch {
    return undefined;
  }
  if (parts.some((p) => p === '..' || p === '.' || p.includes('\\'))) return undefined;
  for (let i = 1; i < parts.length; i++) {
    const rel = parts.slice(i).join('/');
    try {
      if (statSync(join(uiDir, rel)).isFile()) return rel;
    } catch {
      // not there: try a shorter path
    }
  }
  return undefined;
}

/** The files: each UI file is its own route (wildcard: false), and the `yaml` package's browser build for the YAML views. */
async function files(app: FastifyInstance, uiDir: string): Promise<void> {
  await app.register(fastifyStatic, { root: uiDir, wildcard: false, index: false });
  // The `yaml` package's browser build (plain ES modules) for the built-in UI's YAML views.
  const yamlDir = join(dirname(dirname(fileURLToPath(import.meta.resolve('yaml')))), 'browser');
  if (existsSync(yamlDir)) await app.register(fastifyStatic, { root: yamlDir, prefix: '/vendor/yaml/', decorateReply: false, index: false });
}

export const staticUi: FastifyPluginAsync<StaticUiOptions> = async (app, { uiDir }) => {
  const present = hasUi(uiDir);
  if (present) await files(app, uiDir);
  const sendUi = async (_req: FastifyRequest, reply: FastifyReply) =>
    present ? reply.type('text/html').sendFile('index.html') : reply.type('text/html').send(MISSING_UI);
  app.get('/', sendUi);
  app.get('/search', sendUi);
  app.get('/trace/:id', sendUi);
  if (!present) return;

  // Any other page of the single-page app; an API path goes on to the not-found handler.
  app.get('/*', async (req, reply) => {
    if (!uiOwns(req)) return reply.callNotFound();
    const path = (req.raw.url ?? '/').split('?')[0]!;
    const below = uiFileBelowPage(uiDir, path);
    if (below) return reply.sendFile(below);
    // A missing asset (`/static/x.js`) is a 404, not the page: a browser would run HTML as script.
    if (/\.[a-z0-9]+$/i.test(path)) return reply.code(404).send(jaegerError(404, `no file ${path} in the UI directory`));
    return sendUi(req, reply);
  });
};
