// Applies a re-enactment file's actions to a cluster through @kubernetes/client-node's
// KubernetesObjectApi (docs/reenact.md): names mapped to the target (namespace prefix, generated
// names), owner references' uids resolved, redacted values filled, namespaces created as needed and
// labelled so `--cleanup` finds what a re-enactment made. It lives in the CLI layer: it reads the
// file format of the read path (frontend-plugin/reenact/format.ts) and writes to a cluster, which no
// lower layer does.
import { KubeConfig, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { isRecord } from '../core/audit-event.ts';
import { parseDiffPath, setPath } from '../../frontend-plugin/reenact/clean.ts';
import type { ActionRef, ReenactAction, SecretPlaceholder } from '../../frontend-plugin/reenact/format.ts';

/** The label on every object and namespace a re-enactment creates; its value names the file (checksum prefix). */
export const REENACT_LABEL = 'kubetrail.io/reenact';
export const FIELD_MANAGER = 'kubetrail-reenact';

type ApiAction = 'create' | 'delete' | 'patch' | 'read' | 'list' | 'replace';

/** KubernetesObjectApi that can also patch a subresource (`status`). */
class ReenactApi extends KubernetesObjectApi {
  subresource = '';
  static make(kc: KubeConfig): ReenactApi {
    const c = kc.makeApiClient(ReenactApi);
    c.setDefaultNamespace(kc);
    return c;
  }
  protected override async specUriPath(spec: KubernetesObject, action: ApiAction): Promise<string> {
    const p = await super.specUriPath(spec, action);
    return this.subresource ? `${p}/${this.subresource}` : p;
  }
}

export interface Outcome {
  seq: number;
  verb: string;
  target: string;
  ok: boolean;
  code?: number;
  reason?: string;
  message?: string;
}

/** `{ "<namespace>/<name>": { "<path>": "<plain value>" } }` as recorded (namespace before any prefix). */
export type SecretValues = Record<string, Record<string, string>>;

/** A refusal in the API server's words: code, Status reason, message. */
export function refusal(e: unknown): { code: number; reason: string; message: string } {
  const err = e as { code?: unknown; body?: unknown; message?: string };
  let body = err.body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {}
  }
  const status = isRecord(body) ? body : {};
  const code = typeof err.code === 'number' ? err.code : Number(status.code ?? 0);
  return {
    code,
    reason: typeof status.reason === 'string' && status.reason ? status.reason : code ? `HTTP ${code}` : 'Error',
    message: typeof status.message === 'string' ? status.message : (err.message ?? String(e)).split('\n')[0]!,
  };
}

export interface ApplierOptions {
  prefix: string;
  /** Names the file: the value of REENACT_LABEL. */
  runId: string;
  secretValues: SecretValues;
  /** Namespaces (recorded names) the file itself creates: not created ahead. */
  fileNamespaces: Set<string>;
  /** Send each write as its recorded user (Kubernetes impersonation: Impersonate-User). */
  asRecordedActor?: boolean;
}

/** The same kubeconfig, its current user impersonating `user` (the API server checks the `impersonate` right). */
function impersonating(kc: KubeConfig, user: string): KubeConfig {
  const current = kc.getCurrentUser()?.name;
  const out = new KubeConfig();
  out.loadFromOptions({
    clusters: kc.clusters,
    contexts: kc.contexts,
    currentContext: kc.currentContext,
    users: kc.users.map((u) => (u.name === current ? { ...u, impersonateUser: user } : u)),
  });
  return out;
}

export class Applier {
  readonly api: ReenactApi;
  /** Secret values filled with stand-ins (no --secret-values entry). */
  readonly standIns: string[] = [];
  readonly #o: ApplierOptions;
  /** `group|namespace|recorded name` → the name in the target (generated names differ). */
  readonly #names = new Map<string, string>();
  /** `group|kind|namespace|name` (target) → uid, for owner references. */
  readonly #uids = new Map<string, string>();
  readonly #namespaces = new Set<string>();
  readonly #kc: KubeConfig;
  /** Clients impersonating a recorded user, by user. */
  readonly #as = new Map<string, ReenactApi>();
  /** The client of the action being applied: `api`, or one impersonating its recorded user. */
  #writer: ReenactApi;
  /** Actions without a recorded user, applied as the kubeconfig's user under --as-recorded-actor. */
  readonly noUser: number[] = [];

  constructor(kc: KubeConfig, o: ApplierOptions) {
    this.api = ReenactApi.make(kc);
    this.#writer = this.api;
    this.#kc = kc;
    this.#o = o;
  }

  #writerFor(a: ReenactAction): ReenactApi {
    const user = a.recorded.user;
    if (!this.#o.asRecordedActor) return this.api;
    if (!user) {
      this.noUser.push(a.seq);
      return this.api;
    }
    let api = this.#as.get(user);
    if (!api) this.#as.set(user, (api = ReenactApi.make(impersonating(this.#kc, user))));
    return api;
  }

  /** The target namespace of a recorded one. */
  ns(recorded: string): string {
    return recorded ? this.#o.prefix + recorded : '';
  }

  /** The object's name in the target. */
  name(ref: ActionRef): string {
    if (ref.group === '' && ref.kind === 'Namespace') return this.ns(ref.name);
    return this.#names.get(`${ref.group}|${ref.namespace}|${ref.name}`) ?? ref.name;
  }

  target(ref: ActionRef): string {
    return `${ref.kind} ${ref.namespace ? `${this.ns(ref.namespace)}/` : ''}${this.name(ref)}`;
  }

