// The route's one-core limit: the webhook benchmark's events (the same KWOK scenario, the same
// 400-event EventList bodies) parsed and traced on this one thread, one Pipeline transaction per
// body, committed at once: no HTTP, no sink, no other thread. What `kubetrail serve` could take if
// its webhook thread did nothing else; the webhook benchmark's events/s against it says how close
// the whole path is to the single-threaded design's ceiling (docs/performance.md).
//   node bench/route.ts [--small] [--events N] [--rounds 3]
// Prints one JSON line: CPU seconds of JSON.parse alone and of parse + trace (best round), and a
// SHA-256 over every span of one more, untimed run (the same for the same spans: compare it across
// a change that must not change the output).
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { simulateEvents } from './generate-kwok-stream.ts';
import { webhookScenario } from './webhook-otlp.ts';
import { round } from './lib.ts';
import { Pipeline } from '../src/pipeline/pipeline.ts';

export interface RouteResult {
  events: number;
  spans: number;
  bodies: number;
  bodyMb: number;
  rounds: number;
  /** CPU seconds of JSON.parse of every body (the best round). */
  parseCpuSec: number;
  /** CPU seconds of parse + trace of every body (the best round; each round a fresh Pipeline). */
  routeCpuSec: number;
  /** events / routeCpuSec: the one-core ceiling. */
  eventsPerCpuSec: number;
  /** routeCpuSec − parseCpuSec, per event. */
  traceUsPerEvent: number;
  /** SHA-256 (hex) over the JSON of every span, in order. */
  spansSha256: string;
}

const cpuSec = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

const eventList = (items: string[]): string => `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[${items.join(',')}]}`;

/** The EventList bodies the webhook benchmark sends (its timestamps are the generator's). */
function buildBodies(small: boolean, events: number): { bodies: string[]; n: number } {
  const bodies: string[] = [];
  const items: string[] = [];
  let n = 0;
  for (const { event } of simulateEvents(webhookScenario(small))) {
    items.push(JSON.stringify(event));
    if (items.length === 400) bodies.push(eventList(items.splice(0)));
    if (++n >= events) break;
  }
  if (items.length) bodies.push(eventList(items));
  return { bodies, n };
}

function traceAll(bodies: string[], hash?: ReturnType<typeof createHash>): number {
  const pipeline = new Pipeline({});
  let spans = 0;
  for (const body of bodies) {
    const tx = pipeline.begin();
    for (const item of (JSON.parse(body) as { items: unknown[] }).items) {
      const out = tx.auditEvent(item, 'bench').spans;
      spans += out.length;
      if (hash) for (const span of out) hash.update(JSON.stringify(span));
    }
    tx.commit();
  }
  return spans;
}

export function routeBench(small: boolean, events: number, rounds: number): RouteResult {
  const { bodies, n } = buildBodies(small, events);
  let parse = Infinity;
  let route = Infinity;
  let spans = 0;
  for (let i = 0; i < rounds; i++) {
    let t = cpuSec();
    for (const body of bodies) JSON.parse(body);
    parse = Math.min(parse, cpuSec() - t);
    t = cpuSec();
    spans = traceAll(bodies);
    route = Math.min(route, cpuSec() - t);
  }
  const hash = createHash('sha256');
  traceAll(bodies, hash);
  return {
    events: n,
    spans,
    bodies: bodies.length,
    bodyMb: round(bodies.reduce((a, b) => a + Buffer.byteLength(b), 0) / 1e6),
    rounds,
    parseCpuSec: round(parse, 2),
    routeCpuSec: round(route, 2),
    eventsPerCpuSec: Math.round(n / route),
    traceUsPerEvent: round(((route - parse) / n) * 1e6, 1),
    spansSha256: hash.digest('hex'),
  };
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { small: { type: 'boolean' }, events: { type: 'string' }, rounds: { type: 'string' } } });
  const small = values.small ?? false;
  const events = Number(values.events ?? (small ? 40_000 : 200_000));
  console.log(JSON.stringify(routeBench(small, events, Number(values.rounds ?? 3))));
}
