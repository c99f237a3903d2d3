// GET /redirect?cluster=&group=&resource=&namespace=&name=&ts=: `302 Location: /trace/<id>` for the
// object around `ts` (Kelemetry's link format, what `kubetrail diagnose` and the UI print). No match
// and several matches are a 404 and a 400 that say so: Jaeger's error body, or a page with links
// for a browser.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Static, Type } from 'typebox';
import type { ObjectRef } from '../../src/core/model.ts';
import type { TraceQuery } from '../query.ts';
import { escapeHtml, jaegerError, jaegerErrorHandler, sendErrorPage, wantsHtml } from './errors.ts';
import { parseMode, parseTimestampUs } from './params.ts';
import { ClusterQuery, JaegerErrorBody, ref } from './schemas.ts';

const RedirectQuery = Type.Intersect([
  ref(ClusterQuery),
  Type.Object({
    group: Type.Optional(Type.String()),
    resource: Type.String({ minLength: 1 }),
    namespace: Type.Optional(Type.String()),
    name: Type.String({ minLength: 1 }),
    ts: Type.Optional(Type.String()),
    mode: Type.Optional(Type.String()),
    /** The built-in UI: the row to select in the trace (`?object=` of /trace). */
    select: Type.Optional(Type.String()),
  }),
]);
type RedirectQuery = Static<typeof RedirectQuery>;

function describe(f: Partial<ObjectRef>): string {
  return Object.entries(f)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

function noObject(req: FastifyRequest, reply: FastifyReply, q: RedirectQuery, filter: Partial<ObjectRef>): FastifyReply {
  if (!wantsHtml(req)) return reply.code(404).send(jaegerError(404, `no object ${describe(filter)} recorded within a day of ts`));
  const search = new URLSearchParams({ range: 'all', resource: q.resource, name: q.name, ...(q.namespace ? { namespace: q.namespace } : {}) });
  return sendErrorPage(
    reply,
    404,
    'Object not found',
    `No ${q.resource} named ${q.name}${q.namespace ? ` in namespace ${q.namespace}` : ''} is recorded within a day of ${q.ts ?? 'now'}.`,
    `<p><a href="/?${escapeHtml(search.toString())}">Search all the data for it</a></p>`,
  );
}

function severalObjects(req: FastifyRequest, reply: FastifyReply, q: RedirectQuery, filter: Partial<ObjectRef>, candidates: ObjectRef[]): FastifyReply {
  if (!wantsHtml(req)) {
    const msg = `${candidates.length} objects match ${describe(filter)}; add cluster, group or namespace`;
    return reply.code(400).send(jaegerError(400, msg, { candidates }));
  }
  const links = candidates.slice(0, 50).map((c) => {
    const p = new URLSearchParams({
      cluster: c.cluster,
      group: c.group,
      resource: c.resource,
      namespace: c.namespace,
      name: c.name,
      ...(q.ts ? { ts: q.ts } : {}),
    });
    const label = `${c.cluster} ${c.resource}${c.group ? '.' + c.group : ''} ${c.namespace ? c.namespace + '/' : ''}${c.name}`;
    return `<li><a href="/redirect?${escapeHtml(p.toString())}">${escapeHtml(label)}</a></li>`;
  });
  return sendErrorPage(reply, 400, 'Several objects match', `${candidates.length} objects match ${describe(filter)}; pick one:`, `<ul>${links.join('')}</ul>`);
}

/** 302 to the trace; `Location`, spelled as Kelemetry sends it (scripts grep for it; fastify would lower-case it). */
function sendLocation(reply: FastifyReply, target: string): FastifyReply {
  reply.hijack();
  const body = JSON.stringify({ location: target });
  reply.raw.writeHead(302, { Location: target, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  reply.raw.end(body);
  return reply;
}

export const redirect: FastifyPluginAsyncTypebox<{ query: TraceQuery }> = async (app, { query }) => {
  app.setErrorHandler(jaegerErrorHandler);
  const response = { 400: ref(JaegerErrorBody), 404: ref(JaegerErrorBody) };
  app.get('/redirect', { schema: { querystring: RedirectQuery, response } }, async (req, reply) => {
    const q = req.query;
    const { display, scope } = parseMode(q.mode);
    const filter: Partial<ObjectRef> = { resource: q.resource, name: q.name };
    for (const k of ['cluster', 'group', 'namespace'] as const) if (q[k] !== undefined) filter[k] = q[k];
    const located = await query.locate(filter, parseTimestampUs(q.ts, Date.now() * 1000), display, scope);
    if (located.kind === 'none') return noObject(req, reply, q, filter);
    if (located.kind === 'ambiguous') return severalObjects(req, reply, q, filter, located.candidates);
    return sendLocation(reply, `/trace/${located.id}${q.select ? `?object=${encodeURIComponent(q.select)}` : ''}`);
  });
};
