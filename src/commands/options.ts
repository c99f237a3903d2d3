// Options shared by the commands: what to trace (tracer config), where spans go (sink), logging.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { CommanderError, InvalidArgumentError, Option, type Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import type { RedactionRule, TracerConfig } from '../core/config.ts';
import { defaultTracerConfig } from '../core/config.ts';
import { parseDuration, parseDurationSec } from '../core/duration.ts';
import { setLogLevel } from '../core/log.ts';

// Every parser below throws commander's InvalidArgumentError, so a bad value is reported as
// `option '--flag <arg>' argument 'value' is invalid. <reason>` — with the flag, never an
// internal field name (windowSec) — and exits 1, like commander's own errors.

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('not a TCP port (0-65535)');
  return n;
}

export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('not a positive integer');
  return n;
}

const BYTE_UNITS: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9, ki: 1024, mi: 1024 ** 2, gi: 1024 ** 3 };

/** A byte size: `268435456`, `256Mi`, `1Gi`, `500M` (Kubernetes quantity suffixes, case-insensitive). */
export function parseByteSize(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(|k|m|g|ki|mi|gi)b?\s*$/i.exec(value);
  const n = m ? Math.round(Number(m[1]) * BYTE_UNITS[m[2]!.toLowerCase()]!) : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('not a byte size (e.g. 256Mi, 1Gi, 268435456)');
  return n;
}

/** `--cache-bytes`: a byte size of at least 1 MiB. */
export function parseCacheBytes(value: string): number {
  const n = parseByteSize(value);
  if (n < 1024 * 1024) throw new InvalidArgumentError('at least 1Mi');
  return n;
}

const OWN_EXIT = new WeakSet<Command>();

/** Usage errors of `cmd` (unknown option, bad value) exit 2 instead of 1; --help and --version stay 0 (diagnose, explain). */
export function usageErrorsExit2(cmd: Command): Command {
  OWN_EXIT.add(cmd);
  return cmd.exitOverride((err) => {
    throw err.exitCode === 0 ? err : new CommanderError(2, err.code, err.message);
  });
}

/** Whether `cmd` maps its own exit codes (the program leaves its exitOverride alone). */
export const exitsOwnWay = (cmd: Command): boolean => OWN_EXIT.has(cmd);

/** A value parser whose error commander reports as an invalid argument (exit 2, no stack trace). */
export const argParser =
  <T>(f: (v: string) => T) =>
  (v: string): T => {
    try {
      return f(v);
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message);
    }
  };

/** A positive duration flag (`90d`, `2w`, `12h`, `30m`), in seconds. */
export function parsePositiveDurationSec(value: string): number {
  const sec = argParser(parseDurationSec)(value);
  if (!(sec > 0)) throw new InvalidArgumentError('must be a positive duration (e.g. 30m, 12h, 90d)');
  return sec;
}

/** `--window`: a duration of whole minutes (`30m`, `1h`, `1800`), in seconds. */
export function parseWindow(value: string): number {
  const sec = parsePositiveDurationSec(value);
  if (sec % 60 !== 0) throw new InvalidArgumentError('must be a whole number of minutes (e.g. 30m, 1h, 1h30m)');
  return sec;
}

/** A URL flag (`--jaeger-query`, `--otlp-endpoint` style values with a scheme). */
export function parseUrl(value: string): string {
  try {
    return new URL(value).href;
  } catch {
    throw new InvalidArgumentError('not a URL (e.g. http://jaeger-query:16686)');
  }
}

/** A repeatable `group/resource` flag (`apps/deployments`, `/configmaps` for the core group). */
export function collectResource(value: string, previous: string[] = []): string[] {
  if (!value.includes('/')) throw new InvalidArgumentError("resources are given as group/resource ('/configmaps' for the core group)");
  return [...previous, value];
}

/** `[group/resource:]path`, e.g. `data.*` (any resource) or `/configmaps:data.password` (core group). */
export function parseRedactRule(text: string): RedactionRule {
  const i = text.indexOf(':');
  if (i < 0) return { path: text };
  const target = text.slice(0, i);
  const path = text.slice(i + 1);
  const slash = target.indexOf('/');
  if (slash < 0 || !path) throw new InvalidArgumentError('expected [group/resource:]path (core group: /configmaps:data.x)');
  return { group: target.slice(0, slash), resource: target.slice(slash + 1), path };
}

