// List-watch informers: every discovered resource feeds Pipeline.watchChange (diffs, and in
// list-watch-only mode the event spans themselves); core/v1 Events feed Pipeline.kubeEvent.
// A failed watch is restarted (re-list) with exponential backoff; the pipeline de-duplicates
// by derived IDs, so re-listing never shows a change twice.
import { makeInformer, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { SpanRecord } from '../../core/model.ts';
import { log } from '../../core/log.ts';
import { watchErrors, watchEvents } from '../../core/metrics.ts';
import { discoverResources, type DiscoveryFilter, type WatchedResource } from './discovery.ts';
import { kubeGet } from './kube-client.ts';
import { WatchWriter } from './watch-writer.ts';
import type { RecordSink, Staged, Traced } from '../../pipeline/engine.ts';

export type WatchChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** The informers' transaction: what they feed the engine, change by change. */
export type WatchTransaction<R> = Staged & {
  watchChange(change: { type: WatchChangeType; object: unknown; group: string; version: string; resource: string }, cluster: string): Traced<R>;
  kubeEvent(obj: unknown, cluster: string): Traced<R>;
  /** Audit mode: the watch changes no audit event explained within the grace period, as spans. */
  unexplainedChanges?(): Traced<R>;
};

/**
 * What informers need from the pipeline (src/pipeline/pipeline.ts Pipeline satisfies it): one
 * transaction for all watches, committed up to a change once its spans are durable. In receive
 * role the watch publisher (src/sources/kafka/watch-publisher.ts) turns the changes into messages.
 */
export interface WatchIngest<R = SpanRecord> {
  begin(): WatchTransaction<R>;
  setListWatchOnly?(cluster: string, on: boolean): void;
  /** Audit mode: keep watch changes until an audit event explains them, for `graceMs`. */
  trackUnexplained?(graceMs: number): void;
  /** Discovery's word on which resources are cluster-scoped (their keys carry no namespace). */
  setResourceScopes?(cluster: string, resources: readonly { group: string; resource: string; namespaced: boolean }[]): void;
}

export interface InformerOptions<R = SpanRecord> extends DiscoveryFilter {
  kc: KubeConfig;
  cluster: string;
  pipeline: WatchIngest<R>;
  sink: RecordSink<R>;
  listWatchOnly?: boolean;
  /** Watch Events (core/v1) too. Default true. */
  events?: boolean;
  /** Informer spans not yet durable at which the informers stop reading watch events (backpressure). */
  maxUnacked?: number;
  /**
   * Audit mode: how long an audit event may lag behind the watch change it explains (ms, default
   * 120 s); a change still unexplained then becomes a span (src/pipeline/unexplained.ts). 0: off.
   */
  unexplainedGraceMs?: number;
}

export interface RunningInformers {
  resources: WatchedResource[];
  /** Resolves once every informer finished its initial list. */
  synced: Promise<void>;
  stop(): Promise<void>;
}

const EVENTS_RESOURCE: WatchedResource = { group: '', version: 'v1', resource: 'events', kind: 'Event', namespaced: true, path: '/api/v1/events' };

function lister(kc: KubeConfig, r: WatchedResource) {
  return async (): Promise<KubernetesListObject<KubernetesObject>> => {
    const items: KubernetesObject[] = [];
    let cont = '';
    let resourceVersion = '';
    do {
      const page = await kubeGet<KubernetesListObject<KubernetesObject>>(kc, `${r.path}?limit=500${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`);
      const apiVersion = r.group ? `${r.group}/${r.version}` : r.version;
      for (const it of page.items) items.push({ ...it, apiVersion, kind: r.kind });
      resourceVersion = page.metadata?.resourceVersion ?? '';
      cont = page.metadata?._continue ?? (page.metadata as { continue?: string } | undefined)?.continue ?? '';
    } while (cont);
    return { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion }, items };
  };
}

/** What the watches of one startInformers share: its pause/stop flags, its informers, their first syncs. */
interface WatchState {
  stopped: boolean;
  /** backpressure: while paused, the watches are closed; start() resumes from the last resourceVersion */
  paused: boolean;
  informers: { start(): Promise<void>; stop(): Promise<void> }[];
  syncs: Promise<void>[];
}

