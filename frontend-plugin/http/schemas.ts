// The query server's shared request and answer schemas: each is registered once on the server
// (`app.addSchema`, by its `$id`) and routes point at it with `$ref`; the handlers' request types
// are derived from the same schemas (TypeBox, @fastify/type-provider-typebox), so a schema and the
// type a handler reads cannot drift apart. Query parameters stay strings: the handlers parse and
// explain them (params.ts), as Jaeger's query service does.
import type { FastifyInstance } from 'fastify';
import { type Static, type TSchema, Type } from 'typebox';

/**
 * A `$ref` to a shared schema, typed as that schema. (TypeBox 1 types a bare `Type.Ref` only inside
 * a `Type.Module`; fastify resolves the reference itself, from the schemas `addSharedSchemas` added.)
 */
export function ref<T extends TSchema>(schema: T): ReturnType<typeof Type.Unsafe<Static<T>>> {
  const id = (schema as { $id?: string }).$id;
  if (!id) throw new Error('ref: the schema has no $id');
  return Type.Unsafe<Static<T>>({ $ref: `${id}#` });
}

const text = () => Type.Optional(Type.String());
/** One query parameter given once (`?tags=…`) or repeated (`?tags=a&tags=b`). */
const oneOrMore = () => Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())]));

/** Jaeger's error answer: `{data: null, errors: [{code, msg}]}`, and what a route adds (the candidates of an ambiguous /redirect). */
export const JaegerErrorBody = Type.Object(
  {
    data: Type.Null(),
    errors: Type.Array(Type.Object({ code: Type.Integer(), msg: Type.String() })),
  },
  { $id: 'kubetrail.jaegerError', additionalProperties: true },
);

/** A time range in Unix microseconds (`start`, `end`): Jaeger's search, the overview's heatmap. */
export const TimeRangeQuery = Type.Object({ start: text(), end: text() }, { $id: 'kubetrail.timeRange' });

/** The cluster to look at; empty or `all` means every cluster. */
export const ClusterQuery = Type.Object({ cluster: text() }, { $id: 'kubetrail.cluster' });

/** Jaeger's `service`: kubetrail's display mode and scope (`tracing (owned objects)`, trace-id.ts). */
export const ServiceQuery = Type.Object({ service: text() }, { $id: 'kubetrail.service' });

/** A trace ID in a path: kubetrail's display or raw IDs, or a foreign one for the upstream Jaeger. */
export const TraceIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }, { $id: 'kubetrail.traceIdParams' });

/** GET /api/traces: Jaeger's search (or, with `traceID`, the compare view's fetch by IDs). */
export const SearchQuery = Type.Intersect([
  ref(ServiceQuery),
  ref(TimeRangeQuery),
  Type.Object({
    operation: text(),
    tags: oneOrMore(),
    lookback: text(),
    limit: text(),
    minDuration: text(),
    maxDuration: text(),
    traceID: oneOrMore(),
  }),
]);
export type SearchQuery = Static<typeof SearchQuery>;

/** The schemas routes refer to by `$id`; `addSharedSchemas` adds them to a server before its routes. */
const SHARED = [JaegerErrorBody, TimeRangeQuery, ClusterQuery, ServiceQuery, TraceIdParams];

export function addSharedSchemas(app: FastifyInstance): void {
  for (const s of SHARED) app.addSchema(s);
}
