// How the query server answers what went wrong: Jaeger's error body (`{data: null, errors: [{code,
// msg}]}`, what the Jaeger UI and scripts read) for programs, and a readable page in the UI's style
// for a browser asking for HTML (a /redirect link clicked in a chat, a mistyped URL).
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from '../../src/core/http-error.ts';

export function jaegerError(code: number, msg: string, extra?: Record<string, unknown>) {
  return { data: null, total: 0, limit: 0, offset: 0, errors: [{ code, msg }], ...extra };
}

export const escapeHtml = (t: string) => t.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function wantsHtml(req: FastifyRequest): boolean {
  const accept = String(req.headers.accept ?? '');
  return accept.includes('text/html');
}

/** A readable error page in the UI's style, with a way back. */
export function errorPage(status: number, title: string, detail: string, extraHtml = ''): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · kubetrail</title><link rel="stylesheet" href="/style.css"></head>
<body><main class="error-page" id="main"><div class="state state-error" role="alert"><h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(detail)}</p>${extraHtml}<p class="muted">HTTP ${status}</p>
<p><a class="btn" href="/">Go to the overview and search</a></p></div></main></body></html>`;
}

/** Sends an error page with `status`. */
export function sendErrorPage(reply: FastifyReply, status: number, title: string, detail: string, extraHtml?: string): FastifyReply {
  return reply
    .code(status)
    .type('text/html')
    .send(errorPage(status, title, detail, extraHtml));
}

/**
 * The error handler of the Jaeger v1 API, /redirect and the UI API: an HttpError keeps its status
 * (and the fields it adds), a failed validation is 400, anything else 500; logged when it is ours.
 */
export function jaegerErrorHandler(err: FastifyError | HttpError, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const validation = 'validation' in err && err.validation;
  const status = err instanceof HttpError ? err.statusCode : validation ? 400 : (err.statusCode ?? 500);
  if (status === 502) req.log.warn({ reason: err.message }, 'upstream failed');
  else if (status >= 500) req.log.error({ err }, 'query failed');
  if (wantsHtml(req)) return sendErrorPage(reply, status, status === 404 ? 'Not found' : status >= 500 ? 'The query failed' : 'Bad request', err.message);
  return reply.code(status).send(jaegerError(status, err.message, err instanceof HttpError ? err.extra : undefined));
}

/** A path nobody serves (no UI page, no upstream Jaeger to ask). */
export async function notFound(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const path = req.url.split('?')[0];
  if (wantsHtml(req)) return sendErrorPage(reply, 404, 'Page not found', `There is no page ${path}.`);
  return reply.code(404).send(jaegerError(404, `no route ${req.method} ${path}`));
}
