// State that commits on acknowledgement. The pipeline remembers, between events, each object's
// version history (for diffs) and which object/link spans it already emitted. An event changes
// that state only inside a transaction: the changes are staged in an overlay that later events of
// the same transaction see (one webhook EventList holds the create and the updates of an object),
// and reach the pipeline's committed state only on commit(), which a source calls once the sink
// acknowledged the spans. A refused batch is rolled back (or simply dropped), so the API server's
// retry of it is traced exactly as the first attempt was: same diffs, same object and link spans.
//
// Each staged change is kept twice: applied to the overlay at once, and as a pure function
// replayed on the committed state at commit. Two transactions may be open at once (two webhook
// batches in flight); each sees the committed state plus its own changes, and a commit merges
// its changes into whatever was committed meanwhile (versions are inserted in resourceVersion
// order, marks are sets), never overwriting the other transaction's.
//
// A long-lived transaction (replay, informers) commits in steps: mark() after an event, then
// commit(mark) once the spans of the events up to it are durable. Commits apply in order.
import type { EmittedMarks, WindowTrace } from '../aggregate/span-builder.ts';
import type { History, HistoryStore } from './version-cache.ts';

/** The committed state a transaction stages changes over. */
export interface CommittedState {
  versions: HistoryStore;
  marks: EmittedMarks;
}

interface Staged<V> {
  value: V;
  /** Sequence number of the last staged change of this entry. */
  seq: number;
}

export class StateTransaction implements HistoryStore, EmittedMarks {
  readonly #base: CommittedState;
  readonly #histories = new Map<string, Staged<History | undefined>>();
  readonly #objects = new Map<string, Staged<WindowTrace>>();
  readonly #links = new Map<string, Staged<true>>();
  /** Staged changes in order: each applies itself to the committed state and unstages its entry. */
  #log: { seq: number; apply: () => void }[] = [];
  #seq = 0;

  constructor(base: CommittedState) {
    this.#base = base;
  }

  /** Number of staged changes not committed yet. */
  get staged(): number {
    return this.#log.length;
  }

  /** A point after every change staged so far, for commit(). */
  mark(): number {
    return this.#seq;
  }

  /** Applies the changes staged up to `upTo` (default: all) to the committed state. */
  commit(upTo: number = this.#seq): void {
    let n = 0;
    while (n < this.#log.length && this.#log[n]!.seq <= upTo) this.#log[n++]!.apply();
    if (n > 0) this.#log = this.#log.slice(n);
  }

  /** Forgets every change not committed: what comes next is traced from the committed state. */
  rollback(): void {
    this.#log = [];
    this.#histories.clear();
    this.#objects.clear();
    this.#links.clear();
  }

  // HistoryStore

  history(key: string): History | undefined {
    const s = this.#histories.size > 0 ? this.#histories.get(key) : undefined;
    return s ? s.value : this.#base.versions.history(key);
  }

  update(key: string, change: (h: History | undefined) => History | undefined): void {
    const seq = ++this.#seq;
    this.#histories.set(key, { value: change(this.history(key)), seq });
    this.#log.push({
      seq,
      apply: () => {
        this.#base.versions.update(key, change);
        // the committed state holds it now, unless a later staged change of the entry is pending
        if (this.#histories.get(key)?.seq === seq) this.#histories.delete(key);
      },
    });
  }

  // EmittedMarks

  objectSpan(id: string): WindowTrace | undefined {
    // committed first: most marks asked for were committed long ago
    return this.#base.marks.objectSpan(id) ?? (this.#objects.size > 0 ? this.#objects.get(id)?.value : undefined);
  }

  markObjectSpan(id: string, t: WindowTrace): void {
    const seq = ++this.#seq;
    this.#objects.set(id, { value: t, seq });
    this.#log.push({
      seq,
      apply: () => {
        this.#base.marks.markObjectSpan(id, t);
        if (this.#objects.get(id)?.seq === seq) this.#objects.delete(id);
      },
    });
  }

  linkSpan(id: string): boolean {
    return this.#base.marks.linkSpan(id) || (this.#links.size > 0 && this.#links.has(id));
  }

  markLinkSpan(id: string): void {
    const seq = ++this.#seq;
    this.#links.set(id, { value: true, seq });
    this.#log.push({
      seq,
      apply: () => {
        this.#base.marks.markLinkSpan(id);
        if (this.#links.get(id)?.seq === seq) this.#links.delete(id);
      },
    });
  }
}
