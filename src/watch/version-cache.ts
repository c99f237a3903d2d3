// Previous-version cache for diffs, per object key (LRU). Fed by audit response objects and by
// informer watch changes, which race: in a live cluster the informer often delivers versions N,
// N+1, N+2 before the audit events whose responses are N+1 and N+2 reach the webhook. So each
// object keeps a short history ordered by resourceVersion, and the diff of a change that produced
// version V starts from the newest known version older than V — whichever source brought it.
// Audit events arrive in order per object, so after one, every older version is dropped: an
// audit-only run (replay) keeps one version per object; only informer versions not yet explained
// by an audit event add memory (at most HISTORY per object). The informer is easily more than a
// handful of versions ahead of the webhook (kube-apiserver batches audit events for ~1s while a
// Deployment's status changes many times a second), hence a generous HISTORY; a version trimmed
// away makes the next diff span two changes, never go backwards.
import { LRUCache } from 'lru-cache';
import type { KubeObject } from '../audit/types.ts';

const HISTORY = 32;

interface Version {
  rv: string;
  obj: KubeObject;
  /** Delivered by a watch and not yet explained by an audit event (Metadata-level audit diffs). */
  unclaimed: boolean;
}

function rvOf(o: KubeObject): string {
  const rv = o.metadata?.resourceVersion;
  return typeof rv === 'string' ? rv : '';
}

/** resourceVersions are etcd revisions in practice; anything else is not ordered. */
function revision(rv: string): number | undefined {
  if (rv === '' || rv.length > 15) return undefined;
  const n = Number(rv);
  return Number.isInteger(n) ? n : undefined;
}

/** True when `a` is known to be older than `b`. */
function older(a: string, b: string): boolean {
  const x = revision(a);
  const y = revision(b);
  return x !== undefined && y !== undefined && x < y;
}

export class VersionCache {
  /** Per key, versions ordered oldest → newest. */
  readonly #lru: LRUCache<string, Version[]>;

  constructor(max: number) {
    this.#lru = new LRUCache({ max });
  }

  /** The newest known version of the object. */
  last(key: string): KubeObject | undefined {
    return this.#lru.get(key)?.at(-1)?.obj;
  }

  /** The version a change producing `newRv` started from: the newest known one older than `newRv`. */
  previous(key: string, newRv: string): KubeObject | undefined {
    const versions = this.#lru.get(key);
    if (!versions?.length) return undefined;
    if (revision(newRv) === undefined) return versions.at(-1)!.obj;
    for (let i = versions.length - 1; i >= 0; i--) {
      if (older(versions[i]!.rv, newRv)) return versions[i]!.obj;
    }
    // Only versions as new or newer are known (the history was trimmed): no diff beats a backwards one.
    return undefined;
  }

  /** Records a version. An audit version also drops everything older than itself. */
  set(key: string, obj: KubeObject, fromWatch: boolean): void {
    const rv = rvOf(obj);
    const versions = this.#lru.get(key);
    if (!versions) {
      this.#lru.set(key, [{ rv, obj, unclaimed: fromWatch }]);
      return;
    }
    let at = versions.findIndex((v) => v.rv !== '' && v.rv === rv);
    if (at >= 0) {
      if (!fromWatch) versions[at]!.unclaimed = false;
    } else {
      // insert in resourceVersion order; unordered versions count as the newest
      at = versions.length;
      while (at > 0 && older(rv, versions[at - 1]!.rv)) at--;
      versions.splice(at, 0, { rv, obj, unclaimed: fromWatch });
    }
    if (!fromWatch && at > 0) versions.splice(0, at);
    if (versions.length > HISTORY) versions.splice(0, versions.length - HISTORY);
  }

  /** Replaces the newest version in place (a change whose new resourceVersion is unknown, e.g. a binding). */
  replaceLast(key: string, obj: KubeObject): void {
    const newest = this.#lru.get(key)?.at(-1);
    if (newest) newest.obj = obj;
  }

  /** For an audit event without objects: the oldest watch change no audit event explained yet, once. */
  claim(key: string): { prev: KubeObject; cur: KubeObject } | undefined {
    const versions = this.#lru.get(key);
    if (!versions) return undefined;
    for (let i = 1; i < versions.length; i++) {
      if (versions[i]!.unclaimed) {
        versions[i]!.unclaimed = false;
        return { prev: versions[i - 1]!.obj, cur: versions[i]!.obj };
      }
    }
    return undefined;
  }

  delete(key: string): void {
    this.#lru.delete(key);
  }
}
