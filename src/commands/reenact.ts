// `kubetrail reenact FILE`: applies an exported re-enactment file to a (KWOK) cluster on the
// recorded schedule, scaled by --speed; --dry-run prints the plan, --cleanup deletes what a
// re-enactment of the file made (docs/reenact.md). Exit 0 all applied (or cleaned), 1 the API
// server refused some action, 2 usage errors or a refused file (nothing applied).
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import cliProgress from 'cli-progress';
import { KubeConfig } from '@kubernetes/client-node';
import { parseReenact, type ReenactAction, type ReenactFile } from '../../frontend-plugin/reenact/format.ts';
import { Applier, type Outcome, REENACT_LABEL, refusal, type SecretValues } from './reenact-apply.ts';
import { addLogOptions, applyLogLevel, usageErrorsExit2 } from './options.ts';
import { ExitError, output } from './io.ts';

interface ReenactCliOptions {
  kubeconfig?: string;
  speed: number;
  namespacePrefix: string;
  dryRun: boolean;
  cleanup: boolean;
  secretValues?: string;
  asRecordedActor: boolean;
  json: boolean;
  progress: boolean;
  logLevel?: string;
}

function parseSpeed(v: string): number {
  if (v === 'max') return Number.POSITIVE_INFINITY;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('a positive number (1, 2, 10, 0.5) or max');
  return n;
}

function parsePrefix(v: string): string {
  if (!/^[a-z0-9]([-a-z0-9]*)?$/.test(v)) throw new InvalidArgumentError('lowercase letters, digits and -, starting with a letter or digit (e.g. run2-)');
  return v;
}

export function reenactCommand(): Command {
  const cmd = new Command('reenact')
    .description('apply a re-enactment file (kubetrail export) to a cluster on the recorded schedule; a summary of what was applied and refused')
    .argument('<file>', 'the file kubetrail export wrote')
    .option('--kubeconfig <file>', 'the target cluster (default: $KUBECONFIG, then ~/.kube/config)')
    .option('--speed <n|max>', 'play the schedule this many times faster; max: no waiting', parseSpeed, 1)
    .option('--namespace-prefix <prefix>', 'put every namespace under this prefix (re-enact beside the original on one cluster)', parsePrefix, '')
    .option(
      '--secret-values <file>',
      'JSON {"<namespace>/<name>": {"<path>": "<plain value>"}} for redacted values (default: stand-ins of the recorded length)',
    )
    .option(
      '--as-recorded-actor',
      "send each write as its recorded user (Kubernetes impersonation: the kubeconfig's user needs the impersonate right on users)",
      false,
    )
    .option('--dry-run', 'print the plan; contact no cluster', false)
    .option('--cleanup', 'delete what a re-enactment of this file made (its labelled namespaces and objects) instead', false)
    .option('--json', 'print the summary as JSON', false)
    .option('--no-progress', 'no progress bar (it is shown only when stderr is a terminal)');
  addLogOptions(cmd);
  usageErrorsExit2(cmd);
  return cmd.action(async (path: string, o: ReenactCliOptions) => {
    applyLogLevel(o);
    await runReenact(path, o);
  });
}

/** Ends the command: program.ts prints `kubetrail: <msg>` and exits with `code`. */
function fail(code: number, msg: string): never {
  throw new ExitError(msg, code);
}

