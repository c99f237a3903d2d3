// Watch changes no audit event explains (audit mode, informers on): the API server dropped the
// audit event (an audit policy rule `level: None`, a batch it gave up on) or never sent it. Such a
// change used to feed the diff cache only and leave no trace; it is kept here for a grace period —
// the API server sends audit events in batches that lag behind the watch (up to
// --audit-webhook-batch-max-wait, 30 s by default, plus its retries) — and when no audit event
// explained it by then, it becomes an event span `source: watch, attribution: unexplained`, which
// the diagnosis' completeness detector reports.
//
// What explains a change: an audit event of the object whose resulting resourceVersion is the
// change's; an audit event of the object that carries no resourceVersion (Metadata level, a
// binding, an eviction: their answer is a Status) explains its oldest pending change; a deletion
// (watch DELETED carries the deletion's revision, the audit answer may not) is explained by any
// audit write of the object within the grace period. Either order: an audit event that comes first
// is remembered for the grace period. Objects the informers list at start (ADDED, created before
// the tracker started) are not changes. Bounded: at most `maxPending` changes wait (the oldest
// are dropped, counted) and the remembered audit facts are an LRU with a TTL.
import { LRUCache } from 'lru-cache';
import { objectKey, type ObjectRef } from '../core/model.ts';

export interface UnexplainedChange {
  ref: ObjectRef;
  version: string;
  uid: string;
  rv: string;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  /** When the watch delivered it (Unix ms). */
  seenMs: number;
}

export interface UnexplainedOptions {
  /** How long an audit event may still come after the watch change (ms). */
  graceMs: number;
  /** Changes waiting at most (the oldest are dropped beyond). */
  maxPending?: number;
  /** Clock (Unix ms); tests pass their own. */
  now?: () => number;
}

export class UnexplainedWatchChanges {
  readonly graceMs: number;
  readonly #maxPending: number;
  readonly #now: () => number;
  readonly #startedMs: number;
  /** key → pending changes of that object, oldest first */
  readonly #pending = new Map<string, UnexplainedChange[]>();
  #pendingCount = 0;
  /** `key|rv` of audit events seen before their watch change */
  readonly #explained: LRUCache<string, true>;
  /** key → audit events without a resourceVersion not yet matched to a change */
  readonly #credits: LRUCache<string, number>;
  /** key → time of its last audit write (explains a deletion) */
  readonly #lastAudit: LRUCache<string, number>;
  /** Changes dropped because too many waited. */
  dropped = 0;

  constructor(o: UnexplainedOptions) {
    this.graceMs = o.graceMs;
    this.#maxPending = o.maxPending ?? 50_000;
    this.#now = o.now ?? Date.now;
    this.#startedMs = this.#now();
    const lru = { max: 100_000, ttl: Math.max(1, 2 * o.graceMs), ttlAutopurge: false };
    this.#explained = new LRUCache(lru);
    this.#credits = new LRUCache(lru);
    this.#lastAudit = new LRUCache(lru);
  }

  /** An accepted audit write of `ref`; `rv` = the resourceVersion it produced ('' when its answer has none). */
  audit(ref: ObjectRef, rv: string): void {
    const key = objectKey(ref);
    this.#lastAudit.set(key, this.#now());
    const list = this.#pending.get(key);
    const at = rv && list ? list.findIndex((c) => c.rv === rv) : -1;
    if (list && at >= 0) this.#take(key, list, at);
    else if (!rv && list?.length) this.#take(key, list, 0);
    else if (rv) this.#explained.set(`${key}|${rv}`, true);
    else this.#credits.set(key, (this.#credits.get(key) ?? 0) + 1);
    // a deletion's revision is not in the answer of the write that ended it
    const rest = this.#pending.get(key);
    const del = rest?.findIndex((c) => c.type === 'DELETED') ?? -1;
    if (rest && del >= 0) this.#take(key, rest, del);
  }

  /** A watch change (audit mode); kept unless an audit event already explained it. */
  watch(c: Omit<UnexplainedChange, 'seenMs'>, createdMs: number | undefined): void {
    if (c.type === 'ADDED' && (createdMs === undefined || createdMs < this.#startedMs - 1000)) return; // the initial list
    const key = objectKey(c.ref);
    if (c.rv && this.#explained.delete(`${key}|${c.rv}`)) return;
    const credits = this.#credits.get(key) ?? 0;
    if (credits > 0) {
      if (credits === 1) this.#credits.delete(key);
      else this.#credits.set(key, credits - 1);
      return;
    }
    const last = this.#lastAudit.get(key);
    if (c.type === 'DELETED' && last !== undefined && this.#now() - last <= this.graceMs) return;
    let list = this.#pending.get(key);
    if (!list) this.#pending.set(key, (list = []));
    list.push({ ...c, seenMs: this.#now() });
    this.#pendingCount++;
    if (this.#pendingCount > this.#maxPending) this.#dropOldest();
  }

  /** The changes still unexplained a grace period after the watch delivered them (removed from the pending ones). */
  due(): UnexplainedChange[] {
    const limit = this.#now() - this.graceMs;
    const out: UnexplainedChange[] = [];
    for (const [key, list] of this.#pending) {
      while (list.length && list[0]!.seenMs <= limit) {
        out.push(list.shift()!);
        this.#pendingCount--;
      }
      if (!list.length) this.#pending.delete(key);
    }
    return out.sort((a, b) => a.seenMs - b.seenMs);
  }

  get pending(): number {
    return this.#pendingCount;
  }

  #take(key: string, list: UnexplainedChange[], at: number): void {
    list.splice(at, 1);
    this.#pendingCount--;
    if (!list.length) this.#pending.delete(key);
  }

  /** The first object in the map waited longest, or nearly (a key rejoins at the end once its list emptied). */
  #dropOldest(): void {
    const first = this.#pending.entries().next();
    if (first.done) return;
    this.#take(first.value[0], first.value[1], 0);
    this.dropped++;
  }
}
