// `kubetrail explain <kind>/<name>`: why one object is in its state at a time (docs/diagnose.md,
// "Explain"). Exit 0 when explained, 2 on usage errors, 3 when the store is missing or could not
// be read, 4 when the record holds no event of the object at or before the time.
import { Command } from 'commander';
import { isClusterScoped, knownResource } from '../core/kinds.ts';
import type { ObjectRef } from '../core/model.ts';
import type { TraceBackend } from '../../frontend-plugin/backend/backend.ts';
import { explainObject, explanationText } from '../../frontend-plugin/diagnose/explain.ts';
import { parseTimeArg, UsageError } from '../../frontend-plugin/diagnose/params.ts';
import { addLogOptions, applyLogLevel, usageErrorsExit2 } from './options.ts';
import { addReadSourceOptions, argParser, openReadSource, type ReadSourceOptions } from './read-source.ts';

/** `deployment/web`, `deploy/web`, `widgets.example.com/x` (resource.group) → a ref without cluster. */
export function parseTarget(text: string, namespace: string): ObjectRef {
  const at = text.indexOf('/');
  if (at <= 0 || at === text.length - 1) throw new UsageError(`expected <kind>/<name> (e.g. pod/web-0, deployment/api), got '${text}'`);
  const kind = text.slice(0, at).toLowerCase();
  const name = text.slice(at + 1);
  const dot = kind.indexOf('.');
  const [group, resource] = knownResource(kind) ?? (dot > 0 ? [kind.slice(dot + 1), kind.slice(0, dot)] : [undefined, undefined]);
  if (resource === undefined)
    throw new UsageError(`unknown kind '${kind}' (a kind, resource or short name kubectl knows, e.g. deployment, pods, cm; or resource.group)`);
  return { cluster: '', group: group!, resource, namespace: isClusterScoped(group!, resource) ? '' : namespace, name };
}

interface ExplainCliOptions extends ReadSourceOptions {
  namespace: string;
  cluster?: string;
  at?: number;
  json: boolean;
  uiUrl?: string;
  logLevel?: string;
}

export function explainCommand(): Command {
  const cmd = new Command('explain')
    .description(
      'why an object is in its state at a time: last changes of the fields that matter, who made them, what it waits for, the findings that touch it',
    )
    .argument('<kind/name>', 'the object: pod/web-0, deployment/api, configmap/settings, namespace/team-a, resource.group/name')
    .option('-n, --namespace <ns>', 'its namespace', 'default')
    .option('--cluster <name>', 'its cluster (default: the only one stored)')
    .option('--at <time>', 'the time to explain: RFC 3339, Unix seconds, or a duration before now (default: the last stored event)', argParser(parseTimeArg));
  addReadSourceOptions(cmd)
    .option('--json', 'print the explanation as JSON', false)
    .option('--ui-url <url>', 'base URL of the kubetrail UI, to print full links');
  addLogOptions(cmd);
  usageErrorsExit2(cmd);
  return cmd.action(async (target: string, o: ExplainCliOptions) => {
    applyLogLevel(o);
    process.exitCode = await runExplain(target, o);
  });
}

const fail = (code: number, msg: string): number => {
  process.stderr.write(`kubetrail explain: ${msg}\n`);
  return code;
};

async function runExplain(target: string, o: ExplainCliOptions): Promise<number> {
  let ref: ObjectRef;
  let backend: TraceBackend | { missingStore: string };
  try {
    ref = parseTarget(target, o.namespace);
    backend = openReadSource(o);
  } catch (e) {
    if (e instanceof UsageError) return fail(2, e.message);
    throw e;
  }
  if ('missingStore' in backend) return fail(3, `no store at ${backend.missingStore} (replay an audit log into it, or give --store / --jaeger-query)`);
  try {
    if (o.cluster) ref.cluster = o.cluster;
    else {
      const clusters = await backend.clusters();
      if (clusters.length !== 1) return fail(2, `--cluster is needed when ${clusters.length} clusters are stored (${clusters.join(', ')})`);
      ref.cluster = clusters[0]!;
    }
    const ex = await explainObject(backend, ref, { atUs: o.at });
    if (!ex) return fail(4, `${target} in namespace '${ref.namespace}' of cluster '${ref.cluster}' is not in the record${o.at ? ' at or before --at' : ''}`);
    process.stdout.write(o.json ? `${JSON.stringify(ex, null, 2)}\n` : explanationText(ex, o.uiUrl));
    return 0;
  } catch (e) {
    return fail(3, (e as Error).message);
  } finally {
    await backend.close();
  }
}

export default explainCommand;