async function runReenact(path: string, o: ReenactCliOptions): Promise<void> {
  let file: ReturnType<typeof parseReenact>;
  let secretValues: SecretValues = {};
  try {
    file = parseReenact(readFileSync(path, 'utf8'));
  } catch (e) {
    fail(2, `refused ${path}: ${(e as Error).message}; nothing was applied`);
  }
  try {
    if (o.secretValues) secretValues = JSON.parse(readFileSync(o.secretValues, 'utf8')) as SecretValues;
  } catch (e) {
    fail(2, `--secret-values ${o.secretValues}: ${(e as Error).message}; nothing was applied`);
  }
  if (o.dryRun) {
    output.out(planText(file, o.namespacePrefix));
    return;
  }
  const kc = new KubeConfig();
  try {
    if (o.kubeconfig) kc.loadFromFile(o.kubeconfig);
    else kc.loadFromDefault();
  } catch (e) {
    fail(2, `kubeconfig: ${(e as Error).message}`);
  }
  const fileNamespaces = new Set(file.actions.filter((a) => a.verb === 'create' && a.ref.kind === 'Namespace' && a.ref.group === '').map((a) => a.ref.name));
  const applier = new Applier(kc, {
    prefix: o.namespacePrefix,
    runId: file.sha256.slice(0, 16),
    secretValues,
    fileNamespaces,
    asRecordedActor: o.asRecordedActor,
  });
  if (o.cleanup) {
    const failed = await cleanup(applier, file, file.sha256.slice(0, 16), o);
    if (failed > 0) fail(1, `${failed} deletes were refused (listed above)`);
    return;
  }
  const outcomes = await play(applier, file.actions, o);
  output.out(o.json ? `${JSON.stringify(summaryJson(outcomes, applier), null, 2)}\n` : summaryText(path, file, outcomes, applier, o, kc));
  const refused = outcomes.filter((x) => !x.ok && x.code).length;
  const unsent = outcomes.filter((x) => !x.ok && !x.code).length;
  if (refused + unsent === 0) return;
  const n = outcomes.length;
  const what = refused
    ? `the API server refused ${refused} of ${n} actions${unsent ? ` and ${unsent} could not be sent` : ''}`
    : `${unsent} of ${n} actions could not be sent`;
  fail(1, `${what} (listed above)`);
}