/** Lists and watches one resource, restarting a failed watch with backoff; each change goes to onChange. */
function watchResource(
  kc: KubeConfig,
  logger: typeof log,
  st: WatchState,
  r: WatchedResource,
  onChange: (type: WatchChangeType, obj: KubernetesObject) => void,
): void {
  const inf = makeInformer(kc, r.path, lister(kc, r));
  const apiVersion = r.group ? `${r.group}/${r.version}` : r.version;
  // watch objects lack apiVersion/kind on some servers' lists; the pipeline wants full objects
  const full = (o: KubernetesObject) => ({ ...o, apiVersion: o.apiVersion ?? apiVersion, kind: o.kind ?? r.kind });
  // a watch started while we paused (its initial list was under way) is stopped at its first event
  const change = (type: WatchChangeType, o: KubernetesObject) => {
    if (st.paused) void inf.stop().catch(() => undefined);
    onChange(type, full(o));
  };
  inf.on('add', (o) => change('ADDED', o));
  inf.on('update', (o) => change('MODIFIED', o));
  inf.on('delete', (o) => change('DELETED', o));
  let backoff = 1000;
  let firstSync: (() => void) | undefined;
  st.syncs.push(new Promise<void>((resolve) => (firstSync = resolve)));
  inf.on('connect', () => {
    backoff = 1000;
  });
  inf.on('error', (err: unknown) => {
    if (st.stopped || st.paused) return; // our own stop() aborts the watch
    watchErrors.inc();
    const status = (err as { statusCode?: number })?.statusCode;
    logger.warn(
      { resource: `${r.group}/${r.resource}`, status, err: (err as Error)?.message, retryInMs: backoff },
      'watch failed, restarting it (re-list when its resourceVersion expired)',
    );
    const delay = backoff;
    backoff = Math.min(60_000, backoff * 2);
    setTimeout(() => {
      if (!st.stopped && !st.paused) void inf.start().catch(() => undefined);
    }, delay);
    // a resource we may not list (403) must not hold up startup
    firstSync?.();
  });
  st.informers.push(inf);
  void inf.start().then(
    () => firstSync?.(),
    () => firstSync?.(),
  );
}

export async function startInformers<R = SpanRecord>(opts: InformerOptions<R>): Promise<RunningInformers> {
  const logger = log.child({ component: 'informers', cluster: opts.cluster });
  opts.pipeline.setListWatchOnly?.(opts.cluster, opts.listWatchOnly ?? false);
  const resources = await discoverResources(opts.kc, opts);
  opts.pipeline.setResourceScopes?.(opts.cluster, resources);
  const st: WatchState = { stopped: false, paused: false, informers: [], syncs: [] };
  const { informers, syncs } = st;
  const writer = new WatchWriter<R>(opts.sink, {
    maxUnacked: opts.maxUnacked,
    onPause: () => {
      st.paused = true;
      for (const i of informers) void i.stop().catch(() => undefined);
    },
    onResume: () => {
      st.paused = false;
      if (!st.stopped) for (const i of informers) void i.start().catch(() => undefined);
    },
  });

  // Changes see every earlier change; the pipeline's state takes a change once its spans are
  // durable (at once when it has none: a cache-only version for later diffs).
  const stream = writer.stream(opts.pipeline.begin());
  const traced = (source: string, fn: (tx: WatchTransaction<R>) => Traced<R>) => {
    const r = stream.trace(fn);
    if (r.thrown) return logger.error({ source, err: r.thrown.message }, 'pipeline failed on watch change');
    if (r.error) logger.warn({ source, reason: r.error }, 'watch change not traced');
    // written until durable (a full sink waited for, a failed write retried), then committed
    void stream.commit(r.spans);
  };
  const ingest = (source: string, type: string, fn: (tx: WatchTransaction<R>) => Traced<R>) => {
    watchEvents.inc({ source, type });
    traced(source, fn);
  };

  const run = (r: WatchedResource, onChange: (type: WatchChangeType, obj: KubernetesObject) => void) => watchResource(opts.kc, logger, st, r, onChange);

  const grace = opts.listWatchOnly ? 0 : (opts.unexplainedGraceMs ?? 120_000);
  let sweep: NodeJS.Timeout | undefined;
  if (grace > 0 && opts.pipeline.trackUnexplained && stream.tx.unexplainedChanges) {
    opts.pipeline.trackUnexplained(grace);
    sweep = setInterval(() => traced('watch', (tx) => tx.unexplainedChanges!()), Math.min(10_000, Math.max(100, grace / 4)));
    sweep.unref();
  }
  for (const r of resources) {
    run(r, (type, obj) =>
      ingest('watch', type, (tx) => tx.watchChange({ type, object: obj, group: r.group, version: r.version, resource: r.resource }, opts.cluster)),
    );
  }
  if (opts.events ?? true) {
    run(EVENTS_RESOURCE, (type, obj) => {
      if (type !== 'DELETED') ingest('event', type, (tx) => tx.kubeEvent(obj, opts.cluster));
    });
  }
  logger.info({ resources: resources.length, events: opts.events ?? true, listWatchOnly: opts.listWatchOnly ?? false }, 'informers started');

  const synced = Promise.all(syncs).then(() => {
    if (!st.stopped) logger.info({ resources: resources.length }, 'informers synced: every initial list done, watching for changes');
  });
  return {
    resources,
    synced,
    async stop() {
      st.stopped = true;
      clearInterval(sweep);
      await Promise.all(informers.map((i) => i.stop().catch(() => undefined)));
      await writer.drain();
    },
  };
}
