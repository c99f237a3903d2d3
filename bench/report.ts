// Prints a results file (bench/results/latest.json) as the Markdown table docs/performance.md quotes.
//   node bench/report.ts [bench/results/latest.json]
import { readFileSync } from 'node:fs';

type Any = Record<string, any>;
const file = process.argv[2] ?? 'bench/results/latest.json';
const r = JSON.parse(readFileSync(file, 'utf8')) as Any;
const n = (x: unknown) => (typeof x === 'number' ? x.toLocaleString('en-US') : '–');
const mb = (b: unknown) => (typeof b === 'number' ? `${(b / 1e6).toLocaleString('en-US', { maximumFractionDigits: 0 })} MB` : '–');
const ok = (cond: boolean) => (cond ? '**met**' : '**missed**');
const rows: string[][] = [];

if (r.generate) {
  const g = r.generate;
  rows.push(['audit stream', `${n(g.events)} events, ${mb(g.bytes)} (${g.simulatedSeconds} s simulated)`, '', '']);
}
if (r.parse)
  rows.push(['bare `JSON.parse` (baseline)', `${n(r.parse.eventsPerSec)} events/s, ${r.parse.mbPerSec} MB/s`, `peak RSS ${r.parse.peakRssMb} MB`, '']);
if (r.readLog)
  rows.push(['`readAuditLogs` alone', `${n(r.readLog.eventsPerSec)} events/s, ${r.readLog.mbPerSec} MB/s`, `peak RSS ${r.readLog.peakRssMb} MB`, '']);
if (r.replay) {
  const p = r.replay;
  rows.push([
    'replay → embedded store',
    `${n(p.eventsPerSec)} events/s, ${p.mbPerSec} MB/s, ${p.seconds} s; ratio to bare parse **${p.ratioToParse}**`,
    `peak RSS ${p.peakRssMb} MB; ${n(p.spansWritten)} spans, ${n(p.objects)} objects, store ${mb(p.storeBytes)}`,
    `≥ 0.33: ${ok(p.ratioToParse >= r.aims.replayRatioToParse)}`,
  ]);
}
for (const w of [r.webhook, r.webhookHighConcurrency]) {
  if (!w) continue;
  rows.push([
    `webhook → OTLP → Jaeger, ${w.concurrency} batches in flight`,
    `**${n(w.acceptedEventsPerSec)} events/s** accepted (${n(w.events)} events in ${w.seconds} s)`,
    `kubetrail peak RSS ${w.kubetrailPeakRssMb} MB, CPU ${w.kubetrailCpuSec} s; Jaeger peak RSS ${w.jaegerPeakRssMb} MB`,
    `≥ 10,000/s: ${ok(w.acceptedEventsPerSec >= r.aims.webhookEventsPerSec)}`,
  ]);
  rows.push([
    '  lag stageTimestamp → exported',
    `POST round trip p50 **${w.postP50Ms} ms**, p99 **${w.postP99Ms} ms**; histogram p50 ${w.lagHistogramP50Sec} s, p99 ${w.lagHistogramP99Sec} s`,
    `visible in Jaeger query: ${w.visibleInJaegerMs.join(', ')} ms; sampled pods found ${w.sampledTracesFound}`,
    `p99 ≤ 2 s: ${ok(w.postP99Ms <= r.aims.webhookP99LagSec * 1000)}`,
  ]);
}
for (const p of [r.readPath, r.readPathJaeger]) {
  if (!p) continue;
  rows.push([
    `read path over the ${p.backend === 'jaeger' ? 'Jaeger query API' : 'embedded store'}`,
    `p50 **${p.p50Ms} ms**, p99 ${p.p99Ms} ms (${p.requests} GETs; first ${p.firstMs} ms)`,
    `${n(p.spansInTrace)} spans, ${mb(p.responseBytes)} JSON; process peak RSS ${p.serverPeakRssMb} MB`,
    `p50 ≤ 300 ms: ${ok(p.p50Ms <= r.aims.readPathP50Ms)}`,
  ]);
}
for (const [k, v] of Object.entries(r.errors ?? {})) rows.push([`${k}: failed`, String(v).slice(0, 200), '', '']);

