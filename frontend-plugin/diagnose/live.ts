// Live findings: while `serve` (or the Kafka trace role) runs, the facts of the spans its sink made
// durable (compactSpan, src/core/facts.ts) are kept over a sliding window, and every interval the
// diagnosis detectors run over them (buildReport: the same rules and thresholds as `kubetrail
// diagnose`). The report is served at GET /api/findings/live and counted into the Prometheus
// metrics kubetrail_findings{detector,severity,namespace} & co (src/core/metrics.ts).
// Off the request path: the sink's writer thread, which computes the facts of what it writes anyway
// (facts spans, the facts table), posts the facts of each acknowledged batch straight to the live
// findings' worker thread (src/sinks/facts-feed.ts), which keeps the window and runs the detectors
// when the timer asks. The webhook's thread neither copies spans nor computes facts for it
// (docs/diagnose.md "Live findings").
import { performance } from 'node:perf_hooks';
import { constants, zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { decodeFacts, encodeCompactedFacts } from '../../src/core/fact-spans.ts';
import { compactSpan, NoPool, StringPool } from '../../src/core/facts.ts';
import { log } from '../../src/core/log.ts';
import { LIVE_MAX_NAMESPACES, liveFindings as findingsGauge, liveRuns, liveSeconds, liveWindowDropped, liveWindowFacts } from '../../src/core/metrics.ts';
import type { SpanRecord } from '../../src/core/model.ts';
import type { SpanSink } from '../../src/core/sink.ts';
import { factsChannel, isFactsSource, type FactsBatch, type FeedEnd } from '../../src/sinks/facts-feed.ts';
import { WorkerRpc } from '../../src/sinks/worker-rpc.ts';
import { buildReport } from './report.ts';
import type { Finding, Report, Thresholds } from './types.ts';

export interface LiveOptions {
  /** Seconds of spans kept (by start time). */
  windowSec: number;
  /** Seconds between diagnosis runs. */
  intervalSec: number;
  /** Facts kept at most; beyond, the oldest are dropped (and the report says so). */
  maxFacts: number;
  thresholds?: Partial<Thresholds>;
  /** Milliseconds since the epoch (tests). */
  now?: () => number;
}

/** A Report of the window, plus what the window was. */
export interface LiveReport extends Report {
  live: {
    windowSec: number;
    intervalSec: number;
    /** ISO 8601: when this report was computed. */
    computedAt: string;
    durationMs: number;
    /** Facts in the window the detectors saw. */
    facts: number;
    maxFacts: number;
    /** Facts dropped because the window was full, since the process started. */
    droppedFacts: number;
    /** Facts the sink's writer did not hand over because this worker was FEED_MAX_QUEUED_BATCHES behind (busy CPUs), since the process started: the window has gaps. */
    skippedFacts?: number;
    /** Set while the window holds less than windowSec: facts before this ISO time were dropped (the report's start). */
    truncatedBefore?: string;
    /** ISO 8601: about when the next run starts (later than intervalSec when runs take long: LIVE_MAX_DUTY). */
    nextRunAt?: string;
  };
}

/**
 * The sliding window and its diagnosis, synchronous: runs in the live findings' worker thread
 * (live-worker.ts), and directly in tests.
 *
 * The window keeps the facts as the sink's writer handed them over, FactsPayload JSON with their
 * start times (EncodedFacts, src/core/fact-spans.ts), compressed (zstd at level 1: ≈ 14× smaller, a
 * few buffers instead of 200,000 objects for the garbage collector to walk, and cheaper than parsing
 * them), and parses them only at a run. It
 * evicts by time and by count on the start times alone, fact by fact in arrival order, so a run sees
 * exactly the facts a window of parsed facts would.
 */
export class LiveWindow {
  readonly #o: LiveOptions;
  readonly #now: () => number;
  /** Payloads in arrival order, the live ones from #head on; the first #skip facts of #chunks[#head] are dropped. */
  #chunks: Chunk[] = [];
  #head = 0;
  #skip = 0;
  #size = 0;
  #dropped = 0;
  /** Start time of the newest fact dropped for the cap (the window is cut there). */
  #cutUs = -Infinity;

  constructor(o: LiveOptions) {
    if (!(o.windowSec > 0) || !(o.intervalSec > 0) || !(o.maxFacts > 0)) throw new Error('live findings: window, interval and max facts must be positive');
    this.#o = o;
    this.#now = o.now ?? Date.now;
  }

  /** Keeps the facts of these durable spans (event and link spans only). */
  add(spans: readonly SpanRecord[]): void {
    const pool = new NoPool();
    const facts = spans.filter((s) => s.kind === 'event' || s.kind === 'link').map((s) => compactSpan(s, pool));
    this.addFacts({ payloads: encodeCompactedFacts(facts) });
  }

  /** Keeps the facts a sink's writer handed over (src/sinks/facts-feed.ts) as they are: parsed at a run. */
  addFacts(b: FactsBatch): void {
    if (!b.payloads.every((p) => typeof p.cluster === 'string' && typeof p.json === 'string' && p.starts instanceof Float64Array))
      throw new Error('not a batch of facts payloads');
    for (const p of b.payloads) {
      if (p.starts.length === 0) continue;
      this.#chunks.push({ cluster: p.cluster, packed: pack(p.json), starts: p.starts });
      this.#size += p.starts.length;
    }
    const over = this.#size - this.#o.maxFacts;
    if (over > 0) {
      this.#dropHead(over, true);
      this.#dropped += over;
    }
  }

  /** Drops n facts from the head, the oldest in arrival order (cut: the window is cut at the newest of them). */
  #dropHead(n: number, cut: boolean): void {
    for (let left = n; left > 0; ) {
      const starts = this.#chunks[this.#head]!.starts;
      const k = Math.min(left, starts.length - this.#skip);
      if (cut) for (let i = this.#skip; i < this.#skip + k; i++) if (starts[i]! > this.#cutUs) this.#cutUs = starts[i]!;
      this.#skip += k;
      this.#size -= k;
      left -= k;
      if (this.#skip === starts.length) this.#nextChunk();
    }
    this.#compactArray();
  }

  #nextChunk(): void {
    this.#chunks[this.#head] = EMPTY; // its buffer can go now
    this.#head++;
    this.#skip = 0;
  }

  /** Drops facts older than the window (arrival order is start order but for stragglers, which the report filters). */
  #expire(cutoffUs: number): void {
    while (this.#head < this.#chunks.length) {
      const starts = this.#chunks[this.#head]!.starts;
      while (this.#skip < starts.length && starts[this.#skip]! < cutoffUs) {
        this.#skip++;
        this.#size--;
      }
      if (this.#skip < starts.length) break;
      this.#nextChunk();
    }
    this.#compactArray();
  }

  #compactArray(): void {
    if (this.#head > 64 && this.#head * 2 > this.#chunks.length) {
      this.#chunks = this.#chunks.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Facts the window holds. */
  size(): number {
    return this.#size;
  }

  /** The window's facts that start at startUs or later, parsed now (a payload that cannot be read is logged and dropped). */
  #facts(startUs: number): SpanRecord[] {
    const pool = new StringPool();
    const out: SpanRecord[] = [];
    for (let c = this.#head; c < this.#chunks.length; c++) {
      const p = this.#chunks[c]!;
      let facts: SpanRecord[];
      try {
        facts = decodeFacts(p.cluster, zstdDecompressSync(p.packed).toString('utf8'), pool);
        if (facts.length !== p.starts.length) throw new Error(`facts span of cluster ${p.cluster}: ${facts.length} facts, ${p.starts.length} start times`);
      } catch (err) {
        // the sink's own encoding, so never expected: these facts are lost, the window goes on
        log.warn({ err: (err as Error).message }, 'live findings: facts the sink handed over could not be read');
        this.#size -= p.starts.length - (c === this.#head ? this.#skip : 0);
        if (c === this.#head) this.#nextChunk();
        else this.#chunks[c] = EMPTY;
        continue;
      }
      for (let i = c === this.#head ? this.#skip : 0; i < facts.length; i++) if (facts[i]!.startUs >= startUs) out.push(facts[i]!);
    }
    return out;
  }

  /** Runs the detectors over the window now. */
  run(): LiveReport {
    const t0 = performance.now();
    const nowUs = this.#now() * 1000;
    const cutoff = nowUs - this.#o.windowSec * 1e6;
    this.#expire(cutoff);
    const startUs = Math.max(cutoff, this.#cutUs);
    const facts = this.#facts(startUs);
    const report = buildReport(facts, { startUs, endUs: nowUs, thresholds: this.#o.thresholds });
    const live: LiveReport['live'] = {
      windowSec: this.#o.windowSec,
      intervalSec: this.#o.intervalSec,
      computedAt: new Date(this.#now()).toISOString(),
      durationMs: Math.round(performance.now() - t0),
      facts: facts.length,
      maxFacts: this.#o.maxFacts,
      droppedFacts: this.#dropped,
    };
    if (this.#cutUs > cutoff) live.truncatedBefore = new Date(Math.floor(this.#cutUs / 1000)).toISOString();
    return { ...report, live };
  }
}

/** A facts payload as the window keeps it: its JSON compressed. */
interface Chunk {
  cluster: string;
  packed: Uint8Array;
  starts: Float64Array;
}

/** A payload whose facts are all dropped. */
const EMPTY: Chunk = { cluster: '', packed: new Uint8Array(0), starts: new Float64Array(0) };

/**
 * JSON compressed with zstd at level 1 (node:zlib; experimental in Node 24, without a warning): in a
 * buffer of its own (zlib's output may be a view of a larger one).
 */
function pack(json: string): Uint8Array {
  const z = zstdCompressSync(json, { params: { [constants.ZSTD_c_compressionLevel]: 1 } });
  return z.byteLength === z.buffer.byteLength ? z : new Uint8Array(z.buffer, z.byteOffset, z.byteLength).slice();
}

/** Share of the time the detectors may run: a run that took d seconds waits d × 19 before the next. */
export const LIVE_MAX_DUTY = 0.05;

/** Scheduling priority (nice) of the worker thread: below the webhook's when the CPUs are busy. */
export const LIVE_NICE = 10;

/** What the main thread asks the worker (live-worker.ts): take a sink writer's facts feed, or run. */
export type LiveRequest = { feed: FeedEnd } | { run: true };

/**
 * The live findings of a process that writes spans: has its sink's writer thread hand the facts of
 * what the sink acknowledged to a worker thread that keeps the window and runs the detectors (a run
 * over 50,000 facts takes seconds: on the webhook's event loop it would hold every answer that
 * long), and publishes each report to /metrics and GET /api/findings/live.
 */
export class LiveFindings {
  readonly #o: LiveOptions;
  readonly #rpc: WorkerRpc<LiveRequest, LiveReport | null>;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #last: LiveReport | undefined;
  #droppedSeen = 0;
  #skippedSeen = 0;

  constructor(o: Omit<LiveOptions, 'now'>) {
    new LiveWindow(o); // the same checks, here where they can be reported
    this.#o = o;
    this.#rpc = new WorkerRpc(new URL('./live-worker.ts', import.meta.url), o, 'live findings');
  }

  /**
   * Feeds the window from this sink: its writer thread hands over the facts of every batch it gets
   * acknowledged (OTLP, store). Before the sink's first write; returns the sink itself.
   */
  tap<S extends SpanSink>(sink: S): S {
    if (!isFactsSource(sink)) throw new Error('live findings: this sink does not hand over the facts of what it writes');
    sink.feedFacts(() => this.#openFeed());
    return sink;
  }

  /** A channel from a (new) writer thread of the sink to the worker: the worker takes its end now. */
  #openFeed(): FeedEnd {
    const { writer, consumer } = factsChannel();
    this.#rpc
      .call({ feed: consumer }, [consumer.port])
      .catch((err) => log.warn({ err: (err as Error).message }, 'live findings: the worker did not take the feed'));
    return writer;
  }

  /** Runs the detectors over the window now (in the worker), updates the metrics and returns the report. */
  async run(): Promise<LiveReport> {
    const t0 = performance.now();
    const report = (await this.#rpc.call({ run: true }))!;
    this.#countSkipped(report.live.skippedFacts ?? 0);
    if (this.#timer) report.live.nextRunAt = new Date(Date.now() + this.#pauseSec((performance.now() - t0) / 1000) * 1000).toISOString();
    this.#last = report;
    setMetrics(report.findings);
    liveWindowFacts.set(report.live.facts);
    liveSeconds.observe((performance.now() - t0) / 1000);
    liveRuns.inc({ outcome: report.detectors.some((d) => d.failed) ? 'failed' : 'ok' });
    const dropped = report.live.droppedFacts - this.#droppedSeen;
    if (dropped > 0) {
      if (!this.#droppedSeen)
        log.warn(
          { maxFacts: this.#o.maxFacts },
          'live findings: the window is full, dropping its oldest facts (raise --live-max-facts or shorten --live-window)',
        );
      liveWindowDropped.inc(dropped);
      this.#droppedSeen = report.live.droppedFacts;
    }
    return report;
  }

  /** Facts the sink's writer skipped since the last run: counted as dropped, and logged the first time. */
  #countSkipped(skipped: number): void {
    if (skipped <= this.#skippedSeen) return;
    if (!this.#skippedSeen) log.warn('live findings: the worker is behind, the sink skipped handing over facts (the live window has gaps)');
    liveWindowDropped.inc(skipped - this.#skippedSeen);
    this.#skippedSeen = skipped;
  }

  /** The last report, undefined before the first run. */
  report(): LiveReport | undefined {
    return this.#last;
  }

  /**
   * Runs every intervalSec, one run at a time, and never more than LIVE_MAX_DUTY of the time: a run
   * that took d seconds is followed by a pause of at least d × (1 / LIVE_MAX_DUTY − 1). The timer
   * does not keep the process alive.
   */
  start(): void {
    if (this.#stopped || this.#timer) return;
    const next = (tookSec: number) => {
      if (this.#stopped) return;
      const waitSec = this.#pauseSec(tookSec);
      this.#timer = setTimeout(() => {
        const t0 = performance.now();
        this.run()
          .catch((err) => {
            liveRuns.inc({ outcome: 'failed' });
            log.error({ err: (err as Error).message }, 'live findings: diagnosis run failed');
          })
          .finally(() => next((performance.now() - t0) / 1000));
      }, waitSec * 1000);
      this.#timer.unref();
    };
    next(0);
  }

  #pauseSec(tookSec: number): number {
    return Math.max(this.#o.intervalSec, tookSec * (1 / LIVE_MAX_DUTY - 1));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#rpc.shutdown();
  }
}

/** kubetrail_findings as of this run: counts by detector, severity and namespace (bounded, see LIVE_MAX_NAMESPACES). */
function setMetrics(findings: readonly Finding[]): void {
  const perNs = new Map<string, number>();
  for (const f of findings) {
    const ns = f.objects[0]?.namespace ?? '';
    perNs.set(ns, (perNs.get(ns) ?? 0) + 1);
  }
  const named = new Set(
    [...perNs.entries()]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .slice(0, LIVE_MAX_NAMESPACES)
      .map(([ns]) => ns),
  );
  const counts = new Map<string, { detector: string; severity: string; namespace: string; n: number }>();
  for (const f of findings) {
    const ns = f.objects[0]?.namespace ?? '';
    const namespace = named.has(ns) ? ns : '_other';
    const key = `${f.detector}\0${f.severity}\0${namespace}`;
    const c = counts.get(key) ?? counts.set(key, { detector: f.detector, severity: f.severity, namespace, n: 0 }).get(key)!;
    c.n++;
  }
  // one synchronous swap: a scrape sees the old counts or the new ones, never a mix
  findingsGauge.reset();
  for (const { n, ...labels } of counts.values()) findingsGauge.set(labels, n);
}
