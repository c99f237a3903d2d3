// Lifecycle components (src/core/lifecycle.ts) that serve and its Kafka roles share: an HTTP
// listener, and the part of a process that writes spans — its sink, the query UI over it, live findings.
import type { FastifyInstance } from 'fastify';
import type { Component } from '../core/lifecycle.ts';
import type { SpanSink } from '../core/sink.ts';
import type { LiveFindings } from '../../frontend-plugin/diagnose/live.ts';
import { createSink, type ChosenSink } from '../sinks/index.ts';
import { liveComponent, liveFindings, type LiveCliOptions } from './live.ts';
import { startSinkQueryUi, type QueryUiFlags, type RunningQueryServer } from './query-server.ts';
import { writerOptionsFrom, type WriterCliOptions } from './options.ts';

export interface HttpHooks {
  /** Told the port once listening (the given one unless it was 0). */
  listening?: (port: number) => void;
  /** Refuse new work (phase 1 of the shutdown); the stop then waits for in-flight requests. */
  drain?: () => void;
}

/** A fastify server, listening from its start to its stop. */
export function httpComponent(name: string, app: FastifyInstance, listen: { port: number; host: string }, hooks: HttpHooks = {}): Component {
  return {
    name,
    start: async () => {
      await app.listen(listen);
      const addr = app.server.address();
      hooks.listening?.(typeof addr === 'object' && addr ? addr.port : listen.port);
    },
    drain: hooks.drain,
    stop: () => app.close(),
  };
}

export interface SpanWriterOptions extends QueryUiFlags, LiveCliOptions, WriterCliOptions {
  otlpEndpoint?: string;
  store?: string;
}

export interface SpanWriter {
  chosen: ChosenSink;
  /** The sink the sources write to (live findings see what it acknowledged). */
  sink: SpanSink;
  live: LiveFindings | undefined;
  /**
   * In lifecycle order, for the bottom of a list the sources come after: the sink (closed last),
   * the query UI (reads its store and live findings), live findings (stop once the sink flushed,
   * having seen every span), then the sink's flush, which runs right after the sources stopped.
   */
  components: (Component | false)[];
}

export function spanWriter(o: SpanWriterOptions, windowSec: number): SpanWriter {
  const chosen = createSink({ otlpEndpoint: o.otlpEndpoint, store: o.store, ...writerOptionsFrom(o) });
  const live = liveFindings(o);
  const sink = live ? live.tap(chosen.sink) : chosen.sink;
  let query: RunningQueryServer | undefined;
  const components: SpanWriter['components'] = [
    { name: 'sink', stop: () => sink.close() },
    o.query && {
      name: 'query UI',
      start: async () => {
        query = await startSinkQueryUi(o, chosen.store, windowSec, live);
      },
      stop: () => query?.close(),
    },
    ...(live ? [liveComponent(o, live)] : []),
    { name: 'sink flush', stop: () => sink.flush() },
  ];
  return { chosen, sink, live, components };
}
