// The passthrough to an upstream Jaeger query service (`--jaeger-query`): every request kubetrail
// does not answer itself (Jaeger's other API paths, a foreign trace ID) goes to it as it came —
// method, path below the upstream's own prefix (`http://jaeger:16686/jaeger`), query, headers
// without the hop-by-hop ones, and the body streamed both ways — by @fastify/reply-from. An
// unreachable upstream is a 502 with Jaeger's error body.
import replyFrom from '@fastify/reply-from';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { jaegerError } from './errors.ts';

export type PassThrough = (req: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>;

/** Headers that belong to one connection, never forwarded (RFC 9110 7.6.1), in either direction. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer', 'expect'];

function withoutHopByHop<H extends Record<string, unknown>>(headers: H): H {
  const out = { ...headers };
  for (const h of HOP_BY_HOP) delete out[h];
  return out;
}

/**
 * Adds the proxy to `app` (its root: every route may pass a request on) and returns the handler
 * that forwards one request to `upstream` (a base URL without a trailing slash).
 */
export async function passThroughTo(app: FastifyInstance, upstream: string): Promise<PassThrough> {
  // No retries (reply-from retries a GET answered 503 by default): the upstream's answer is the client's to see.
  await app.register(replyFrom, { disableRequestLogging: true, destroyAgent: true, retryMethods: [] });
  return async (req, reply) =>
    reply.from(upstream + (req.raw.url ?? '/'), {
      rewriteRequestHeaders: (_req, headers) => withoutHopByHop(headers),
      rewriteHeaders: (headers) => withoutHopByHop(headers),
      onError: (r, { error }) => {
        // reply-from names the kind (timeout, reset, ...) and keeps the socket's own error as cause
        const why = error.cause instanceof Error ? error.cause.message : error.message;
        r.code(502).send(jaegerError(502, `upstream Jaeger query service ${upstream} unreachable: ${why}`));
      },
    });
}
