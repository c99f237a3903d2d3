// /healthz: the process is alive. /readyz: the sink can take writes, its exports succeed, and we are
// not shutting down, so a load balancer (or the API server retry) goes elsewhere while we drain or
// while the sink fails (e.g. a full disk); it turns ready again by itself once a write succeeds.
// /metrics: Prometheus.
import type { FastifyInstance } from 'fastify';
import type { SpanSink } from '../core/sink.ts';
import { registry } from '../core/metrics.ts';

export interface Readiness {
  draining: boolean;
  /** Why this process cannot do its work yet (e.g. a Kafka tracer waiting for its topic); undefined when it can. */
  waiting?: () => string | undefined;
}

export function healthRoutes(app: FastifyInstance, sink: Pick<SpanSink, 'full' | 'pending' | 'healthy' | 'lastError'>, state: Readiness): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const reasons: string[] = [];
    if (state.draining) reasons.push('draining');
    const waiting = state.waiting?.();
    if (waiting) reasons.push(waiting);
    if (sink.full()) reasons.push('sink full');
    if (sink.healthy && !sink.healthy()) reasons.push(`sink failing: ${sink.lastError?.() ?? 'unknown error'}`);
    if (reasons.length) return reply.code(503).send({ status: 'not ready', reasons });
    return { status: 'ready', pending: sink.pending() };
  });
}

/** GET /metrics in Prometheus text format. */
export function metricsRoutes(app: FastifyInstance): void {
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
}