/** Applies the actions in order at their scaled offsets; each one waits for the one before. */
async function play(applier: Applier, actions: ReenactAction[], o: ReenactCliOptions): Promise<Outcome[]> {
  const bar =
    o.progress && process.stderr.isTTY
      ? new cliProgress.SingleBar(
          { stream: process.stderr, format: ' {bar} {value}/{total} actions | {refused} refused | {what}', hideCursor: true },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
  bar?.start(actions.length, 0, { refused: 0, what: '' });
  const t0 = Date.now();
  const outcomes: Outcome[] = [];
  for (const a of actions) {
    const wait = t0 + a.offsetMs / o.speed - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    outcomes.push(await applier.apply(a));
    bar?.increment({ refused: outcomes.filter((x) => !x.ok).length, what: `${a.verb} ${applier.target(a.ref)}` });
  }
  bar?.stop();
  return outcomes;
}

const line = (x: Outcome): string => `#${x.seq} ${x.verb} ${x.target}`;

function summaryText(path: string, file: ReenactFile, outcomes: Outcome[], applier: Applier, o: ReenactCliOptions, kc: KubeConfig): string {
  const refused = outcomes.filter((x) => !x.ok);
  const out = [
    `re-enacted ${path} (cluster ${file.header.cluster}, ${file.header.from} .. ${file.header.until}) into ${kc.getCurrentCluster()?.server ?? 'the cluster'} at speed ${o.speed === Number.POSITIVE_INFINITY ? 'max' : o.speed}`,
    `applied ${outcomes.length - refused.length} of ${outcomes.length} actions, not applied ${refused.length}`,
    // no HTTP status: the request never got an answer (unreachable, TLS, unknown kind)
    ...refused.map((x) => (x.code ? `  refused ${line(x)}: ${x.code} ${x.reason}: ${x.message}` : `  not sent ${line(x)}: ${x.message}`)),
  ];
  out.push(...impersonationNotes(refused, applier, o));
  if (applier.standIns.length > 0)
    out.push(`${applier.standIns.length} redacted values filled with stand-ins (give --secret-values): ${applier.standIns.join(', ')}`);
  const args = [
    path,
    '--cleanup',
    ...(o.kubeconfig ? ['--kubeconfig', o.kubeconfig] : []),
    ...(o.namespacePrefix ? ['--namespace-prefix', o.namespacePrefix] : []),
  ];
  out.push(`clean up: kubetrail reenact ${args.join(' ')}`);
  return `${out.join('\n')}\n`;
}

function summaryJson(outcomes: Outcome[], applier: Applier): Record<string, unknown> {
  return { applied: outcomes.filter((x) => x.ok), refused: outcomes.filter((x) => !x.ok), standIns: applier.standIns, noRecordedUser: applier.noUser };
}

/** A refusal of the impersonation itself (403 `… cannot impersonate resource "users" …`), not of the write. */
const isImpersonationRefusal = (x: Outcome): boolean => x.code === 403 && /cannot impersonate/.test(x.message ?? '');

/** --as-recorded-actor: what the kubeconfig's user may not impersonate, and the writes that had no recorded user. */
function impersonationNotes(refused: Outcome[], applier: Applier, o: ReenactCliOptions): string[] {
  if (!o.asRecordedActor) return [];
  const out: string[] = [];
  const denied = refused.filter(isImpersonationRefusal);
  if (denied.length > 0) {
    out.push(
      `--as-recorded-actor: the kubeconfig's user may not impersonate: ${denied.length} actions refused before they were tried (grant it the impersonate verb on users, groups and serviceaccounts, e.g. cluster-admin; or re-enact without --as-recorded-actor)`,
    );
  }
  if (applier.noUser.length > 0)
    out.push(`--as-recorded-actor: ${applier.noUser.length} actions had no recorded user: sent as the kubeconfig's user (#${applier.noUser.join(', #')})`);
  return out;
}

function planText(file: ReenactFile, prefix: string): string {
  const ns = (n: string) => (n ? `${prefix}${n}/` : '');
  const rows = file.actions.map(
    (a) =>
      `+${(a.offsetMs / 1000).toFixed(3)}s #${a.seq} ${a.verb}${a.subresource ? ` ${a.subresource}` : ''} ${a.ref.apiVersion} ${a.ref.kind} ${ns(a.ref.namespace)}${a.ref.name}`,
  );
  return `${file.actions.length} actions of cluster ${file.header.cluster} (${file.header.from} .. ${file.header.until}):\n${rows.join('\n')}\n`;
}

/**
 * Deletes what a re-enactment of the file made: the namespaces it created (labelled with the
 * file's id) whole, then, elsewhere, every object of a kind and namespace the file creates that
 * carries the label. Returns how many deletes were refused (an object already gone is not).
 */
async function cleanup(applier: Applier, file: ReenactFile, runId: string, o: ReenactCliOptions): Promise<number> {
  const selector = `${REENACT_LABEL}=${runId}`;
  const deleted: string[] = [];
  const failed: string[] = [];
  const del = async (obj: { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string } }) => {
    try {
      await applier.api.delete({ apiVersion: obj.apiVersion, kind: obj.kind, metadata: obj.metadata });
      deleted.push(`${obj.kind} ${obj.metadata?.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata?.name}`);
    } catch (e) {
      const r = refusal(e);
      if (r.code !== 404) failed.push(`${obj.kind} ${obj.metadata?.name}: ${r.code} ${r.reason}: ${r.message}`);
    }
  };
  const whole = new Set<string>();
  const recorded = new Set(file.actions.map((a) => a.ref.namespace).filter(Boolean));
  for (const ns of recorded) {
    const list = await applier.api
      .list('v1', 'Namespace', undefined, undefined, undefined, undefined, `metadata.name=${applier.ns(ns)}`, selector)
      .catch(() => undefined);
    for (const item of list?.items ?? []) {
      whole.add(ns);
      await del({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: item.metadata?.name } });
    }
  }
  const kinds = new Map<string, ReenactAction['ref']>();
  for (const a of file.actions)
    if (a.verb === 'create' && !whole.has(a.ref.namespace)) kinds.set(`${a.ref.apiVersion}|${a.ref.kind}|${a.ref.namespace}`, a.ref);
  for (const ref of kinds.values()) {
    const ns = ref.namespace ? applier.ns(ref.namespace) : undefined;
    try {
      const list = await applier.api.list(ref.apiVersion, ref.kind, ns, undefined, undefined, undefined, undefined, selector);
      for (const item of list.items) await del({ apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: item.metadata?.name, namespace: ns } });
    } catch (e) {
      const r = refusal(e);
      if (r.code !== 404) failed.push(`${ref.kind} in ${ns ?? 'the cluster'}: ${r.code} ${r.reason}: ${r.message}`);
    }
  }
  output.out(
    o.json
      ? `${JSON.stringify({ deleted, failed }, null, 2)}\n`
      : `deleted ${deleted.length} (${deleted.join(', ') || 'nothing: no labelled namespace or object found'})${failed.map((f) => `\n  not deleted ${f}`).join('')}\n`,
  );
  return failed.length;
}
