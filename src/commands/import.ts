// `kubetrail import FILE`: a kwok recording (kwokctl/kectl snapshot record, or export --format
// kwok) traced into the store or Jaeger (docs/import.md). The file is checked whole before a sink
// is opened: a foreign, truncated or wrong-version file is refused with nothing written (exit 1);
// a malformed document inside is reported and skipped, the rest traced (exit 2).
import { readFileSync, statSync } from 'node:fs';
import { Command } from 'commander';
import { parseTimeArg } from '../../frontend-plugin/diagnose/params.ts';
import { Pipeline } from '../pipeline/pipeline.ts';
import { createSink } from '../sinks/index.ts';
import { classifyItem } from '../sources/audit-log.ts';
import { kwokChanges, parseKwokRecording, RecordingError, type KwokRecording } from '../sources/kwok-recording.ts';
import { escapeControl, formatSummary, replay } from '../sources/replay.ts';
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
      "trace a kwok recording (kwokctl/kectl snapshot record, or kubetrail export --format kwok) into the store or Jaeger: the snapshot's objects as creates, each ResourcePatch as the change it made",
    )
    .argument('<file>', 'the recording (YAML stream), - for stdin')
    .optionsGroup('Import:')
    .option('--cluster <name>', 'cluster name the recording is of', 'default')
    .option(
      '--start <time>',
      'when the recording started (RFC 3339 or Unix seconds); default: the file was last written when recording stopped, so its modification time minus the last offset',
      argParser(parseTimeArg),
    );
  addReplayOutputOptions(cmd);
  return cmd.action(async (file: string, o: ImportCliOptions) => {
    applyLogLevel(o);
    const config = tracerConfigFrom(o);
    const rec = readRecording(file);
    const startUs = o.start ?? defaultStartUs(file, rec);
    const pipeline = new Pipeline(config);
    // no audit events explain these changes: each one is a span of its own (list-watch mode)
    pipeline.setListWatchOnly(o.cluster, true);
    const chosen = createSink({ otlpEndpoint: o.otlpEndpoint, store: o.store, ...writerOptionsFrom(o) });
    const name = file === '-' ? 'stdin' : file;
    const summary = await replay({
      items: (async function* () {
        yield* kwokChanges(rec, startUs, name);
      })(),
      classify: (x) => (x !== null && typeof x === 'object' && 'recorded' in x ? 'watch' : classifyItem(x)),
      pipeline,
      sink: chosen.sink,
      cluster: o.cluster,
      batchSize: o.batchSize,
    });
    await chosen.sink.close();
    const head = `kwok recording: ${rec.snapshot} objects in the snapshot, ${rec.patches} ResourcePatch documents, started ${new Date(startUs / 1000).toISOString()}`;
    output.out(
      o.json
        ? `${JSON.stringify({ ...summary, snapshot: rec.snapshot, patches: rec.patches, startUs, rejected: summary.errors })}\n`
        : `${head}\n${formatSummary(summary)}\nwritten to ${chosen.describe}\n`,
    );
    const incomplete = replayShortfall({ ...summary, unreadable: [] });
    if (incomplete) throw incomplete;
  });
}

/** The recording read and checked whole; exit 1 (nothing written) when it cannot be used. */
function readRecording(file: string): KwokRecording {
  const problem = inputProblem(file);
  if (problem) throw new ExitError(`nothing imported: ${escapeControl(problem)}`, 1);
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new ExitError(`nothing imported: ${escapeControl(`${file}: ${(err as Error).message}`)}`, 1);
  }
  try {
    return parseKwokRecording(text);
  } catch (err) {
    if (err instanceof RecordingError) throw new ExitError(`nothing imported: ${escapeControl(`${file}: ${err.message}`)}`, 1);
    throw err;
  }
}

/** kwok writes the file while it records: its modification time is when recording stopped. */
function defaultStartUs(file: string, rec: KwokRecording): number {
  const endMs = file === '-' ? Date.now() : statSync(file).mtimeMs;
  return Math.round(endMs * 1000 - rec.lastOffsetNs / 1000);
}
