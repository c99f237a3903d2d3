// Live findings: while `serve` (or the Kafka trace role) runs, the facts of the spans its sink made
// durable (compactSpan, src/core/facts.ts) are kept over a sliding window, and every interval the
// diagnosis detectors run over them (buildReport: the same rules and thresholds as `kubetrail
// diagnose`). The report is served at GET /api/findings/live and counted into the Prometheus
// metrics kubetrail_findings{detector,severity,namespace} & co (src/core/metrics.ts).
// Off the request path: a write only queues its spans; the next turn of the event loop hands them
// to a worker thread, which compacts them, keeps the window and runs the detectors when the timer
// asks (docs/diagnose.md "Live findings").
import { performance } from 'node:perf_hooks';
import { compactSpan, factInput, StringPool } from '../../src/core/facts.ts';
import { log } from '../../src/core/log.ts';
import { LIVE_MAX_NAMESPACES, liveFindings as findingsGauge, liveRuns, liveSeconds, liveWindowDropped, liveWindowFacts } from '../../src/core/metrics.ts';
import type { SpanRecord } from '../../src/core/model.ts';
import type { SpanSink } from '../../src/core/sink.ts';
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
    /** Facts never handed to the worker because it was LIVE_MAX_QUEUED_BATCHES behind (busy CPUs), since the process started: the window has gaps. */
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
 */
export class LiveWindow {
  readonly #o: LiveOptions;
  readonly #now: () => number;
  /** Facts in arrival order, the live ones from #head on. */
  #facts: SpanRecord[] = [];
  #head = 0;
  #dropped = 0;
  /** Start time of the newest fact dropped for the cap (the window is cut there). */
  #cutUs = -Infinity;
  #pool = new StringPool();
  #poolSinceMs: number;

  constructor(o: LiveOptions) {
    if (!(o.windowSec > 0) || !(o.intervalSec > 0) || !(o.maxFacts > 0)) throw new Error('live findings: window, interval and max facts must be positive');
    this.#o = o;
    this.#now = o.now ?? Date.now;
    this.#poolSinceMs = this.#now();
  }

  /** Keeps the facts of these durable spans (event and link spans only). */
  add(spans: readonly SpanRecord[]): void {
    // a fresh pool each window: a long-running process must not keep every string it ever saw
    if (this.#now() - this.#poolSinceMs > this.#o.windowSec * 1000) {
      this.#pool = new StringPool();
      this.#poolSinceMs = this.#now();
    }
    for (const s of spans) if (s.kind === 'event' || s.kind === 'link') this.#facts.push(compactSpan(s, this.#pool));
    const over = this.#facts.length - this.#head - this.#o.maxFacts;
    if (over > 0) {
      for (let i = this.#head; i < this.#head + over; i++) if (this.#facts[i]!.startUs > this.#cutUs) this.#cutUs = this.#facts[i]!.startUs;
      this.#head += over;
      this.#dropped += over;
    }
    this.#compactArray();
  }

  /** Drops facts older than the window (arrival order is start order but for stragglers, which the report filters). */
  #expire(cutoffUs: number): void {
    while (this.#head < this.#facts.length && this.#facts[this.#head]!.startUs < cutoffUs) this.#head++;
    this.#compactArray();
  }

  #compactArray(): void {
    if (this.#head > 1024 && this.#head * 2 > this.#facts.length) {
      this.#facts = this.#facts.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Facts the window holds. */
  size(): number {
    return this.#facts.length - this.#head;
  }

  /** Runs the detectors over the window now. */
  run(): LiveReport {
    const t0 = performance.now();
    const nowUs = this.#now() * 1000;
    const cutoff = nowUs - this.#o.windowSec * 1e6;
    this.#expire(cutoff);
    const startUs = Math.max(cutoff, this.#cutUs);
    const facts = this.#facts.slice(this.#head).filter((s) => s.startUs >= startUs);
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

/** Share of the time the detectors may run: a run that took d seconds waits d × 19 before the next. */
export const LIVE_MAX_DUTY = 0.05;

/** Scheduling priority (nice) of the worker thread: below the webhook's when the CPUs are busy. */
export const LIVE_NICE = 10;

/** Batches of spans handed to the worker and not taken yet, at most; beyond, a batch is skipped (counted). */
export const LIVE_MAX_QUEUED_BATCHES = 256;

/** What the main thread asks the worker (live-worker.ts). */
export type LiveRequest = { add: SpanRecord[] } | { run: true };

/**
 * The live findings of a process that writes spans: taps its sink, hands what the sink acknowledged
 * to a worker thread that keeps the window and runs the detectors (a run over 50,000 facts takes
 * seconds: on the webhook's event loop it would hold every answer that long), and publishes each
 * report to /metrics and GET /api/findings/live.
 */
export class LiveFindings {
  readonly #o: LiveOptions;
  readonly #rpc: WorkerRpc<LiveRequest, LiveReport | null>;
  /** Durable spans not handed to the worker yet (a write only queues them). */
  #pending: SpanRecord[] = [];
  #sendScheduled = false;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #last: LiveReport | undefined;
  #droppedSeen = 0;
  #queued = 0;
  #skipped = 0;

  constructor(o: Omit<LiveOptions, 'now'>) {
    new LiveWindow(o); // the same checks, here where they can be reported
    this.#o = o;
    this.#rpc = new WorkerRpc(new URL('./live-worker.ts', import.meta.url), o, 'live findings');
  }

  /** The same sink, whose acknowledged writes also feed the window (only durable spans count). */
  tap(sink: SpanSink): SpanSink {
    const tapped: SpanSink = {
      write: async (spans) => {
        await sink.write(spans);
        this.add(spans);
      },
      pending: () => sink.pending(),
      full: () => sink.full(),
      flush: () => sink.flush(),
      close: () => sink.close(),
    };
    if (sink.healthy) tapped.healthy = () => sink.healthy!();
    if (sink.lastError) tapped.lastError = () => sink.lastError!();
    if (sink.writable) tapped.writable = () => sink.writable!();
    return tapped;
  }

  /** Queues durable spans; they go to the worker on the next turn of the event loop, after the caller's answer. */
  add(spans: readonly SpanRecord[]): void {
    // only what compactSpan reads crosses to the worker: copying whole snapshots cost the webhook's thread 7 %
    for (const s of spans) if (s.kind === 'event' || s.kind === 'link') this.#pending.push(factInput(s));
    if (this.#sendScheduled || !this.#pending.length) return;
    this.#sendScheduled = true;
    setImmediate(() => {
      this.#sendScheduled = false;
      const add = this.#pending;
      this.#pending = [];
      if (this.#queued >= LIVE_MAX_QUEUED_BATCHES) {
        // the worker is far behind (its thread yields to the webhook's): skip rather than queue without bound
        if (!this.#skipped) log.warn('live findings: the worker is behind, skipping spans (the live window has gaps)');
        this.#skipped += add.length;
        liveWindowDropped.inc(add.length);
        return;
      }
      this.#queued++;
      this.#rpc
        .call({ add })
        .catch((err) => log.warn({ err: (err as Error).message }, 'live findings: the worker did not take spans'))
        .finally(() => this.#queued--);
    });
  }

  /** Runs the detectors over the window now (in the worker), updates the metrics and returns the report. */
  async run(): Promise<LiveReport> {
    const t0 = performance.now();
    if (this.#pending.length) {
      const add = this.#pending;
      this.#pending = [];
      await this.#rpc.call({ add });
    }
    const report = (await this.#rpc.call({ run: true }))!;
    if (this.#skipped) report.live.skippedFacts = this.#skipped;
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
