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
//
// Memory: versions are kept as their JSON text, not as parsed objects. A parsed ~3 KB pod costs
// several times that in V8 heap (an object header per map, a string per key and value), its JSON
// text about 1 byte per character; it is parsed again only when a diff, snapshot or link needs it
// (updates, patches, deletes — not the creates and status writes that only replace it). The LRU
// is bounded by bytes (`maxBytes`, the sum of the texts plus a per-version overhead) as well as
// by entries, so a cluster of large objects cannot outgrow the budget; the least recently changed
// objects go first, and an evicted object's next change is shown without a diff.
import { LRUCache } from 'lru-cache';
import type { KubeObject } from '../core/audit-event.ts';

const HISTORY = 32;
/** Rough V8 cost of one Version record, its array slot and the LRU bookkeeping, in bytes. */
const VERSION_OVERHEAD = 96;

/** Side data a version carries besides its JSON (the redactor's Secret digests, kept in a WeakMap by object). */
export interface DigestTable {
  digests(obj: unknown): Map<string, string> | undefined;
  attachDigests(obj: object, digests: Map<string, string>): void;
}

export interface VersionCacheOptions {
  /** Upper bound on the bytes held (JSON text + overhead, keys included). */
  maxBytes: number;
  /** Upper bound on the number of objects. */
  maxEntries: number;
  /** Where redaction digests live: they are not part of the JSON, so they are carried beside it. */
  digests?: DigestTable;
}

export interface Version {
  readonly rv: string;
  readonly json: string;
  readonly digests?: Map<string, string>;
  /** Delivered by a watch and not yet explained by an audit event (Metadata-level audit diffs). */
  readonly unclaimed: boolean;
  /** List-watch-only: what attributing the next change needs from this one (see WatchMeta). */
  readonly watch?: WatchMeta;
}

/**
 * Kept with a list-watch-only version: its managedFields entries (the JSON text of
 * src/normalize/watch-change.ts FieldManagerInfo[], stripped from the stored object) and the start
 * time of its span, so that the next change is attributed by what changed between the two and
 * same-second changes keep the order of their resourceVersions.
 */
export interface WatchMeta {
  readonly managed: string;
  readonly atUs: number;
}

/** An object's versions, oldest → newest. Never mutated once stored, so the LRU's size stays right. */
export type History = readonly Version[];

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

/**
 * Where histories live: the committed LRU (VersionCache) or a transaction's overlay over it
 * (src/pipeline/transaction.ts). `update` hands the current history to `change` and stores its
 * result; a store may call `change` again later on another history (a commit applies it to the
 * committed state), so `change` must be a pure function of its argument.
 */
export interface HistoryStore {
  history(key: string): History | undefined;
  update(key: string, change: (h: History | undefined) => History | undefined): void;
}

/** Adds `v` to a history: in resourceVersion order; an audit version drops every older one. */
export function withVersion(versions: History | undefined, v: Version, fromWatch: boolean): History {
  if (!versions?.length) return [v];
  const next = [...versions];
  let at = next.findIndex((x) => x.rv !== '' && x.rv === v.rv);
  if (at >= 0) {
    // already known (the other source brought it): keep the stored text, only claim it
    if (!fromWatch && next[at]!.unclaimed) next[at] = { ...next[at]!, unclaimed: false };
  } else {
    // insert in resourceVersion order; unordered versions count as the newest
    at = next.length;
    while (at > 0 && older(v.rv, next[at - 1]!.rv)) at--;
    next.splice(at, 0, v);
  }
  if (!fromWatch && at > 0) next.splice(0, at);
  if (next.length > HISTORY) next.splice(0, next.length - HISTORY);
  return next;
}

/** The committed per-object histories: an LRU bounded by entries and bytes. */
export class VersionCache implements HistoryStore {
  readonly #lru: LRUCache<string, History>;
  readonly side: DigestTable | undefined;

  constructor(opts: VersionCacheOptions) {
    this.#lru = new LRUCache({ max: opts.maxEntries, maxSize: opts.maxBytes });
    this.side = opts.digests;
  }

  /** Bytes currently accounted (JSON text + overhead). */
  get bytes(): number {
    return this.#lru.calculatedSize;
  }

  /** Objects currently cached. */
  get size(): number {
    return this.#lru.size;
  }

  history(key: string): History | undefined {
    return this.#lru.get(key);
  }

