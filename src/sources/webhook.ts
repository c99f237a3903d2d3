// The audit webhook: kube-apiserver POSTs audit.k8s.io EventLists here (--audit-webhook-config-file).
// We answer 200 only once the resulting spans are durable; any error makes the API server retry
// the batch, so "full" (429) and "sink unavailable" (503) are how backpressure reaches it.
import { readFileSync } from 'node:fs';
import { timingSafeEqual, createHash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyReply, type FastifyRequest } from 'fastify';
import type { SpanRecord } from '../core/model.ts';
import type { SpanSink } from '../core/sink.ts';
import { CommitEngine, type Batch, type RecordSink, type Refusal, type Staged, type Traced } from '../pipeline/engine.ts';
import { log as rootLog, type Logger } from '../core/log.ts';
import { auditEventsAccepted, auditEventsReceived, auditEventsRejected, eventLag, webhookRequestSeconds, webhookRequests } from '../core/metrics.ts';
import { healthRoutes, metricsRoutes, type Readiness } from './health.ts';
import { HttpError } from '../core/http-error.ts';

/**
 * What the webhook needs from the pipeline (src/pipeline/pipeline.ts Pipeline satisfies it): a
 * transaction per batch, whose state changes are committed only once the sink stored the records.
 * In receive role the Kafka publisher (src/sources/kafka/producer.ts) is both: its "transaction"
 * turns each audit event into a message and stages nothing.
 */
export interface AuditIngest<R = SpanRecord> {
  begin(): Staged & { auditEvent(raw: unknown, cluster: string): Traced<R> };
}

/** What the webhook writes to: a span sink, or in receive role the Kafka publisher; /readyz asks it too. */
export type WebhookSink<R> = RecordSink<R> & Pick<SpanSink, 'healthy' | 'lastError'>;

export interface WebhookOptions<R = SpanRecord> {
  pipeline: AuditIngest<R>;
  sink: WebhookSink<R>;
  /**
   * Receive role: the records are Kafka messages (a refused batch counts as publish_failed, the
   * answer says how many were published).
   */
  publishes?: boolean;
  /** Cluster name for `POST /audit` (default 'default'). */
  defaultCluster?: string;
  /** Request body limit; above it 413. Default 32 MiB. */
  maxBodyBytes?: number;
  /** Bearer token the API server must send (kubeconfig `token`). */
  token?: string;
  /** PEM contents (not paths) for HTTPS. */
  tls?: { cert: string | Buffer; key: string | Buffer; clientCa?: string | Buffer };
  logger?: Logger;
}

export interface WebhookServer {
  app: FastifyInstance;
  /** Stop taking audit batches (503) and report not ready; in-flight batches finish. */
  startDraining(): void;
  readonly readiness: Readiness;
}

const CLUSTER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** Reads PEM files given on the command line. */
export function loadTls(certPath?: string, keyPath?: string, clientCaPath?: string): WebhookOptions['tls'] {
  if (!certPath && !keyPath) {
    if (clientCaPath) throw new Error('--client-ca needs --tls-cert and --tls-key');
    return undefined;
  }
  if (!certPath || !keyPath) throw new Error('--tls-cert and --tls-key go together');
  return {
    cert: readFileSync(certPath),
    key: readFileSync(keyPath),
    ...(clientCaPath ? { clientCa: readFileSync(clientCaPath) } : {}),
  };
}

function sameSecret(a: string, b: string): boolean {
  // compare digests so length differences do not leak through timing either
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/** Unix seconds (fractional) of an audit event's stageTimestamp, if it has one. */
function stageTime(item: unknown): number | undefined {
  const ts = (item as { stageTimestamp?: unknown } | null)?.stageTimestamp;
  if (typeof ts !== 'string') return undefined;
  const ms = Date.parse(ts);
  return Number.isFinite(ms) ? ms / 1000 : undefined;
}

export function buildWebhookServer<R = SpanRecord>(opts: WebhookOptions<R>): WebhookServer {
  const logger = opts.logger ?? rootLog.child({ component: 'webhook' });
  const readiness: Readiness = { draining: false };
  const bodyLimit = opts.maxBodyBytes ?? 32 * 1024 * 1024;
  const app = Fastify({
    bodyLimit,
    logger: false, // our own pino logger below; fastify's per-request logs are too chatty at audit volume
    ...httpsOptions(opts.tls),
  }) as unknown as FastifyInstance;
  acceptJsonBodies(app, bodyLimit);
  app.setErrorHandler(errorHandler(logger));
  app.addHook('onResponse', async (_req, reply) => {
    webhookRequests.inc({ code: String(reply.statusCode) });
  });
  healthRoutes(app, opts.sink, readiness);
  metricsRoutes(app);
  // a full sink refuses at once (429), a failing one too (503): the API server retries the batch
  const engine = new CommitEngine<R>(opts.sink, { whenFull: 'refuse' });
  app.register(auditRoutes as FastifyPluginAsync<AuditRouteOptions<R>>, { ...opts, logger, readiness, engine });
  return {
    app,
    readiness,
    startDraining() {
      readiness.draining = true;
    },
  };
}

function httpsOptions(tls: WebhookOptions['tls']) {
  if (!tls) return {};
  const clientCa = tls.clientCa ? { ca: tls.clientCa, requestCert: true, rejectUnauthorized: true } : {};
  return { https: { cert: tls.cert, key: tls.key, ...clientCa } };
}

/**
 * Every body is JSON, whatever its content type (the API server sends application/json; curl users
 * may not). A compressed body (Content-Encoding gzip/deflate/br) is decoded before parsing; the body
 * limit applies to the decoded bytes too (a small zip bomb gets 413, and decoding stops there).
 */
function acceptJsonBodies(app: FastifyInstance, bodyLimit: number): void {
  app.addHook('preParsing', async (req, _reply, payload) => decodeBody(req.headers['content-encoding'], payload, bodyLimit));
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch (err) {
      done(new HttpError(400, `request body is not valid JSON: ${(err as Error).message}`, { cause: err }), undefined);
    }
  });
}

