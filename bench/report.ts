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

const m = r.machine;
process.stdout.write(
  `Run ${r.date.slice(0, 16).replace('T', ' ')} UTC, commit ${r.commit}, \`${r.command}\`, ${m.cpus} × ${m.cpuModel}, ${m.memGb} GB RAM, Node ${m.node}; ` +
    `load average (1 min) at start ${m.loadAvgStart[0]}, per step ${Object.entries(r.loadAtStep ?? {})
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}.\n\n` +
    '| benchmark | throughput / latency | memory and size | aim |\n|---|---|---|---|\n' +
    rows.map((x) => `| ${x.join(' | ')} |`).join('\n') +
    '\n',
);
