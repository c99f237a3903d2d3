// The one error type that carries an HTTP status: thrown by the read path's handlers and the
// backends (a bad parameter is 400, an unknown object 404, Jaeger unreachable 502), by the
// webhook's body parser (400), and for an API server's answer. Fastify answers `statusCode`; the
// error it wraps, if any, is its standard `cause`.
export class HttpError extends Error {
  readonly statusCode: number;
  /** Fields the route adds to its error body (Jaeger's `{errors: [...]}` and the like). */
  readonly extra?: Record<string, unknown>;
  constructor(statusCode: number, message: string, opts: { cause?: unknown; extra?: Record<string, unknown> } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'HttpError';
    this.statusCode = statusCode;
    if (opts.extra) this.extra = opts.extra;
  }
}
