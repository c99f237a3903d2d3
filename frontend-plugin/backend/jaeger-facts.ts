// The diagnosis' read of the facts traces in Jaeger (src/core/fact-spans.ts): the spans of the
// `<service>-facts` service in a range, found by a sweep of searches that halves a full search at a
// minute boundary (all facts spans of a trace start at its minute), each facts trace answered once.
import { joinAttributes } from '../../src/core/attr-chunks.ts';
import { FACTS_ATTR, FACTS_BUCKET_SEC, FACTS_NEST_LEVEL, decodeFacts } from '../../src/core/fact-spans.ts';
import { StringPool } from '../../src/core/facts.ts';
import { Attr, type AttrValue, type SpanRecord } from '../../src/core/model.ts';

/** Facts traces (cluster minutes) asked of one search: a minute of a large run holds megabytes of facts. */
export const FACTS_PAGE = 20;

interface Tag {
  key: string;
  value: unknown;
}
export interface FactsTrace {
  traceID: string;
  spans?: { tags?: Tag[] }[];
}

/** One search of the facts service: the facts traces with a span starting in [from, to] (µs), at most `limit`. */
export type FactsSearch = (tags: Record<string, string>, from: number, to: number, limit: number) => Promise<FactsTrace[]>;

const bucketUs = FACTS_BUCKET_SEC * 1e6;

/** The facts of one facts trace (its facts spans joined from their parts and decoded). */
export function factsOfTrace(t: FactsTrace, pool: StringPool): SpanRecord[] {
  const out: SpanRecord[] = [];
  for (const sp of t.spans ?? []) {
    const raw: Record<string, AttrValue> = {};
    for (const tag of sp.tags ?? []) raw[tag.key] = tag.value as AttrValue;
    const tags = joinAttributes(raw);
    if (tags[Attr.nestLevel] !== FACTS_NEST_LEVEL || typeof tags[FACTS_ATTR] !== 'string') continue;
    for (const f of decodeFacts(String(tags[Attr.cluster] ?? ''), tags[FACTS_ATTR], pool)) out.push(f);
  }
  return out;
}

/**
 * The facts of [from, to] (µs) as batches, one per facts trace; undefined when the range has no
 * facts trace at all (data written before facts existed: the caller reads the spans instead).
 */
export async function scanFactsTraces(
  search: FactsSearch,
  q: { cluster?: string; from: number; to: number },
  clusters?: () => Promise<string[]>,
): Promise<AsyncIterable<SpanRecord[]> | undefined> {
  const tags: Record<string, string> = { [Attr.nestLevel]: FACTS_NEST_LEVEL };
  if (q.cluster !== undefined) tags[Attr.cluster] = q.cluster;
  const first = await search(tags, q.from, q.to, FACTS_PAGE);
  if (first.length === 0) return undefined;
  return sweep(search, tags, q.from, q.to, first, clusters);
}

async function* sweep(
  search: FactsSearch,
  tags: Record<string, string>,
  from: number,
  to: number,
  first: FactsTrace[],
  clusters?: () => Promise<string[]>,
): AsyncIterable<SpanRecord[]> {
  const pool = new StringPool();
  const done = new Set<string>();
  const todo: { from: number; to: number; traces?: FactsTrace[]; cluster?: string }[] = [{ from, to, traces: first }];
  while (todo.length > 0) {
    const part = todo.pop()!;
    const partTags = part.cluster === undefined ? tags : { ...tags, [Attr.cluster]: part.cluster };
    const traces = part.traces ?? (await search(partTags, part.from, part.to, FACTS_PAGE));
    for (const t of traces) {
      if (done.has(t.traceID)) continue;
      done.add(t.traceID);
      yield factsOfTrace(t, pool);
    }
    if (traces.length < FACTS_PAGE || part.cluster !== undefined) continue;
    // full: some traces may be missing; halve at a minute boundary (a part of one minute cannot be)
    const firstBucket = Math.ceil(part.from / bucketUs) * bucketUs;
    const lastBucket = Math.floor(part.to / bucketUs) * bucketUs;
    if (lastBucket <= firstBucket && tags[Attr.cluster] === undefined && clusters) {
      // one minute of more clusters than a page: one search per cluster (one facts trace each)
      for (const cluster of await clusters()) todo.push({ from: part.from, to: part.to, cluster });
      continue;
    }
    if (lastBucket <= firstBucket) {
      throw new Error(
        `more than ${FACTS_PAGE} clusters' facts traces start at ${new Date(firstBucket / 1000).toISOString()} in Jaeger: diagnose one cluster at a time (--cluster)`,
      );
    }
    const mid = firstBucket + Math.floor((lastBucket - firstBucket) / bucketUs / 2 + 0.5) * bucketUs;
    todo.push({ from: part.from, to: mid - 1 }, { from: mid, to: part.to });
  }
}
