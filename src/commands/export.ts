// `kubetrail export`: the driving actors' writes of a stored range as a re-enactment file
// (docs/reenact.md). Exit 0 written, 2 usage errors, 3 the store is missing or could not be read.
import { writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { parseTimeArg, UsageError } from '../../frontend-plugin/diagnose/params.ts';
import { ExportError, exportReenact } from '../../frontend-plugin/reenact/export.ts';
import { serializeReenact } from '../../frontend-plugin/reenact/format.ts';
import { exportKwok } from '../../frontend-plugin/reenact/kwok.ts';
import { exportSimkube } from '../../frontend-plugin/reenact/simkube.ts';
import { addLogOptions, applyLogLevel, usageErrorsExit2 } from './options.ts';
import { addReadSourceOptions, argParser, openReadSource, type ReadSourceOptions } from './read-source.ts';
import { ExitError, output } from './io.ts';

interface ExportCliOptions extends ReadSourceOptions {
  cluster?: string;
  since?: number;
  until?: number;
  namespace: string[];
  includeActor: string[];
  excludeActor: string[];
  out?: string;
  format: 'reenact' | 'kwok' | 'simkube';
  logLevel?: string;
}

const collect = (v: string, all: string[]): string[] => [...all, v];

export function exportCommand(): Command {
  const cmd = new Command('export')
    .description(
      "write a re-enactment file of a recorded range: the driving actors' writes (users, CI, operators under test — not the built-in controllers), cleaned for re-application, for `kubetrail reenact`",
    )
    .option('--cluster <name>', 'the cluster (default: the only one stored)')
    .option('--since <time>', 'start: RFC 3339, Unix seconds, or a duration before now (1h); default: the first stored event', argParser(parseTimeArg))
    .option('--until <time>', 'end, same forms; default: the last stored event', argParser(parseTimeArg))
    .option('--namespace <ns>', "only this namespace's objects and the namespace itself (repeatable)", collect, [])
    .option('--include-actor <pattern>', "also export this user's writes though it is a built-in controller (glob, * any text; repeatable)", collect, [])
    .option('--exclude-actor <pattern>', "leave this user's writes out (glob; repeatable; wins over --include-actor)", collect, [])
    .option('-o, --out <file>', 'write the file here (default: stdout)')
    .addOption(
      new Option(
        '--format <format>',
        "reenact: kubetrail's re-enactment file (driving writes); kwok: kwok's recording (snapshot + ResourcePatch documents, every actor's writes) for kwokctl snapshot replay; simkube: SimKube's trace file (msgpack, driving writes; needs --out)",
      )
        .choices(['reenact', 'kwok', 'simkube'])
        .default('reenact'),
    );
  addReadSourceOptions(cmd);
  addLogOptions(cmd);
  usageErrorsExit2(cmd);
  return cmd.action(async (o: ExportCliOptions) => {
    applyLogLevel(o);
    await runExport(o);
  });
}

/** Ends the command: program.ts prints `kubetrail: <msg>` and exits with `code`. */
function fail(code: number, msg: string): never {
  throw new ExitError(msg, code);
}

async function runExport(o: ExportCliOptions): Promise<void> {
  if (o.since !== undefined && o.until !== undefined && o.since > o.until) fail(2, '--since is after --until');
  if (o.format === 'simkube' && !o.out) fail(2, '--format simkube writes a binary file (msgpack): give --out FILE');
  let source: ReturnType<typeof openReadSource>;
  try {
    source = openReadSource(o);
  } catch (e) {
    fail(e instanceof UsageError ? 2 : 3, (e as Error).message);
  }
  if ('missingStore' in source) fail(3, `no store at ${source.missingStore} (record into it with serve, or give --store)`);
  try {
    const asked = {
      cluster: o.cluster,
      namespaces: o.namespace,
      startUs: o.since,
      endUs: o.until,
      includeActors: o.includeActor,
      excludeActors: o.excludeActor,
    };
    const { text, summary } =
      o.format === 'kwok' ? await kwokFile(source, asked) : o.format === 'simkube' ? await simkubeFile(source, asked) : await reenactFile(source, asked);
    if (o.out) writeFileSync(o.out, text);
    else output.out(String(text)); // only text formats get here (simkube needs --out)
    output.err(`kubetrail export: ${summary}${o.out ? `; written to ${o.out}` : ''}\n`);
  } catch (e) {
    fail(e instanceof ExportError ? 2 : 3, (e as Error).message);
  } finally {
    await source.close();
  }
}

type Asked = Parameters<typeof exportReenact>[1];

async function reenactFile(source: Parameters<typeof exportReenact>[0], asked: Asked): Promise<{ text: string; summary: string }> {
  const file = await exportReenact(source, asked);
  const skipped = Object.entries(file.header.skipped).map(([why, n]) => `${n} ${why}`);
  return {
    text: serializeReenact(file),
    summary: `${file.actions.length} actions of cluster ${file.header.cluster}${skipped.length ? `; left out: ${skipped.join(', ')}` : ''}`,
  };
}

async function kwokFile(source: Parameters<typeof exportReenact>[0], asked: Asked): Promise<{ text: string; summary: string }> {
  const r = await exportKwok(source, asked);
  const unknown = r.unknown ? `; left out: ${r.unknown} writes of objects whose state was never recorded whole` : '';
  return { text: r.text, summary: `kwok recording: ${r.snapshot} objects in the snapshot, ${r.patches} ResourcePatch documents${unknown}` };
}

async function simkubeFile(source: Parameters<typeof exportReenact>[0], asked: Asked): Promise<{ text: Uint8Array; summary: string }> {
  const r = await exportSimkube(source, asked);
  const skipped = Object.entries(r.skipped).map(([why, n]) => `${n} ${why}`);
  return {
    text: r.bytes,
    summary: `SimKube trace: ${r.events} events, ${r.applied} objects applied, ${r.deleted} deleted; tracked kinds: ${r.tracked.join(', ') || 'none'}${skipped.length ? `; left out: ${skipped.join(', ')}` : ''}`,
  };
}