  async apply(a: ReenactAction): Promise<Outcome> {
    const base = { seq: a.seq, verb: a.subresource ? `${a.verb} ${a.subresource}` : a.verb, target: this.target(a.ref) };
    try {
      if (a.ref.namespace) await this.ensureNamespace(a.ref.namespace);
      this.#writer = this.#writerFor(a);
      if (a.verb === 'create') await this.#create(a);
      else if (a.verb === 'patch') await this.#patch(a);
      else await this.#writer.delete(this.#header(a.ref));
      return { ...base, ok: true };
    } catch (e) {
      return { ...base, ok: false, ...refusal(e) };
    }
  }

  #header(ref: ActionRef): KubernetesObject {
    const metadata: Record<string, string> = { name: this.name(ref) };
    if (ref.namespace) metadata.namespace = this.ns(ref.namespace);
    return { apiVersion: ref.apiVersion, kind: ref.kind, metadata };
  }

  async #create(a: ReenactAction): Promise<void> {
    const obj = structuredClone(a.object!) as Record<string, unknown> & { metadata: Record<string, unknown> };
    obj.metadata ??= {};
    const md = obj.metadata;
    if (a.ref.namespace) md.namespace = this.ns(a.ref.namespace);
    if (a.ref.kind === 'Namespace' && a.ref.group === '') md.name = this.ns(a.ref.name);
    md.labels = { ...(isRecord(md.labels) ? md.labels : {}), [REENACT_LABEL]: this.#o.runId };
    if (Array.isArray(md.ownerReferences)) md.ownerReferences = await this.#owners(md.ownerReferences as Record<string, unknown>[], a.ref);
    this.#fill(obj, a);
    const made = await this.#writer.create(obj as KubernetesObject, undefined, undefined, FIELD_MANAGER);
    const name = made.metadata?.name ?? a.ref.name;
    this.#names.set(`${a.ref.group}|${a.ref.namespace}|${a.ref.name}`, name);
    if (made.metadata?.uid) this.#uids.set(`${a.ref.group}|${a.ref.kind}|${md.namespace ?? ''}|${name}`, made.metadata.uid);
    if (a.ref.kind === 'Namespace' && a.ref.group === '') {
      this.#namespaces.add(a.ref.name);
      await this.#waitForServiceAccount(name);
    }
  }

  async #patch(a: ReenactAction): Promise<void> {
    const body = structuredClone(a.patch!) as Record<string, unknown>;
    this.#fill(body, a);
    const header = this.#header(a.ref);
    body.apiVersion = header.apiVersion;
    body.kind = header.kind;
    body.metadata = { ...(isRecord(body.metadata) ? body.metadata : {}), ...header.metadata };
    this.#writer.subresource = a.subresource ?? '';
    try {
      await this.#writer.patch(body as KubernetesObject, undefined, undefined, FIELD_MANAGER, undefined, 'application/merge-patch+json');
    } finally {
      this.#writer.subresource = '';
    }
  }

  /** Owner references with the uid of the owner in the target (created by this run, else read); one that cannot be resolved is refused. */
  async #owners(refs: Record<string, unknown>[], of: ActionRef): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    for (const r of refs) {
      const group = String(r.apiVersion).includes('/') ? String(r.apiVersion).split('/')[0]! : '';
      const name = this.#names.get(`${group}|${of.namespace}|${String(r.name)}`) ?? String(r.name);
      const ns = this.ns(of.namespace);
      let uid = this.#uids.get(`${group}|${String(r.kind)}|${ns}|${name}`);
      if (!uid) {
        const owner = await this.api.read({ apiVersion: String(r.apiVersion), kind: String(r.kind), metadata: { name, namespace: ns } });
        uid = owner.metadata?.uid;
      }
      out.push({ ...r, name, uid });
    }
    return out;
  }

  /** Redacted values: from --secret-values, else a stand-in of the recorded length. */
  #fill(body: Record<string, unknown>, a: ReenactAction): void {
    const given = this.#o.secretValues[`${a.ref.namespace}/${a.ref.name}`] ?? {};
    for (const p of a.secrets ?? []) setPath(body, parseDiffPath(p.path), this.#secret(p, given[p.path], a));
  }

  #secret(p: SecretPlaceholder, value: string | undefined, a: ReenactAction): string {
    if (value === undefined) this.standIns.push(`${a.ref.namespace}/${a.ref.name} ${p.path}`);
    const plain = value ?? 'x'.repeat(p.bytes);
    return p.base64 ? Buffer.from(plain).toString('base64') : plain;
  }

  /** Creates a namespace the file does not create itself (labelled; one that exists is used as it is). */
  async ensureNamespace(recorded: string): Promise<void> {
    if (this.#namespaces.has(recorded) || this.#o.fileNamespaces.has(recorded)) return;
    this.#namespaces.add(recorded);
    const name = this.ns(recorded);
    try {
      await this.api.create(
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { [REENACT_LABEL]: this.#o.runId } } },
        undefined,
        undefined,
        FIELD_MANAGER,
      );
    } catch (e) {
      if (refusal(e).code !== 409) throw e;
      return;
    }
    await this.#waitForServiceAccount(name);
  }

  /** Pods are refused in a new namespace until kube-controller-manager made its default ServiceAccount (30 s at most). */
  async #waitForServiceAccount(ns: string): Promise<void> {
    for (let i = 0; i < 60; i++) {
      try {
        await this.api.read({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: ns } });
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }
}
