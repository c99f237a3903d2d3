// Webhook → OTLP → Jaeger benchmark.
// Starts a real Jaeger v2 (deploy/stack/jaeger.sh, free ports, in-memory storage) and
// `kubetrail serve --otlp-endpoint ...` as a child process, then POSTs audit.k8s.io/v1 EventLists of
// --batch events (kube-apiserver's --audit-webhook-batch-max-size default, 400) from --concurrency
// workers, as the API server's batching webhook backend does, on loopback only.
// Every event's requestReceivedTimestamp/stageTimestamp is "now" when its batch is sent, so:
//  - the POST round trip (the webhook answers 200 only once the spans are acknowledged by Jaeger's
//    collector) is the lag of that batch's events, measured exactly by the client;
//  - kubetrail's own kubetrail_event_lag_seconds histogram (/metrics) gives the same from inside;
//  - probe events afterwards measure stageTimestamp → trace visible in Jaeger's query API.
//   node bench/webhook-otlp.ts [--small] [--stream kwok|synthetic] [--events N] [--batch 400] [--concurrency 4] [--live-window 0] [--live-interval 15s]
// --stream synthetic: only the pod writes of the same scenario (create, binding, status, delete),
// without managedFields — small pods, the shape of a synthetic pod load generator; the default
// (kwok) is every write KWOK's cluster makes, 5 KB pods with managedFields as the audit policy keeps them.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { microTime } from './kwok-objects.ts';
import { simulateEvents, fullSize, type StreamOptions } from './generate-kwok-stream.ts';
import {
  REPO_ROOT,
  cpuSeconds,
  freePort,
  histogramBuckets as buckets,
  metricSum,
  peakRssMb,
  percentile,
  quantileOfDiff,
  round,
  startDaemon,
  startJaeger,
  stopChild,
  waitFor,
} from './lib.ts';
import { rawTraceId, windowStartSec } from '../src/core/ids.ts';
import { objectKey } from '../src/core/model.ts';

export type WebhookStream = 'kwok' | 'synthetic';

export interface WebhookResult {
  /** Which events were sent (see --stream above). */
  stream: WebhookStream;
  events: number;
  batches: number;
  batchSize: number;
  concurrency: number;
  seconds: number;
  acceptedEventsPerSec: number;
  retriedBatches: number;
  failedBatches: number;
  postP50Ms: number;
  postP99Ms: number;
  lagHistogramP50Sec?: number;
  lagHistogramP99Sec?: number;
  lagHistogramCount?: number;
  spansExported: number;
  visibleInJaegerMs: number[];
  sampledTracesFound: string;
  kubetrailPeakRssMb?: number;
  kubetrailCpuSec?: number;
  /** kubetrail's CPU seconds (start, warm-up and probes included) per 10,000 events accepted. */
  cpuSecPer10kEvents?: number;
  /** Mean size of an event in the bodies sent (JSON bytes). */
  meanEventBytes: number;
  jaegerPeakRssMb?: number;
  loadGeneratorBuildSec: number;
  /** The serve flags of the live findings given (none: serve's defaults). */
  liveFlags: string[];
  /** Live diagnosis runs during the whole run, their mean time, and the facts of the window at the end. */
  liveRuns: number;
  liveDiagnosisMeanSec?: number;
  liveWindowFacts: number;
}

const PLACEHOLDER = '@@NOW@@';
const CLUSTER = 'bench';
const WINDOW_SEC = 1800;

/** The synthetic stream's event: a pod write without managedFields (undefined for other writes). */
function syntheticEvent(event: Record<string, unknown>, resource: string): Record<string, unknown> | undefined {
  if (resource !== 'pods' && !resource.startsWith('pods/')) return undefined;
  for (const k of ['requestObject', 'responseObject'] as const) {
    const meta = (event[k] as { metadata?: Record<string, unknown> } | undefined)?.metadata;
    if (meta) delete meta.managedFields;
  }
  return event;
}