export function addTracerOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--window <duration>', 'length of a trace window per object (whole minutes)')
        .argParser(parseWindow)
        .default(defaultTracerConfig.windowSec, '30m'),
    )
    .option(
      '--exclude-resource <group/resource>',
      `do not trace this resource ('' group for core, e.g. /configmaps); adds to ${defaultTracerConfig.excludeResources.join(', ')}`,
      collectResource,
      [],
    )
    .option('--include-resource <group/resource>', 'trace a resource excluded by default (e.g. coordination.k8s.io/leases)', collectResource, [])
    .option('--include-reads', 'trace get/list/watch requests too', false)
    .option('--redact <[group/resource:]path>', 'also redact this field path (Secret data is always redacted); repeatable', collectRedact, [])
    .option(
      '--cache-size <objects>',
      `objects whose previous version is kept for diffs (and emitted object/link spans remembered); default ${defaultTracerConfig.cacheSize}`,
      parsePositiveInt,
    )
    .option(
      '--cache-bytes <size>',
      `memory for previous versions kept for diffs, e.g. 512Mi; default ${defaultTracerConfig.cacheBytes / 1024 ** 2}Mi`,
      parseCacheBytes,
    );
}

/** A repeatable `--redact` rule, checked when given. */
function collectRedact(value: string, previous: string[] = []): string[] {
  parseRedactRule(value);
  return [...previous, value];
}

export interface TracerCliOptions {
  /** Seconds (parseWindow). */
  window: number;
  excludeResource: string[];
  includeResource: string[];
  includeReads: boolean;
  redact: string[];
  cacheSize?: number;
  cacheBytes?: number;
}

export function tracerConfigFrom(o: TracerCliOptions): Partial<TracerConfig> {
  const include = new Set(o.includeResource);
  return {
    windowSec: o.window,
    includeReads: o.includeReads,
    excludeResources: [...new Set([...defaultTracerConfig.excludeResources, ...o.excludeResource])].filter((r) => !include.has(r)),
    redact: o.redact.map(parseRedactRule),
    cacheSize: o.cacheSize,
    cacheBytes: o.cacheBytes,
  };
}

/** The option groups of a command that traces into a sink: where spans go, how they are written, what is traced. */
export function addTraceIntoSinkOptions(cmd: Command): Command {
  cmd.optionsGroup('Where spans go:');
  addSinkOptions(cmd);
  cmd.optionsGroup('How spans are written:');
  addWriterOptions(cmd);
  cmd.optionsGroup('What is traced:');
  return addTracerOptions(cmd);
}

export function addSinkOptions(cmd: Command): Command {
  return cmd
    .option('--otlp-endpoint <url>', 'export spans over OTLP gRPC to this collector, e.g. http://localhost:4317 (default $OTEL_EXPORTER_OTLP_ENDPOINT)')
    .option('--store <file>', 'write spans to this embedded SQLite store (default when no OTLP endpoint: $XDG_DATA_HOME/kubetrail/kubetrail.sqlite)');
}

