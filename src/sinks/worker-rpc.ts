// Request/response over a worker thread, shared by the two worker transports (the SQLite writer and
// the OTLP exporter). The main side starts the worker on first use and again after it died, keeps
// the process alive only while calls are outstanding, and fails every outstanding call if the worker
// dies. The worker side (serveRpc) answers one reply per request; a thrown error travels back with
// its message and code.
import { Worker, parentPort, type Transferable } from 'node:worker_threads';
import type { FactsFeed } from './facts-feed.ts';

type ToWorker<Req> = { id: number; req: Req } | { shutdown: true };
type FromWorker<Res> = { id: number; res: Res } | { id: number; error: { message: string; code?: string } } | { shutdown: true };

/** An error thrown in the worker, as seen by the caller. */
export class WorkerCallError extends Error {
  readonly code: string | undefined;
  constructor(message: string, code?: string) {
    super(message);
    this.name = 'WorkerCallError';
    this.code = code;
  }
}

export class WorkerRpc<Req, Res> {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (r: Res) => void; reject: (e: Error) => void }>();
  private readonly url: URL;
  private readonly data: unknown;
  private readonly name: string;
  private feed: FactsFeed | undefined;

  constructor(url: URL, workerData: unknown, name: string) {
    this.url = url;
    this.data = workerData;
    this.name = name;
  }

  /** Outstanding calls. */
  get inFlight(): number {
    return this.waiting.size;
  }

  /**
   * Gives each worker started from now on a facts feed's end as `workerData.feed` (facts-feed.ts).
   * Before the first call: a worker already running would not have it.
   */
  setFeed(feed: FactsFeed): void {
    if (this.worker) throw new Error(`${this.name}: a facts feed must be registered before the first write`);
    this.feed = feed;
  }

  call(req: Req, transferList?: readonly Transferable[]): Promise<Res> {
    const w = this.get();
    const id = this.nextId++;
    return new Promise<Res>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      w.ref();
      // postMessage clones synchronously: a request that cannot be cloned fails here, alone
      try {
        w.postMessage({ id, req } satisfies ToWorker<Req>, transferList);
      } catch (err) {
        this.settled(id);
        reject(err as Error);
      }
    });
  }

  /** Asks the worker to finish (its shutdown handler runs), never waiting longer than timeoutMs. */
  async shutdown(timeoutMs = 5000): Promise<void> {
    const w = this.worker;
    if (!w) return;
    this.worker = undefined;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      w.on('message', (m: FromWorker<Res>) => 'shutdown' in m && done());
      w.once('exit', done);
      w.ref();
      w.postMessage({ shutdown: true } satisfies ToWorker<Req>);
    });
    await w.terminate();
    this.failAll(new Error(`${this.name} worker was shut down`));
  }

  private settled(id: number): void {
    this.waiting.delete(id);
    if (this.waiting.size === 0) this.worker?.unref();
  }

  private failAll(err: Error): void {
    const all = [...this.waiting.values()];
    this.waiting.clear();
    for (const w of all) w.reject(err);
  }

  private get(): Worker {
    if (this.worker) return this.worker;
    const end = this.feed?.();
    const w = end
      ? new Worker(this.url, { workerData: { ...(this.data as object), feed: end }, transferList: [end.port] })
      : new Worker(this.url, { workerData: this.data });
    w.on('message', (m: FromWorker<Res>) => {
      if ('shutdown' in m) return;
      const entry = this.waiting.get(m.id);
      if (!entry) return;
      this.settled(m.id);
      if ('res' in m) entry.resolve(m.res);
      else entry.reject(new WorkerCallError(m.error.message, m.error.code));
    });
    const died = (err: Error) => {
      if (this.worker !== w) return;
      this.worker = undefined;
      this.failAll(err);
    };
    w.on('error', died);
    w.on('exit', (code) => died(new Error(`${this.name} worker exited with code ${code}`)));
    w.unref(); // only outstanding calls keep the process alive (ref'd in call)
    this.worker = w;
    return w;
  }
}

/**
 * The worker side: runs `handle` for each request and replies with its result or error;
 * `onShutdown` runs before the worker acknowledges a shutdown request.
 */
export function serveRpc<Req, Res>(handle: (req: Req) => Promise<Res> | Res, onShutdown: () => Promise<void> | void = () => {}): void {
  const port = parentPort!;
  port.on('message', (m: ToWorker<Req>) => {
    if ('shutdown' in m) {
      void Promise.resolve()
        .then(onShutdown)
        .catch(() => undefined)
        .finally(() => {
          port.postMessage({ shutdown: true } satisfies FromWorker<Res>);
          port.close();
        });
      return;
    }
    Promise.resolve()
      .then(() => handle(m.req))
      .then(
        (res) => port.postMessage({ id: m.id, res } satisfies FromWorker<Res>),
        (err: Error & { code?: unknown }) =>
          port.postMessage({
            id: m.id,
            error: { message: err?.message ?? String(err), ...(typeof err?.code === 'string' ? { code: err.code } : {}) },
          } satisfies FromWorker<Res>),
      );
  });
}