/** A refused request (too large, not JSON, ...) answers `{error}`, counted and logged. */
function errorHandler(logger: Logger) {
  return (err: Error & { statusCode?: number }, _req: FastifyRequest, reply: FastifyReply) => {
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    if (status === 413) auditEventsRejected.inc({ reason: 'too_large' });
    else if (status === 400) auditEventsRejected.inc({ reason: 'invalid_json' });
    if (status >= 500) logger.error({ err }, 'webhook request failed');
    else logger.warn({ status, reason: err.message }, 'webhook request refused');
    reply.code(status).send({ error: err.message });
  };
}

interface AuditRouteOptions<R = unknown> extends WebhookOptions<R> {
  logger: Logger;
  readiness: Readiness;
  engine: CommitEngine<R>;
}

/** POST /audit/:cluster and POST /audit (the default cluster): an EventList in, 2xx once durable. */
const auditRoutes: FastifyPluginAsync<AuditRouteOptions> = async (app, opts) => {
  const defaultCluster = opts.defaultCluster ?? 'default';
  const authorize = async (req: FastifyRequest, reply: FastifyReply) => {
    if (opts.token === undefined) return;
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(.+)$/i.exec(header);
    if (!m || !sameSecret(m[1]!.trim(), opts.token)) {
      auditEventsRejected.inc({ reason: 'unauthorized' });
      return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'missing or wrong bearer token' });
    }
  };
  // this plugin's routes only (encapsulated): the audit requests, not probes or scrapes
  app.addHook('onResponse', async (_req, reply) => {
    webhookRequestSeconds.observe(reply.elapsedTime / 1000);
  });
  const handle = (req: FastifyRequest, reply: FastifyReply, cluster: string) => receiveBatch(opts, req.body, cluster, reply);
  app.post<{ Params: { cluster: string } }>('/audit/:cluster', { onRequest: authorize }, (req, reply) => handle(req, reply, req.params.cluster));
  app.post('/audit', { onRequest: authorize }, (req, reply) => handle(req, reply, defaultCluster));
};

/** The audit events of a request body: an EventList's items, or one Event; undefined for anything else. */
function itemsOf(body: unknown): unknown[] | undefined {
  const b = body as { kind?: unknown; items?: unknown } | null;
  if (b && typeof b === 'object' && Array.isArray(b.items)) return b.items;
  if (b && typeof b === 'object' && b.kind === 'Event') return [b];
  return undefined;
}

async function receiveBatch(opts: AuditRouteOptions, body: unknown, cluster: string, reply: FastifyReply) {
  if (!CLUSTER_NAME.test(cluster)) return reply.code(400).send({ error: `invalid cluster name: ${JSON.stringify(cluster)}` });
  const items = itemsOf(body);
  if (!items) {
    auditEventsRejected.inc({ reason: 'invalid_json' });
    return reply.code(400).send({ error: 'expected an audit.k8s.io EventList (an object with an "items" array)' });
  }
  auditEventsReceived.inc(items.length);
  if (opts.readiness.draining) {
    auditEventsRejected.inc({ reason: 'draining' }, items.length);
    return reply.code(503).header('retry-after', '1').send({ error: 'shutting down' });
  }
  // A full sink refuses at once: no point tracing what cannot be stored (the state would not
  // change anyway: the engine rolls a refused batch back).
  if (opts.engine.refusing()) {
    auditEventsRejected.inc({ reason: 'sink_full' }, items.length);
    return reply.code(429).header('retry-after', '1').send({ error: 'span sink is full, retry later' });
  }
  // One transaction per batch: later events of the batch see the versions of earlier ones, and
  // nothing reaches the pipeline's state unless the sink stores the records, so a refused batch
  // retried by the API server is traced as if it came first (same diffs, object and link spans).
  const { value, records, refused } = await opts.engine.batch(opts.pipeline.begin(), (b) => traceItems(opts, b, items, cluster));
  const { stageTimes, bad, skipped } = value;
  if (refused) return refuse(opts, reply, refused, items.length - bad, { cluster, spans: records.length });
  auditEventsAccepted.inc(items.length - bad);
  const now = Date.now() / 1000;
  for (const t of stageTimes) eventLag.observe(Math.max(0, now - t));
  const counts = { received: items.length, skipped, rejected: bad };
  const traced = items.length - bad - skipped;
  return reply.code(200).send(opts.publishes ? { ...counts, published: records.length } : { ...counts, traced, spans: records.length });
}

