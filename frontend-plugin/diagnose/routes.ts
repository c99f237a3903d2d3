// GET /api/diagnose (the same Report as `kubetrail diagnose --json`), GET /api/explain (the same
// Explanation as `kubetrail explain --json`), GET /api/findings/live (the live findings of the
// process that writes the spans: live.ts) and the UI's /findings page,
// as one encapsulated fastify plugin registered by the query server.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import type { TraceBackend } from '../backend/backend.ts';
import { diagnose } from './index.ts';
import { explainObject } from './explain.ts';
import { parseSeconds, parseSelector, parseTimeArg, thresholdParam, thresholdsFrom, UsageError } from './params.ts';
import { defaultThresholds, type Thresholds } from './types.ts';
import type { LiveReport } from './live.ts';

/** The live findings (a LiveFindings): the report of its last run. */
export interface LiveSource {
  report(): LiveReport | undefined;
}

export interface DiagnoseRoutesOptions {
  backend: TraceBackend;
  /** Built-in UI directory: /findings serves its index.html (the view itself is ui/findings.js). */
  uiDir?: string;
  live?: LiveSource;
}

const error = (code: number, msg: string) => ({ data: null, total: 0, limit: 0, offset: 0, errors: [{ code, msg }] });

const QUERY_KEYS = [
  'cluster',
  'start',
  'end',
  'namespace',
  'selector',
  'podStartup',
  'podStartupThreshold',
  ...(Object.keys(defaultThresholds) as (keyof Thresholds)[]).map(thresholdParam),
];

export const diagnoseRoutes: FastifyPluginAsync<DiagnoseRoutesOptions> = async (app, opts) => {
  // The same diagnosis asked again while it runs (the overview on / and /overview, a reload) shares
  // the run in flight instead of starting another full scan beside it; nothing is kept after it ends.
  const running = new Map<string, ReturnType<typeof diagnose>>();

  app.setErrorHandler((err: Error & { statusCode?: number; validation?: unknown }, req, reply) => {
    const status = err instanceof UsageError || err.validation ? 400 : (err.statusCode ?? 500);
    if (status >= 500) req.log.error({ err }, 'diagnose failed');
    reply.code(status).send(error(status, err.message));
  });

  app.get<{ Querystring: Record<string, string | undefined> }>(
    '/api/diagnose',
    {
      schema: {
        querystring: { type: 'object', properties: Object.fromEntries(QUERY_KEYS.map((k) => [k, { type: 'string' }])) },
      },
    },
    async (req) => {
      const q = req.query;
      // an ignored parameter would silently give another report than asked (fastify strips, not rejects, unknown keys)
      const unknown = [...new Set(new URL(req.url, 'http://x').searchParams.keys())].filter((k) => !QUERY_KEYS.includes(k));
      if (unknown.length) throw new UsageError(`unknown parameter ${unknown.join(', ')} (known: ${QUERY_KEYS.join(', ')})`);
      const now = Date.now();
      const startUs = q.start ? parseTimeArg(q.start, now) : undefined;
      const endUs = q.end ? parseTimeArg(q.end, now) : undefined;
      if (startUs !== undefined && endUs !== undefined && startUs > endUs) throw new UsageError('start is after end');
      const cluster = q.cluster || undefined;
      const selector = q.selector ? parseSelector(q.selector, cluster) : undefined;
      if (selector && !cluster) {
        const clusters = await opts.backend.clusters();
        if (clusters.length !== 1) throw new UsageError(`selector needs cluster when ${clusters.length} clusters are stored`);
        selector.cluster = clusters[0]!;
      }
      const podStartupThresholdSec = q.podStartupThreshold ? parseSeconds(q.podStartupThreshold) : undefined;
      const args = {
        cluster,
        namespace: q.namespace || undefined,
        selector,
        startUs,
        endUs,
        thresholds: thresholdsFrom(q),
        podStartup: q.podStartup === 'true' || q.podStartup === '1',
        podStartupThresholdSec,
      };
      const key = JSON.stringify(args);
      let run = running.get(key);
      if (!run) {
        run = diagnose(opts.backend, args);
        running.set(key, run);
        const done = () => running.delete(key);
        run.then(done, done);
      }
      return run;
    },
  );

  // the report of the last live run: 404 when live findings are off, 503 until the first run
  app.get('/api/findings/live', async (_req, reply) => {
    if (!opts.live) return reply.code(404).send(error(404, 'live findings are off: `kubetrail serve` computes them (--live-window, docs/diagnose.md)'));
    const r = opts.live.report();
    if (!r) return reply.code(503).header('retry-after', '5').send(error(503, 'live findings: the first run has not finished yet'));
    return r;
  });

  const EXPLAIN_KEYS = ['cluster', 'group', 'resource', 'namespace', 'name', 'at'];
  // why one object is in its state at a time; 404 when the record holds no event of it by then
  app.get<{ Querystring: Record<string, string | undefined> }>('/api/explain', async (req, reply) => {
    const q = req.query;
    const unknown = [...new Set(new URL(req.url, 'http://x').searchParams.keys())].filter((k) => !EXPLAIN_KEYS.includes(k));
    if (unknown.length) throw new UsageError(`unknown parameter ${unknown.join(', ')} (known: ${EXPLAIN_KEYS.join(', ')})`);
    if (!q.resource || !q.name) throw new UsageError('resource and name are required (group and namespace empty for core and cluster-scoped objects)');
    let cluster = q.cluster;
    if (!cluster) {
      const clusters = await opts.backend.clusters();
      if (clusters.length !== 1) throw new UsageError(`cluster is required when ${clusters.length} clusters are stored`);
      cluster = clusters[0]!;
    }
    const ref = { cluster, group: q.group ?? '', resource: q.resource, namespace: q.namespace ?? '', name: q.name };
    const ex = await explainObject(opts.backend, ref, { atUs: q.at ? parseTimeArg(q.at, Date.now()) : undefined });
    if (!ex)
      return reply
        .code(404)
        .send(error(404, `${q.resource} ${ref.namespace ? `${ref.namespace}/` : ''}${q.name} is not in the record${q.at ? ' at or before at' : ''}`));
    return ex;
  });

  const index = opts.uiDir ? join(opts.uiDir, 'index.html') : undefined;
  if (index && existsSync(index)) {
    app.get('/findings', async (_req, reply) => reply.type('text/html').send(readFileSync(index, 'utf8')));
  }
};
