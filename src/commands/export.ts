// `kubetrail export`: the driving actors' writes of a stored range as a re-enactment file
// (docs/reenact.md). Exit 0 written, 2 usage errors, 3 the store is missing or could not be read.
import { writeFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { parseTimeArg, UsageError } from '../../frontend-plugin/diagnose/params.ts';
import { ExportError, exportReenact } from '../../frontend-plugin/reenact/export.ts';
import { serializeReenact } from '../../frontend-plugin/reenact/format.ts';
import { addLogOptions, applyLogLevel } from './options.ts';
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
    .option('-o, --out <file>', 'write the file here (default: stdout)');
  addReadSourceOptions(cmd);
  addLogOptions(cmd);
  cmd.exitOverride((err) => {
    throw err.exitCode === 0 ? err : new CommanderError(2, err.code, err.message);
  });
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
  let source: ReturnType<typeof openReadSource>;
  try {
    source = openReadSource(o);
  } catch (e) {
    fail(e instanceof UsageError ? 2 : 3, (e as Error).message);
  }
  if ('missingStore' in source) fail(3, `no store at ${source.missingStore} (record into it with serve, or give --store)`);
  try {
    const file = await exportReenact(source, {
      cluster: o.cluster,
      namespaces: o.namespace,
      startUs: o.since,
      endUs: o.until,
      includeActors: o.includeActor,
      excludeActors: o.excludeActor,
    });
    const text = serializeReenact(file);
    if (o.out) writeFileSync(o.out, text);
    else output.out(text);
    const skipped = Object.entries(file.header.skipped).map(([why, n]) => `${n} ${why}`);
    output.err(
      `kubetrail export: ${file.actions.length} actions of cluster ${file.header.cluster}${o.out ? ` written to ${o.out}` : ''}${skipped.length ? `; left out: ${skipped.join(', ')}` : ''}\n`,
    );
  } catch (e) {
    fail(e instanceof ExportError ? 2 : 3, (e as Error).message);
  } finally {
    await source.close();
  }
}