/** The batch's events traced; the bad ones are counted, logged and left out. */
function traceItems(opts: AuditRouteOptions, b: Batch<ReturnType<AuditIngest<unknown>['begin']>, unknown>, items: unknown[], cluster: string) {
  const { logger } = opts;
  const stageTimes: number[] = [];
  let bad = 0;
  let skipped = 0;
  items.forEach((item, index) => {
    const r = b.trace((tx) => tx.auditEvent(item, cluster));
    // index and auditID only: never the item itself, it may hold Secret data
    if (r.thrown) {
      bad++;
      auditEventsRejected.inc({ reason: 'pipeline_error' });
      logger.error({ cluster, index, auditID: auditId(item), err: r.thrown.message }, 'pipeline failed on audit event');
    } else if (r.error) {
      bad++;
      auditEventsRejected.inc({ reason: 'malformed' });
      logger.warn({ cluster, index, auditID: auditId(item), reason: r.error }, 'skipping bad audit event');
    } else {
      if (r.skipped) skipped++;
      const t = stageTime(item);
      if (t !== undefined) stageTimes.push(t);
    }
  });
  return { stageTimes, bad, skipped };
}

/** A batch the engine refused: 429 when the sink is full, 503 when it (or Kafka) failed. */
function refuse(opts: AuditRouteOptions, reply: FastifyReply, refused: Refusal, good: number, ctx: { cluster: string; spans: number }) {
  const message = refused.error?.message ?? refused.reason;
  if (refused.reason === 'full') {
    auditEventsRejected.inc({ reason: 'sink_full' }, good);
    return reply.code(429).header('retry-after', '1').send({ error: message });
  }
  auditEventsRejected.inc({ reason: opts.publishes ? 'publish_failed' : 'sink_unavailable' }, good);
  opts.logger.error({ ...ctx, err: message }, opts.publishes ? 'publish failed' : 'span sink write failed');
  return reply
    .code(503)
    .header('retry-after', '2')
    .send({ error: opts.publishes ? message : `span sink unavailable: ${message}` });
}

/**
 * The request body decoded per Content-Encoding (gzip, x-gzip, deflate, br; identity as is). The
 * returned stream reports the bytes received on the wire as `receivedEncodedLength` (fastify checks
 * Content-Length against it) and fails with 413 once the decoded body exceeds `limit`.
 */
function decodeBody(header: string | string[] | undefined, payload: Readable, limit: number): Readable {
  const codings = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c && c !== 'identity');
  if (codings.length === 0) return payload;
  const decoders: Transform[] = [];
  // Codings are listed in the order they were applied: undo them from the last one.
  for (const c of [...codings].reverse()) {
    if (c === 'gzip' || c === 'x-gzip') decoders.push(createGunzip());
    else if (c === 'deflate') decoders.push(createInflate());
    else if (c === 'br') decoders.push(createBrotliDecompress());
    else throw new HttpError(415, `unsupported Content-Encoding ${JSON.stringify(c)} (gzip, deflate, br or identity)`);
  }
  let decoded = 0;
  const bounded = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      decoded += chunk.length;
      if (decoded > limit) cb(new HttpError(413, `request body is larger than ${limit} bytes once decoded (Content-Encoding ${codings.join(', ')})`));
      else cb(null, chunk);
    },
  }) as Transform & { receivedEncodedLength: number };
  bounded.receivedEncodedLength = 0;
  payload.on('data', (c: Buffer) => (bounded.receivedEncodedLength += c.length));
  // Piped by hand rather than with stream.pipeline, so a decoder's failure reaches the parser as a
  // 400 that names the encoding, and a 413 stops the decoders.
  let upstream: Readable = payload;
  for (const d of decoders) {
    upstream.pipe(d);
    d.on('error', (err) => bounded.destroy(new HttpError(400, `request body is not valid ${codings.join('+')}: ${err.message}`, { cause: err })));
    upstream = d;
  }
  upstream.pipe(bounded);
  payload.on('error', (err) => bounded.destroy(err));
  bounded.on('error', () => {
    for (const d of decoders) d.destroy();
  });
  return bounded;
}

function auditId(item: unknown): string | undefined {
  const id = (item as { auditID?: unknown } | null)?.auditID;
  return typeof id === 'string' ? id.slice(0, 64) : undefined;
}
