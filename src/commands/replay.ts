// `kubetrail replay FILE...`: audit logs (rotated, .gz, '-' for stdin) and Event dumps into a sink.
import { accessSync, constants, statSync } from 'node:fs';
import { Command } from 'commander';
import cliProgress from 'cli-progress';
import { Pipeline } from '../pipeline/pipeline.ts';
import { readAuditLogs, classifyItem } from '../sources/audit-log.ts';
import { createSink } from '../sinks/index.ts';
import type { SpanSink } from '../core/sink.ts';
import { replay, escapeControl, formatSummary, type ReplaySummary } from '../sources/replay.ts';
import type { TracerConfig } from '../core/config.ts';
import { log } from '../core/log.ts';
import { ExitError, output } from './io.ts';
import {
  addConfigFileOption,
  addLogOptions,
  addTraceIntoSinkOptions,
  writerOptionsFrom,
  type WriterCliOptions,
  applyLogLevel,
  parsePositiveInt,
  tracerConfigFrom,
  type TracerCliOptions,
} from './options.ts';

interface ReplayCliOptions extends TracerCliOptions, WriterCliOptions {
  cluster: string;
  otlpEndpoint?: string;
  store?: string;
  follow: boolean;
  progress: boolean;
  json: boolean;
  batchSize: number;
  logLevel?: string;
}

export function replayCommand(): Command {
  const cmd = new Command('replay')
    .description('trace audit log files (JSON lines, rotated or .gz, - for stdin) and Kubernetes Event dumps into the store or Jaeger')
    .argument('<files...>', 'audit log files (also GKE, EKS and AKS audit exports); rotated siblings are merged in time order')
    .optionsGroup('Replay:')
    .option('--cluster <name>', 'cluster name the events belong to', 'default')
    .option('--follow', 'keep reading appended lines (like tail -f) until interrupted', false)
    .option('--no-progress', 'no progress bar (it is shown only when stderr is a terminal)');
  addReplayOutputOptions(cmd);
  cmd.helpOption('-h, --help', 'display help for command');
  return cmd.action(async (files: string[], o: ReplayCliOptions) => {
    applyLogLevel(o);
    const config = tracerConfigFrom(o);
    // Nothing to read at all: say so before creating a store for nothing.
    const problems = files.map(inputProblem);
    if (problems.every((p) => p !== undefined)) {
      throw new Error(`no input could be read, nothing replayed:\n${problems.map((p) => `  ${escapeControl(p!)}`).join('\n')}`);
    }
    const chosen = createSink({ otlpEndpoint: o.otlpEndpoint, store: o.store, ...writerOptionsFrom(o) });
    const summary = await replayFiles({
      files,
      cluster: o.cluster,
      sink: chosen.sink,
      config,
      follow: o.follow,
      progress: o.progress && Boolean(process.stderr.isTTY),
      batchSize: o.batchSize,
    });
    await chosen.sink.close();
    // JSON: `rejected` is the webhook's word for what `errors` (kept for compatibility) counts.
    output.out(o.json ? `${JSON.stringify({ ...summary, rejected: summary.errors })}\n` : `${formatSummary(summary)}\nwritten to ${chosen.describe}\n`);
    const incomplete = replayShortfall(summary);
    if (incomplete) throw incomplete;
  });
}

/** The options replay and import share after their own: the summary, the sink, the tracer, general ones. */
export function addReplayOutputOptions(cmd: Command): Command {
  cmd.option('--json', 'print the summary as JSON', false).option('--batch-size <spans>', 'spans per sink write', parsePositiveInt, 5000);
  addTraceIntoSinkOptions(cmd);
  cmd.optionsGroup('General:');
  addLogOptions(cmd);
  return addConfigFileOption(cmd);
}