/** Pre-serialises the EventList bodies, split at the timestamps so sending only joins strings. */
function buildBatches(total: number, batchSize: number, scenario: StreamOptions, stream: WebhookStream) {
  const batches: string[][] = [];
  const podSamples: Array<{ namespace: string; name: string }> = [];
  let items: string[] = [];
  let n = 0;
  let bytes = 0;
  const flush = () => {
    batches.push(`{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[${items.join(',')}]}`.split(PLACEHOLDER));
    items = [];
  };
  for (const sim of simulateEvents(scenario)) {
    const event = stream === 'synthetic' ? syntheticEvent(sim.event, sim.resource) : sim.event;
    if (!event) continue;
    event.requestReceivedTimestamp = PLACEHOLDER;
    event.stageTimestamp = PLACEHOLDER;
    const text = JSON.stringify(event);
    bytes += text.length;
    items.push(text);
    if (sim.resource === 'pods/binding' && podSamples.length < 1000) {
      const ref = event.objectRef as { namespace: string; name: string };
      podSamples.push({ namespace: ref.namespace, name: ref.name });
    }
    if (items.length === batchSize) flush();
    if (++n >= total) break;
  }
  if (items.length > 0) flush();
  return { batches, events: n, podSamples, meanEventBytes: Math.round(bytes / Math.max(1, n)) };
}

