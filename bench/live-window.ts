// The live findings' window alone (frontend-plugin/diagnose/live.ts), on the facts the OTLP export
// worker hands over of the webhook benchmark's KWOK stream: what taking them in costs, and the heap
// (plus ArrayBuffers) the window holds, kept as LiveWindow keeps them (compressed payloads) against
// parsed into facts (the window before issue 20), and one detector run over it.
//   node --expose-gc bench/live-window.ts [--events 200000] [--parsed]
import { parseArgs } from 'node:util';
import { decodeFacts } from '../src/core/fact-spans.ts';
import { StringPool } from '../src/core/facts.ts';
import type { SpanRecord } from '../src/core/model.ts';
import { Pipeline } from '../src/pipeline/pipeline.ts';
import type { FactsBatch } from '../src/sinks/facts-feed.ts';
import { factsBatch, factsOfRows, spansToRows } from '../src/sinks/otlp-rows.ts';
import { LiveWindow } from '../frontend-plugin/diagnose/live.ts';
import { simulateEvents } from './generate-kwok-stream.ts';
import { webhookScenario } from './webhook-otlp.ts';

/** The batches the OTLP worker would hand over for `events` events, 400 a request, a second apart. */
function handedOver(events: number): FactsBatch[] {
  const p = new Pipeline();
  const out: FactsBatch[] = [];
  let spans: SpanRecord[] = [];
  let n = 0;
  const nowMs = Date.now();
  for (const { event } of simulateEvents(webhookScenario(false))) {
    const t = new Date(nowMs - (events - n)).toISOString().replace('Z', '000Z');
    event.requestReceivedTimestamp = t;
    event.stageTimestamp = t;
    spans.push(...p.auditEvent(event, 'bench').spans);
    if (++n % 400 === 0 || n === events) {
      out.push(structuredClone(factsBatch(factsOfRows(spansToRows(spans))).batch));
      spans = [];
    }
    if (n >= events) break;
  }
  return out;
}

if (import.meta.main) {
  const { values } = parseArgs({ args: process.argv.slice(2), options: { events: { type: 'string' }, parsed: { type: 'boolean' } } });
  const gc = globalThis.gc;
  if (!gc) throw new Error('run with node --expose-gc');
  const memory = (): number => {
    gc();
    gc();
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const state: { batches: FactsBatch[]; window?: LiveWindow | SpanRecord[] } = { batches: handedOver(Number(values.events ?? 200_000)) };
  const facts = state.batches.reduce((a, b) => a + b.payloads.reduce((n, p) => n + p.starts.length, 0), 0);
  const before = memory();
  const t0 = process.cpuUsage();
  if (values.parsed) {
    const pool = new StringPool();
    const all: SpanRecord[] = [];
    // as the window before issue 20: each payload parsed as it came (a structured clone, as from the feed)
    for (const b of state.batches) for (const p of structuredClone(b).payloads) for (const f of decodeFacts(p.cluster, p.json, pool)) all.push(f);
    state.window = all;
  } else {
    const w = new LiveWindow({ windowSec: 86_400, intervalSec: 15, maxFacts: 1e9 });
    for (const b of state.batches) w.addFacts(structuredClone(b));
    state.window = w;
  }
  const cpu = process.cpuUsage(t0);
  const held = memory() - before;
  const result: Record<string, unknown> = {
    kept: values.parsed ? 'parsed' : 'compressed',
    facts,
    takeInCpuSec: Math.round((cpu.user + cpu.system) / 1e4) / 100,
    windowMb: Math.round(held / 1e5) / 10,
    bytesPerFact: Math.round(held / facts),
  };
  if (state.window instanceof LiveWindow) {
    const r = state.window.run();
    Object.assign(result, { runSec: r.live.durationMs / 1000, runFacts: r.live.facts });
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
