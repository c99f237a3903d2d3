// `kubetrail import FILE`: a kwok recording (kwokctl/kectl snapshot record, or export --format
// kwok) or a SimKube trace (sk-tracer / skctl export, or export --format simkube; told apart by
// its first byte: msgpack) traced into the store or Jaeger (docs/import.md). The file is checked whole before a sink
// is opened: a foreign, truncated or wrong-version file is refused with nothing written (exit 1);
// a malformed document inside is reported and skipped, the rest traced (exit 2).
import { readFileSync, statSync } from 'node:fs';
import { Command } from 'commander';
import { parseTimeArg } from '../../frontend-plugin/diagnose/params.ts';
import { Pipeline } from '../pipeline/pipeline.ts';
import { createSink } from '../sinks/index.ts';
import { classifyItem } from '../sources/audit-log.ts';
import { kwokChanges, parseKwokRecording, type RecordedItem, RecordingError, type KwokRecording } from '../sources/kwok-recording.ts';
import { escapeControl, formatSummary, replay } from '../sources/replay.ts';
import { looksLikeMsgpack, parseSimkubeTrace, type SimkubeTrace, simkubeChanges } from '../sources/simkube-trace.ts';
import { ExitError, output } from './io.ts';
import { argParser } from './read-source.ts';
import { addReplayOutputOptions, inputProblem, replayShortfall } from './replay.ts';
import { applyLogLevel, tracerConfigFrom, type TracerCliOptions, type WriterCliOptions, writerOptionsFrom } from './options.ts';

interface ImportCliOptions extends TracerCliOptions, WriterCliOptions {
  cluster: string;
  start?: number;
  otlpEndpoint?: string;
  store?: string;
  json: boolean;
  batchSize: number;
  logLevel?: string;
}

export function importCommand(): Command {
  const cmd = new Command('import')
    .description(
      'trace a kwok recording (kwokctl/kectl snapshot record, or kubetrail export --format kwok) or a SimKube trace (msgpack, version 2) into the store or Jaeger: each recorded object state as the change it made',
    )
    .argument('<file>', 'the recording (YAML stream) or SimKube trace (msgpack), - for stdin')
    .optionsGroup('Import:')
    .option('--cluster <name>', 'cluster name the recording is of', 'default')
    .option(
      '--start <time>',
      'when the recording started (RFC 3339 or Unix seconds); default for kwok: the file was last written when recording stopped, so its modification time minus the last offset; a SimKube trace has its own times, which --start moves so that its first event is at T',
      argParser(parseTimeArg),
    );
  addReplayOutputOptions(cmd);
  return cmd.action(async (file: string, o: ImportCliOptions) => {
    applyLogLevel(o);
    const config = tracerConfigFrom(o);
    const input = readInput(file);
    const name = file === '-' ? 'stdin' : file;
    const what = 'trace' in input ? simkubeInput(input.trace, o.start) : kwokInput(input.rec, o.start ?? defaultStartUs(file, input.rec));
    const pipeline = new Pipeline(config);
    // no audit events explain these changes: each one is a span of its own (list-watch mode)
    pipeline.setListWatchOnly(o.cluster, true);
    const chosen = createSink({ otlpEndpoint: o.otlpEndpoint, store: o.store, ...writerOptionsFrom(o) });
    const summary = await replay({
      items: (async function* () {
        yield* what.items(name);
      })(),
      classify: (x) => (x !== null && typeof x === 'object' && 'recorded' in x ? 'watch' : classifyItem(x)),
      pipeline,
      sink: chosen.sink,
      cluster: o.cluster,
      batchSize: o.batchSize,
    });
    await chosen.sink.close();
    output.out(
      o.json
        ? `${JSON.stringify({ ...summary, ...what.json, rejected: summary.errors })}\n`
        : `${what.head}\n${formatSummary(summary)}\nwritten to ${chosen.describe}\n`,
    );
    const incomplete = replayShortfall({ ...summary, unreadable: [] });
    if (incomplete) throw incomplete;
  });
}

interface ImportInput {
  items: (file: string) => Iterable<RecordedItem>;
  head: string;
  json: Record<string, unknown>;
}

function kwokInput(rec: KwokRecording, startUs: number): ImportInput {
  return {
    items: (file) => kwokChanges(rec, startUs, file),
    head: `kwok recording: ${rec.snapshot} objects in the snapshot, ${rec.patches} ResourcePatch documents, started ${new Date(startUs / 1000).toISOString()}`,
    json: { format: 'kwok', snapshot: rec.snapshot, patches: rec.patches, startUs },
  };
}

/** A SimKube trace at its own times, or moved so that its first event is at `startUs`. */
function simkubeInput(trace: SimkubeTrace, startUs: number | undefined): ImportInput {
  const shiftUs = startUs === undefined ? 0 : startUs - trace.firstTs * 1e6;
  const firstUs = trace.firstTs * 1e6 + shiftUs;
  const objects = trace.entries.filter((e) => 'object' in e).length;
  return {
    items: (file) => simkubeChanges(trace, shiftUs, file),
    head: `SimKube trace (version ${trace.version}): ${trace.events} events, ${objects} objects applied or deleted, started ${new Date(firstUs / 1000).toISOString()}`,
    json: { format: 'simkube', version: trace.version, events: trace.events, objects, startUs: firstUs },
  };
}

/** The recording or trace read and checked whole; exit 1 (nothing written) when it cannot be used. */
function readInput(file: string): { rec: KwokRecording } | { trace: SimkubeTrace } {
  const refuse = (msg: string): never => {
    throw new ExitError(`nothing imported: ${escapeControl(`${file}: ${msg}`)}`, 1);
  };
  const problem = inputProblem(file);
  if (problem) throw new ExitError(`nothing imported: ${escapeControl(problem)}`, 1);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file === '-' ? 0 : file);
  } catch (err) {
    return refuse((err as Error).message);
  }
  try {
    return looksLikeMsgpack(bytes) ? { trace: parseSimkubeTrace(bytes) } : { rec: parseKwokRecording(bytes.toString('utf8')) };
  } catch (err) {
    if (err instanceof RecordingError) return refuse(err.message);
    throw err;
  }
}

/** kwok writes the file while it records: its modification time is when recording stopped. */
function defaultStartUs(file: string, rec: KwokRecording): number {
  const endMs = file === '-' ? Date.now() : statSync(file).mtimeMs;
  return Math.round(endMs * 1000 - rec.lastOffsetNs / 1000);
}