export function addLogOptions(cmd: Command): Command {
  return cmd.addOption(
    new Option('--log-level <level>', 'log level (logs go to stderr)')
      .choices(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'])
      .default(process.env.KUBETRAIL_LOG_LEVEL ?? 'info'),
  );
}

export function applyLogLevel(o: { logLevel?: string }): void {
  if (o.logLevel) setLogLevel(o.logLevel);
}

/**
 * `--config FILE`: a YAML map whose keys are the command's long options in camelCase
 * (`webhookPort: 8080`, `excludeResource: [apps/replicasets]`). Flags on the command line win.
 */
export function addConfigFileOption(cmd: Command): Command {
  cmd.option('--config <file>', 'read options from a YAML file (keys: long option names in camelCase); command-line flags win');
  cmd.hook('preAction', (_this, action) => {
    const file = action.getOptionValue('config') as string | undefined;
    if (!file) return;
    let doc: unknown;
    try {
      doc = parseYaml(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new Error(`--config ${file}: ${(err as Error).message}`);
    }
    if (doc === null || doc === undefined) return;
    if (typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`--config ${file}: expected a map of options`);
    const byKey = new Map(action.options.map((o) => [o.attributeName(), o]));
    for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
      const opt = byKey.get(key);
      if (!opt || key === 'config') {
        throw new Error(`--config ${file}: unknown option '${key}' (known: ${[...byKey.keys()].filter((k) => k !== 'config').join(', ')})`);
      }
      const source = action.getOptionValueSource(key);
      if (source === 'cli' || source === 'env') continue;
      let v = value;
      if (opt.parseArg) {
        // run the same parser as the flag; repeatable options take a list
        try {
          v = Array.isArray(value)
            ? value.reduce((prev: unknown, item) => opt.parseArg!(String(item), prev), opt.defaultValue)
            : opt.parseArg(String(value), opt.defaultValue);
        } catch (err) {
          throw new Error(`--config ${file}: ${key} (${opt.long}) ${JSON.stringify(value)} is invalid: ${(err as Error).message}`);
        }
      }
      action.setOptionValueWithSource(key, v, 'config');
    }
  });
  return cmd;
}

// ---- sink writer: queue, batching, retries (one queued writer for both sinks; docs/operations.md) ----

/** Milliseconds: `500ms`, `2s`, `1m`, `1h30m`, or a plain number of milliseconds (as in OTEL_BSP_SCHEDULE_DELAY). */
export const parseDurationMs = argParser((value: string): number => parseDuration(value, 'ms'));

export function addWriterOptions(cmd: Command): Command {
  return cmd
    .option(
      '--sink-max-queue-spans <n>',
      'spans accepted but not yet durable at which the sink refuses (webhook 429); default 100000 (OTLP, $OTEL_BSP_MAX_QUEUE_SIZE), 200000 (store)',
      parsePositiveInt,
    )
    .option('--sink-max-queue-bytes <size>', 'estimated size of those spans at which the sink refuses, e.g. 512Mi (default)', parseByteSize)
    .option(
      '--sink-max-batch-spans <n>',
      'spans per export request; default 1024 (OTLP, $OTEL_BSP_MAX_EXPORT_BATCH_SIZE), 5000 (store transaction)',
      parsePositiveInt,
    )
    .option(
      '--sink-max-batch-bytes <size>',
      "estimated encoded size per export request; keep it under the collector's message limit (default 3Mi for OTLP, the receivers' limit is 4Mi)",
      parseByteSize,
    )
    .option(
      '--sink-schedule-delay <duration>',
      'wait this long for a batch to fill before exporting it (default 0: export at once; $OTEL_BSP_SCHEDULE_DELAY)',
      parseDurationMs,
    )
    .option('--sink-concurrency <n>', 'export requests in flight (default 4)', parsePositiveInt)
    .option(
      '--sink-max-attempts <n>',
      'attempts per batch on transient failures before the writers are told (default 6 for OTLP, 3 for the store)',
      parsePositiveInt,
    )
    .option(
      '--max-attribute-bytes <size>',
      'cut a span attribute (snapshot, diff) above this size, with a marker (default 1Mi; $OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT)',
      parseByteSize,
    )
    .option('--otlp-timeout <duration>', 'deadline of one OTLP export request (default 10s; $OTEL_EXPORTER_OTLP_TIMEOUT)', parseDurationMs)
    .addOption(
      new Option('--otlp-compression <algorithm>', 'compress OTLP requests (default none; $OTEL_EXPORTER_OTLP_COMPRESSION)').choices(['gzip', 'none']),
    );
}

export interface WriterCliOptions {
  sinkMaxQueueSpans?: number;
  sinkMaxQueueBytes?: number;
  sinkMaxBatchSpans?: number;
  sinkMaxBatchBytes?: number;
  sinkScheduleDelay?: number;
  sinkConcurrency?: number;
  sinkMaxAttempts?: number;
  maxAttributeBytes?: number;
  otlpTimeout?: number;
  otlpCompression?: 'gzip' | 'none';
}

/** The writer part of createSink's options (src/sinks/index.ts). */
export function writerOptionsFrom(o: WriterCliOptions) {
  return {
    limits: {
      maxQueueSpans: o.sinkMaxQueueSpans,
      maxQueueBytes: o.sinkMaxQueueBytes,
      maxBatchSpans: o.sinkMaxBatchSpans,
      maxBatchBytes: o.sinkMaxBatchBytes,
      scheduleDelayMs: o.sinkScheduleDelay,
      concurrency: o.sinkConcurrency,
      maxAttempts: o.sinkMaxAttempts,
      maxAttributeBytes: o.maxAttributeBytes,
    },
    otlpTimeoutMs: o.otlpTimeout,
    otlpCompression: o.otlpCompression,
  };
}

/** A loopback listen address: localhost, 127.0.0.0/8, ::1 (not 0.0.0.0 / :: / a routable address). */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (h.startsWith('::ffff:')) return h.slice(7).startsWith('127.');
  return false;
}

export interface ListenCheck {
  /** The flag that set the address, e.g. `--webhook-host`. */
  flag: string;
  host: string;
  /** How clients authenticate on this listener, or undefined when nothing does. */
  authentication?: string;
  /** Flags that would authenticate this listener (named in the error). */
  authFlags?: string;
  allowUnauthenticated: boolean;
}

/**
 * Listeners are loopback or authenticated by default: a non-loopback address without authentication
 * needs --allow-unauthenticated, and then gets a warning at start. Returns the warning to log, if any.
 */
export function checkListen(c: ListenCheck): string | undefined {
  if (isLoopback(c.host) || c.authentication) return undefined;
  if (!c.allowUnauthenticated) {
    const how = c.authFlags ? `require authentication (${c.authFlags}) or pass` : 'it has no authentication of its own: pass';
    throw new Error(`${c.flag} ${c.host} is not a loopback address and anyone who reaches it could use it: ${how} --allow-unauthenticated`);
  }
  return `${c.flag} ${c.host}: listening without authentication on a non-loopback address (--allow-unauthenticated); anyone who reaches it can use it`;
}