  update(key: string, change: (h: History | undefined) => History | undefined): void {
    const next = change(this.#lru.get(key));
    if (next === undefined || next.length === 0) {
      this.#lru.delete(key);
      return;
    }
    // V8 keeps one-byte (Latin-1) strings at ~1 byte per character; two-byte text is undercounted
    // by half, which the generous overhead and the RSS headroom absorb.
    let size = key.length + VERSION_OVERHEAD;
    for (const v of next) size += v.json.length + v.rv.length + VERSION_OVERHEAD + (v.digests ? v.digests.size * 128 : 0) + (v.watch?.managed.length ?? 0);
    this.#lru.set(key, next, { size });
  }

  /** The version record of `obj` (its JSON text, and the digests the redactor attached to it). */
  encode(obj: KubeObject, rv: string, unclaimed: boolean, json = JSON.stringify(obj), watch?: WatchMeta): Version {
    const digests = this.side?.digests(obj);
    const v: Version = watch ? { rv, json, unclaimed, watch } : { rv, json, unclaimed };
    return digests ? { ...v, digests } : v;
  }

  decode(v: Version): KubeObject {
    const obj = JSON.parse(v.json) as KubeObject;
    if (v.digests) this.side?.attachDigests(obj, v.digests);
    return obj;
  }
}

/**
 * The version questions and changes an event asks for, over a HistoryStore: the committed cache
 * itself (`new Versions(cache, cache)`) or a transaction's overlay.
 */
export class Versions {
  readonly #codec: VersionCache;
  readonly #store: HistoryStore;

  constructor(codec: VersionCache, store: HistoryStore) {
    this.#codec = codec;
    this.#store = store;
  }

  /** The newest known version of the object. */
  last(key: string): KubeObject | undefined {
    const v = this.#store.history(key)?.at(-1);
    return v && this.#codec.decode(v);
  }

  /** The list-watch-only side data of the newest known version (undefined when it has none). */
  lastWatch(key: string): WatchMeta | undefined {
    return this.#store.history(key)?.at(-1)?.watch;
  }

  /** resourceVersion of the newest known version ('' when none or unknown), without parsing it. */
  lastRv(key: string): string | undefined {
    return this.#store.history(key)?.at(-1)?.rv;
  }

  /** The version a change producing `newRv` started from: the newest known one older than `newRv`. */
  previous(key: string, newRv: string): KubeObject | undefined {
    const versions = this.#store.history(key);
    if (!versions?.length) return undefined;
    if (revision(newRv) === undefined) return this.#codec.decode(versions.at(-1)!);
    for (let i = versions.length - 1; i >= 0; i--) {
      if (older(versions[i]!.rv, newRv)) return this.#codec.decode(versions[i]!);
    }
    // Only versions as new or newer are known (the history was trimmed): no diff beats a backwards one.
    return undefined;
  }

  /**
   * Records a version. An audit version also drops everything older than itself.
   * `json` is `JSON.stringify(obj)` when the caller already has it (a snapshot), saving a second one.
   */
  set(key: string, obj: KubeObject, fromWatch: boolean, json?: string, watch?: WatchMeta): void {
    const v = this.#codec.encode(obj, rvOf(obj), fromWatch, json, watch);
    this.#store.update(key, (h) => withVersion(h, v, fromWatch));
  }

  /** Replaces the newest version in place (a change whose new resourceVersion is unknown, e.g. a binding). */
  replaceLast(key: string, obj: KubeObject): void {
    const newest = this.#store.history(key)?.at(-1);
    if (!newest) return;
    const v = this.#codec.encode(obj, newest.rv, newest.unclaimed);
    // Applied again at commit: replace the same version (by resourceVersion) if it is still there.
    this.#store.update(key, (h) => {
      if (!h?.length) return h;
      let at = h.length - 1;
      if (h[at]!.rv !== v.rv) at = h.findLastIndex((x) => x.rv === v.rv);
      if (at < 0) return h;
      const next = [...h];
      next[at] = { ...v, unclaimed: h[at]!.unclaimed };
      return next;
    });
  }

  /** For an audit event without objects: the oldest watch change no audit event explained yet, once. */
  claim(key: string): { prev: KubeObject; cur: KubeObject } | undefined {
    const versions = this.#store.history(key);
    if (!versions) return undefined;
    for (let i = 1; i < versions.length; i++) {
      if (versions[i]!.unclaimed) {
        const rv = versions[i]!.rv;
        const found = { prev: this.#codec.decode(versions[i - 1]!), cur: this.#codec.decode(versions[i]!) };
        this.#store.update(key, (h) => {
          const at = h ? h.findIndex((x, j) => j > 0 && x.unclaimed && x.rv === rv) : -1;
          if (!h || at < 0) return h;
          const next = [...h];
          next[at] = { ...h[at]!, unclaimed: false };
          return next;
        });
        return found;
      }
    }
    return undefined;
  }
}