/** The KWOK scale ladder (bench/kwok-scale.ts) as its own table: one row per step. */
function kwokScaleTable(k: Any, aimLag: number): string {
  const pct = (x: Any, c: string) => (typeof x.cpuPercent[c] === 'number' ? `${x.cpuPercent[c]} %` : '–');
  const mbOf = (x: Any, c: string) => (typeof x.peakRssMb[c] === 'number' ? Math.round(x.peakRssMb[c]).toLocaleString('en-US') : '–');
  const head =
    '| nodes | pods | step s | audit events/s | lag p50 / **p99** s | kubetrail request p99 s | API server write p99 s | CPU % of a core: kubetrail / **kube-apiserver** / etcd / kwok | peak RSS MB: kubetrail / kube-apiserver / etcd / kwok | webhook POSTs (non-2xx) / events dropped | traces complete | aim (lag p99 ≤ 2 s, CPU < kube-apiserver) |\n' +
    '|---|---|---|---|---|---|---|---|---|---|---|---|\n';
  const rows = (k.steps as Any[]).map((x) => {
    const posts = Object.values(x.webhookPosts as Record<string, number>).reduce((a, b) => a + b, 0);
    const bad = Object.entries(x.webhookPosts as Record<string, number>).reduce((a, [c, v]) => a + (c.startsWith('2') ? 0 : v), 0);
    const dropped = Object.values(x.audit.errorsByPlugin as Record<string, number>).reduce((a, b) => a + b, 0);
    const lagOk = typeof x.lagP99Sec === 'number' && x.lagP99Sec <= aimLag;
    const cpuOk = x.cpuSec.kubetrail < x.cpuSec['kube-apiserver'];
    const aim = `lag ${ok(lagOk)}, CPU ${ok(cpuOk)}${x.error ? `; **stopped**: ${String(x.error).slice(0, 160)}` : ''}`;
    return `| ${n(x.nodes)} | ${n(x.pods)} | ${x.seconds} | ${n(x.auditEventsPerSec)} | ${x.lagP50Sec ?? '–'} / **${x.lagP99Sec ?? '–'}** | ${x.requestP99Sec ?? '–'} | ${x.apiserverWriteP99Sec ?? '–'} | ${pct(x, 'kubetrail')} / **${pct(x, 'kube-apiserver')}** / ${pct(x, 'etcd')} / ${pct(x, 'kwok-controller')} | ${mbOf(x, 'kubetrail')} / ${mbOf(x, 'kube-apiserver')} / ${mbOf(x, 'etcd')} / ${mbOf(x, 'kwok-controller')} | ${n(posts)} (${n(bad)}) / ${n(dropped)} | ${n(x.traces.complete)} / ${n(x.traces.pods)} | ${aim} |`;
  });
  const info = `KWOK scale ladder ${k.date.slice(0, 16).replace('T', ' ')} UTC, commit ${k.commit}, steps ${k.ladder.join(', ')} nodes, ${k.deployments} Deployments of ${k.replicas} replicas in all per step, informers ${k.informers ? 'on' : 'off'}, load average (1 min) at start ${k.loadAvgStart?.[0] ?? '–'}${k.stopped ? `; stopped ${k.stopped}` : ''}.`;
  return `${info}\n\n${head}${rows.join('\n')}\n`;
}

const m = r.machine;
process.stdout.write(
  `Run ${r.date.slice(0, 16).replace('T', ' ')} UTC, commit ${r.commit}, \`${r.command}\`, ${m.cpus} × ${m.cpuModel}, ${m.memGb} GB RAM, Node ${m.node}; ` +
    `load average (1 min) at start ${m.loadAvgStart[0]}, per step ${Object.entries(r.loadAtStep ?? {})
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}.\n\n` +
    '| benchmark | throughput / latency | memory and size | aim |\n|---|---|---|---|\n' +
    rows.map((x) => `| ${x.join(' | ')} |`).join('\n') +
    '\n' +
    (r.kwokScale ? `\n${kwokScaleTable(r.kwokScale, r.aims.kwokLagP99Sec ?? 2)}` : ''),
);
