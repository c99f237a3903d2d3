// Previous-version cache for diffs, per object key (LRU). Fed by audit response objects and by
// informer watch changes. Keeps the last two versions by resourceVersion, because the informer
// often delivers version N before the audit event whose response is version N: that audit event
// must then diff N-1 → N, not N → N. Memory: about cacheSize × (one or two parsed objects).
import { LRUCache } from 'lru-cache';
import type { KubeObject } from '../audit/types.ts';

interface Entry {
  cur: KubeObject;
  curRv: string;
  prev?: KubeObject;
  /** Set by a watch change no audit event has claimed yet (Metadata-level audit diffs). */
  unclaimed: boolean;
}

function rvOf(o: KubeObject): string {
  const rv = o.metadata?.resourceVersion;
  return typeof rv === 'string' ? rv : '';
}

/** True when `a` is known to be older than `b` (resourceVersions are etcd revisions in practice). */
function older(a: string, b: string): boolean {
  if (a === '' || b === '' || a.length > 15 || b.length > 15) return false;
  const x = Number(a);
  const y = Number(b);
  return Number.isInteger(x) && Number.isInteger(y) && x < y;
}

export class VersionCache {
  readonly #lru: LRUCache<string, Entry>;

  constructor(max: number) {
    this.#lru = new LRUCache({ max });
  }

  /** The last known version of the object. */
  last(key: string): KubeObject | undefined {
    return this.#lru.get(key)?.cur;
  }

  /** The version before `newRv` (the one a change producing `newRv` started from). */
  previous(key: string, newRv: string): KubeObject | undefined {
    const e = this.#lru.get(key);
    if (!e) return undefined;
    if (newRv !== '' && e.curRv === newRv) return e.prev;
    // The informer is more than one version ahead: better no diff than a backwards one.
    if (older(newRv, e.curRv)) return e.prev && older(rvOf(e.prev), newRv) ? e.prev : undefined;
    return e.cur;
  }

  /** Records a version; an older or equal resourceVersion than the newest known is ignored. */
  set(key: string, obj: KubeObject, fromWatch: boolean): void {
    const rv = rvOf(obj);
    const e = this.#lru.get(key);
    if (!e) {
      this.#lru.set(key, { cur: obj, curRv: rv, unclaimed: false });
      return;
    }
    if (rv !== '' && rv === e.curRv) {
      if (!fromWatch) e.unclaimed = false;
      return;
    }
    if (older(rv, e.curRv)) {
      if (!e.prev || older(rvOf(e.prev), rv)) e.prev = obj;
      return;
    }
    // The version before `cur` is only needed when the informer got ahead of the audit events
    // (see above); after an audit event it is dropped, halving the memory of audit-only tracing.
    e.prev = fromWatch ? e.cur : undefined;
    e.cur = obj;
    e.curRv = rv;
    e.unclaimed = fromWatch;
  }

  /** Replaces the newest version in place (a change whose new resourceVersion is unknown, e.g. a binding). */
  replaceLast(key: string, obj: KubeObject): void {
    const e = this.#lru.get(key);
    if (e) e.cur = obj;
  }

  /** For an audit event without objects: the watch change it explains, once. */
  claim(key: string): { prev: KubeObject; cur: KubeObject } | undefined {
    const e = this.#lru.get(key);
    if (!e || !e.unclaimed || !e.prev) return undefined;
    e.unclaimed = false;
    return { prev: e.prev, cur: e.cur };
  }

  delete(key: string): void {
    this.#lru.delete(key);
  }
}