/**
 * Exit codes of replay (docs/usage.md): 0 when every item read was traced or skipped; 1 when
 * nothing could be replayed (every item read was rejected; also a sink failure, bad flags, no
 * input that opens); 2 when the replay went to the end but not all input was used: items
 * rejected, or an input that could not be read to its end.
 */
export function replayShortfall(s: ReplayFilesSummary): ExitError | undefined {
  const lines: string[] = [];
  if (s.errors > 0 && s.errors === s.eventsRead) {
    return new ExitError(
      `nothing replayed: all ${s.errors} item${s.errors === 1 ? '' : 's'} read ${s.errors === 1 ? 'was' : 'were'} rejected (first: ${escapeControl(s.errorSamples[0] ?? '')}); is this an audit log or an Event dump?`,
      1,
    );
  }
  if (s.unreadable.length > 0) {
    lines.push(`not all input could be read (what could be read was replayed):\n${s.unreadable.map((u) => `  ${escapeControl(u)}`).join('\n')}`);
  }
  // an input that stops early is counted among the rejected items too (its last line read)
  const bad = s.errors - s.unreadable.length;
  if (bad > 0)
    lines.push(
      `${bad} of ${s.eventsRead} items read ${bad === 1 ? 'was' : 'were'} rejected as bad input (listed under "rejected" in the summary); the rest was replayed`,
    );
  return lines.length > 0 ? new ExitError(lines.join('\n'), 2) : undefined;
}

/** Why a replay input cannot be opened (missing, a directory, not readable), or undefined. */
export function inputProblem(file: string): string | undefined {
  if (file === '-') return undefined;
  try {
    if (statSync(file).isDirectory()) return `${file}: is a directory`;
    accessSync(file, constants.R_OK);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return `${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`;
  }
}

export interface ReplayFilesOptions {
  files: string[];
  cluster: string;
  sink: SpanSink;
  config?: Partial<TracerConfig>;
  follow?: boolean;
  progress?: boolean;
  batchSize?: number;
}

export interface ReplayFilesSummary extends ReplaySummary {
  /** Inputs that could not be read to their end, `file:line: reason` (line 0: nothing read). */
  unreadable: string[];
}

/** Replays files through a fresh pipeline; used by `replay` and `demo`. */
export async function replayFiles(o: ReplayFilesOptions): Promise<ReplayFilesSummary> {
  const pipeline = new Pipeline(o.config);
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  if (o.follow) {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  let total = 0;
  for (const f of o.files) {
    if (f === '-') continue;
    try {
      total += statSync(f).size;
    } catch {
      // missing files are reported by the reader
    }
  }
  const bar = o.progress
    ? new cliProgress.SingleBar(
        { stream: process.stderr, format: ' {bar} {percentage}% | {value}/{total} bytes | {events} events | {spans} spans', hideCursor: true },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  let bytes = 0;
  bar?.start(Math.max(total, 1), 0, { events: 0, spans: 0 });
  const unreadable: string[] = [];
  async function* items() {
    for await (const item of readAuditLogs(o.files, { follow: o.follow, signal: abort.signal, onBytes: (n) => (bytes += n) })) {
      if (item.incomplete) unreadable.push(`${item.file}:${item.line}: ${item.error}`);
      yield item;
    }
  }
  try {
    const summary = await replay({
      items: items(),
      classify: classifyItem,
      pipeline,
      sink: o.sink,
      cluster: o.cluster,
      batchSize: o.batchSize,
      idleFlushMs: o.follow ? 1000 : undefined,
      onEvent: bar
        ? (s) => {
            if (s.eventsRead % 200 === 0) bar.update(Math.min(bytes, Math.max(total, 1)), { events: s.eventsRead, spans: s.spansWritten });
          }
        : undefined,
    });
    return { ...summary, unreadable };
  } catch (err) {
    log.error({ err: (err as Error).message }, 'replay failed');
    throw err;
  } finally {
    if (bar) {
      bar.update(Math.min(bytes, Math.max(total, 1)));
      bar.stop();
    }
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
