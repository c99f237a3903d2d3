// The start and shutdown order of a long-running command (serve, its Kafka roles, query) as one list
// of components, instead of each command spelling both orders by hand.
//
// The model:
// - start: `start()` of each component in list order, one after the other.
// - shutdown (SIGTERM/SIGINT, or a start that failed), over the components that started — one
//   whose start is under way counts, and its stop must end that start (the Kafka tracer waiting for
//   its topic) — in two phases:
//     1. every `drain()`, newest component first: stop taking new work at once, before anything
//        stops (the webhook answers 503 and /readyz says draining while the informers stop);
//     2. every `stop()`, newest component first.
//   A list is therefore written from the bottom of the data flow up: what a component writes to or
//   reads from comes before it. An entry is a step, not necessarily an object, and one object may
//   have two: the sink is flushed right after the inputs stopped (live findings see every span it
//   acknowledged) but closed last (the query UI reads its store); the Kafka tracer of the `all`
//   role starts last (the receiver's producer creates its topic) but stops after the receiver.
//   The shutdown orders this gives (src/commands), first step first:
//     serve:          webhook refuses (drain) · informers · webhook · sink flush · live findings · query UI · sink
//     Kafka receive:  webhook refuses (drain) · informer election · webhook · Kafka producer
//     Kafka trace:    tracer · sink flush · live findings · query UI · sink · health server
//     Kafka all:      receive's, then trace's without the health server
//     query:          query API and UI
// - each step is logged; a drain or stop that fails is logged and the others still run; the
//   process exits 1 when something failed, 0 when all drained and stopped.
// - a start that fails: what started is shut down as above, then the start's error is thrown (the
//   CLI prints it and exits 1).
// - a second signal exits at once (1), without waiting for the drain.
import { log } from './log.ts';

export interface Component {
  /** Named in the log lines of each step. */
  name: string;
  start?(): unknown;
  /** Refuse new work now (phase 1 of the shutdown); keep serving what was accepted. */
  drain?(): unknown;
  stop?(): unknown;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

export class Lifecycle {
  readonly #components: Component[];
  /** How many components, from the list's start, started (or are starting). */
  #started = 0;
  #shutdown: Promise<boolean> | undefined;

  /** Falsy entries are left out: `cond && { ... }` for a component only some modes have. */
  constructor(components: (Component | false | undefined)[]) {
    this.#components = components.filter((c): c is Component => Boolean(c));
  }

  get stopping(): boolean {
    return this.#shutdown !== undefined;
  }

  /** Starts the components in order; false when a shutdown began meanwhile (the rest are not started). */
  async start(): Promise<boolean> {
    for (const c of this.#components) {
      if (this.#shutdown) return false;
      this.#started++;
      try {
        await c.start?.();
      } catch (err) {
        if (this.#shutdown) return false; // stopped while starting: its stop ended the start
        this.#started--; // what failed to start is not stopped
        log.error({ component: c.name, err: message(err) }, 'failed to start: stopping what started');
        await this.shutdown('start failed');
        throw err;
      }
    }
    return !this.#shutdown;
  }

  /** Drains, then stops what started, newest first (once; later calls get the same result): true when all went well. */
  shutdown(reason: string): Promise<boolean> {
    this.#shutdown ??= this.#run(reason);
    return this.#shutdown;
  }

  async #run(reason: string): Promise<boolean> {
    const started = this.#components.slice(0, this.#started).reverse();
    log.info({ reason, components: started.map((c) => c.name) }, 'draining');
    let ok = true;
    for (const phase of ['drain', 'stop'] as const) {
      for (const c of started) {
        if (!c[phase]) continue;
        log.info({ component: c.name }, phase === 'drain' ? 'refusing new work' : 'stopping');
        try {
          await c[phase]();
        } catch (err) {
          ok = false;
          log.error({ component: c.name, err: message(err) }, `${phase} failed`);
        }
      }
    }
    return ok;
  }
}

/**
 * Starts the lifecycle and shuts it down on SIGTERM or SIGINT, then exits: 0 when everything
 * drained and stopped, 1 when something failed; a second signal exits 1 at once. Resolves once
 * started (false: a signal came first); throws a failed start's error after stopping what started.
 */
export async function runUntilSignal(lifecycle: Lifecycle, exit: (code: number) => void = (code) => process.exit(code)): Promise<boolean> {
  const onSignal = (signal: NodeJS.Signals) => {
    if (lifecycle.stopping) {
      log.warn({ signal }, 'second signal: exiting without draining');
      exit(1);
      return;
    }
    void lifecycle.shutdown(signal).then((ok) => {
      if (ok) log.info('drained, bye');
      else log.error('stopped, but not everything drained or stopped cleanly');
      exit(ok ? 0 : 1);
    });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    return await lifecycle.start();
  } catch (err) {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    throw err;
  }
}