export async function webhookBench(o: {
  events: number;
  batch: number;
  concurrency: number;
  workdir: string;
  scenario: StreamOptions;
  stream?: WebhookStream;
  /** serve flags of the live findings, e.g. ['--live-window', '0'] (docs/diagnose.md). */
  liveFlags?: string[];
}): Promise<WebhookResult> {
  const tb = performance.now();
  const stream = o.stream ?? 'kwok';
  const { batches, events, podSamples, meanEventBytes } = buildBatches(o.events, o.batch, o.scenario, stream);
  const loadGeneratorBuildSec = round((performance.now() - tb) / 1000, 1);
  process.stderr.write(`[webhook] ${stream} stream: ${events} events in ${batches.length} EventLists prepared in ${loadGeneratorBuildSec}s\n`);

  // ---- Jaeger ----
  const jaeger = await startJaeger(join(o.workdir, 'jaeger'));
  const jaegerQuery = jaeger.queryUrl;

  // ---- kubetrail serve ----
  const webhookPort = await freePort();
  // BENCH_CPU_PROF=DIR profiles the kubetrail process (node --cpu-prof; written when it exits)
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : [];
  const kt = startDaemon(
    process.execPath,
    [
      ...prof,
      join(REPO_ROOT, 'src/cli.ts'),
      'serve',
      '--webhook-port',
      String(webhookPort),
      '--webhook-host',
      '127.0.0.1',
      '--cluster',
      CLUSTER,
      '--no-informers',
      '--no-query',
      '--otlp-endpoint',
      jaeger.otlpGrpcEndpoint,
      '--log-level',
      'warn',
      ...(o.liveFlags ?? []),
    ],
    { KUBECONFIG: '/nonexistent' },
  );
  const base = `http://127.0.0.1:${webhookPort}`;
  try {
    await waitFor('kubetrail serve /readyz', 60_000, async () => {
      if (kt.child.exitCode !== null) throw new Error(`kubetrail serve exited: ${kt.output().slice(-2000)}`);
      return (await fetch(`${base}/readyz`)).ok;
    }).catch((e) => {
      throw new Error(`${(e as Error).message}\n${kt.output().slice(-2000)}`);
    });

    const post = async (body: string): Promise<number> => {
      const res = await fetch(`${base}/audit/${CLUSTER}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      await res.arrayBuffer();
      return res.status;
    };
    // warm-up (JIT, gRPC connection): two batches, not measured
    for (const segs of batches.slice(0, 2)) await post(segs.join(microTime(Date.now() * 1000)));
    const metricsBefore = await (await fetch(`${base}/metrics`)).text();

    // ---- measured load ----
    const latencies: number[] = [];
    let next = 2;
    let retried = 0;
    let failed = 0;
    let accepted = 0;
    const t0 = performance.now();
    const worker = async () => {
      for (;;) {
        const i = next++;
        if (i >= batches.length) return;
        const segs = batches[i]!;
        const body = segs.join(microTime(Date.now() * 1000));
        const sent = performance.now();
        for (let attempt = 0; ; attempt++) {
          const status = await post(body).catch(() => 0);
          if (status >= 200 && status < 300) {
            latencies.push(performance.now() - sent);
            accepted += (segs.length - 1) / 2; // two timestamps per event
            break;
          }
          if (attempt === 0) retried++;
          if (attempt >= 20) {
            failed++;
            break;
          }
          await new Promise((r) => setTimeout(r, 1000)); // the API server backs off and retries the batch
        }
      }
    };
    await Promise.all(Array.from({ length: o.concurrency }, worker));
    const seconds = (performance.now() - t0) / 1000;
    const metricsAfter = await (await fetch(`${base}/metrics`)).text();
    latencies.sort((a, b) => a - b);
    const bBefore = buckets(metricsBefore, 'kubetrail_event_lag_seconds');
    const bAfter = buckets(metricsAfter, 'kubetrail_event_lag_seconds');
    const p50 = quantileOfDiff(bBefore, bAfter, 0.5);
    const p99 = quantileOfDiff(bBefore, bAfter, 0.99);

    // ---- probes: stageTimestamp → span visible in Jaeger's query API ----
    const visible: number[] = [];
    for (let i = 0; i < 5; i++) {
      const name = `bench-probe-${Date.now()}-${i}`;
      const nowUs = Date.now() * 1000;
      const ev = {
        kind: 'Event',
        apiVersion: 'audit.k8s.io/v1',
        level: 'RequestResponse',
        auditID: crypto.randomUUID(),
        stage: 'ResponseComplete',
        requestURI: '/api/v1/namespaces/default/configmaps',
        verb: 'create',
        user: { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] },
        sourceIPs: ['127.0.0.1'],
        userAgent: 'bench',
        objectRef: { resource: 'configmaps', namespace: 'default', name, apiVersion: 'v1' },
        responseStatus: { metadata: {}, code: 201 },
        requestObject: { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name, namespace: 'default' }, data: { a: '1' } },
        responseObject: {
          kind: 'ConfigMap',
          apiVersion: 'v1',
          metadata: {
            name,
            namespace: 'default',
            uid: crypto.randomUUID(),
            resourceVersion: '1',
            creationTimestamp: new Date().toISOString().slice(0, 19) + 'Z',
          },
          data: { a: '1' },
        },
        requestReceivedTimestamp: microTime(nowUs),
        stageTimestamp: microTime(nowUs),
      };
      const t = performance.now();
      await post(JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', metadata: {}, items: [ev] }));
      const id = rawTraceId(objectKey({ cluster: CLUSTER, group: '', resource: 'configmaps', namespace: 'default', name }), windowStartSec(nowUs, WINDOW_SEC));
      let seen = false;
      while (performance.now() - t < 30_000) {
        const r = await fetch(`${jaegerQuery}/api/traces/${id}`);
        const body = await r.text();
        if (r.ok && body.includes('"spanID"')) {
          seen = true;
          break;
        }
        await new Promise((r2) => setTimeout(r2, 20));
      }
      visible.push(seen ? round(performance.now() - t, 0) : -1);
    }

    // ---- sampled pods from the load: their traces must be in Jaeger ----
    let found = 0;
    const sample = podSamples.filter((_, i) => i % Math.max(1, Math.floor(podSamples.length / 10)) === 0).slice(0, 10);
    const nowUs = Date.now() * 1000;
    for (const p of sample) {
      const key = objectKey({ cluster: CLUSTER, group: '', resource: 'pods', namespace: p.namespace, name: p.name });
      for (const w of [windowStartSec(nowUs, WINDOW_SEC), windowStartSec(nowUs - WINDOW_SEC * 1e6, WINDOW_SEC)]) {
        const r = await fetch(`${jaegerQuery}/api/traces/${rawTraceId(key, w)}`);
        if (r.ok && (await r.text()).includes('"spanID"')) {
          found++;
          break;
        }
      }
    }

    const kubetrailCpuSec = cpuSeconds(kt.child.pid!);
    return {
      stream,
      events: accepted,
      batches: batches.length - 2,
      batchSize: o.batch,
      concurrency: o.concurrency,
      seconds: round(seconds, 2),
      acceptedEventsPerSec: Math.round(accepted / seconds),
      retriedBatches: retried,
      failedBatches: failed,
      postP50Ms: round(percentile(latencies, 50)),
      postP99Ms: round(percentile(latencies, 99)),
      lagHistogramP50Sec: p50.value !== undefined ? round(p50.value, 3) : undefined,
      lagHistogramP99Sec: p99.value !== undefined ? round(p99.value, 3) : undefined,
      lagHistogramCount: p50.count,
      spansExported: metricSum(metricsAfter, 'kubetrail_spans_written_total'),
      visibleInJaegerMs: visible,
      sampledTracesFound: `${found}/${sample.length}`,
      kubetrailPeakRssMb: peakRssMb(kt.child.pid!),
      kubetrailCpuSec,
      cpuSecPer10kEvents: kubetrailCpuSec !== undefined ? round((kubetrailCpuSec / accepted) * 10_000, 2) : undefined,
      meanEventBytes,
      jaegerPeakRssMb: jaeger.pid ? peakRssMb(jaeger.pid) : undefined,
      loadGeneratorBuildSec,
      liveFlags: o.liveFlags ?? [],
      liveRuns: metricSum(metricsAfter, 'kubetrail_live_diagnosis_runs_total'),
      liveDiagnosisMeanSec: liveMean(metricsAfter),
      liveWindowFacts: metricSum(metricsAfter, 'kubetrail_live_window_facts'),
    };
  } finally {
    await stopChild(kt.child, 30_000);
    await jaeger.stop();
  }
}

function liveMean(metrics: string): number | undefined {
  const n = metricSum(metrics, 'kubetrail_live_diagnosis_seconds_count');
  return n ? round(metricSum(metrics, 'kubetrail_live_diagnosis_seconds_sum') / n, 3) : undefined;
}

/**
 * The events the load generator replays: the first part of a mid-size KWOK scenario. The synthetic
 * stream keeps only its pod writes (5 per pod), so its scenario has a third more pods to fill 200,000.
 */
export function webhookScenario(small: boolean, stream: WebhookStream = 'kwok'): StreamOptions {
  const scenario = small ? { ...fullSize, nodes: 500, pods: 5000, deployments: 5, namespaces: 5 } : { ...fullSize, nodes: 3000, pods: 30_000, deployments: 30 };
  return stream === 'synthetic' ? { ...scenario, pods: small ? 8000 : 40_000 } : scenario;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      small: { type: 'boolean' },
      stream: { type: 'string' },
      events: { type: 'string' },
      batch: { type: 'string' },
      concurrency: { type: 'string' },
      workdir: { type: 'string' },
      'live-window': { type: 'string' },
      'live-interval': { type: 'string' },
    },
  });
  const liveFlags = (['live-window', 'live-interval'] as const).flatMap((k) => (values[k] !== undefined ? [`--${k}`, values[k]!] : []));
  const small = Boolean(values.small);
  const stream = values.stream ?? 'kwok';
  if (stream !== 'kwok' && stream !== 'synthetic') throw new Error(`--stream: kwok or synthetic, not ${stream}`);
  const r = await webhookBench({
    stream,
    events: Number(values.events ?? (small ? 40_000 : 200_000)),
    batch: Number(values.batch ?? 400),
    concurrency: Number(values.concurrency ?? 4),
    workdir: values.workdir ?? join(REPO_ROOT, '.kubetrail/bench'),
    scenario: webhookScenario(small, stream),
    liveFlags,
  });
  process.stdout.write(JSON.stringify(r) + '\n');
}
